"""What Text Request accepts as MMS attachments (docs/textrequest-api.md: ``POST /mms``).

The compose form checks a file here before anything is stored or sent, so an agent learns of
a wrong type or size at once, with the text they typed kept.
"""

from __future__ import annotations

MB = 1024 * 1024
MAX_ATTACHMENTS = 3
# File extension -> the MIME type sent with the upload.
TYPES = {
    "csv": "text/csv",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
    "pdf": "application/pdf",
    "gif": "image/gif",
    "txt": "text/plain",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "mp4": "video/mp4",
    "vcard": "text/vcard",
    "vcf": "text/vcard",
}
IMAGE_EXTENSIONS = {"jpeg", "jpg", "png", "gif"}
MAX_BYTES = {"pdf": 1 * MB}
DEFAULT_MAX_BYTES = 5 * MB
ACCEPT = ",".join(f".{ext}" for ext in TYPES)  # for <input type=file accept=...>
TYPE_NAMES = "JPEG, PNG, GIF, PDF, CSV, TXT, XLSX, MP4 or vCard (VCF)"


def extension(file_name: str) -> str:
    return file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""


def problem(file_name: str, size: int) -> str | None:
    """Why Text Request would refuse this file, in a sentence for the agent; None if fine."""
    ext = extension(file_name)
    if ext not in TYPES:
        return f"“{file_name}” cannot be sent: attach a {TYPE_NAMES} file."
    if size == 0:
        return f"“{file_name}” is empty."
    limit = MAX_BYTES.get(ext, DEFAULT_MAX_BYTES)
    if size > limit:
        kind = "A PDF" if ext == "pdf" else "A file"
        return f"“{file_name}” is {size / MB:.1f} MB: {kind} can be at most {limit // MB} MB."
    return None


def content_type(file_name: str) -> str:
    return TYPES.get(extension(file_name), "application/octet-stream")
