"""MMS uploads (a mixin of :class:`Backend`): Text Request's ``POST /mms``.

docs/textrequest-api.md (evidence): a multipart upload (field ``file``) answers
``{"mime_type", "url"}``;
the types are csv, jpeg, png, pdf, gif, txt, xlsx, mp4, vcard and vcf; a PDF may be at most
1 MB and anything else 5 MB; a text carries at most 3 attachments, and SendMessage's
``mms_media`` takes only URLs the service issued. The sandbox keeps the bytes in the account
(plain data, so ``state.py`` pickles them) and serves them back at the issued URL, so a
browser can show the picture as it would from Text Request's storage.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

from .records import Account
from .validation import bad

MB = 1024 * 1024
MAX_ATTACHMENTS = 3
# extension -> the MIME type answered; what the evidence lists as valid types
MMS_TYPES = {
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
MAX_BYTES = {"pdf": 1 * MB}
DEFAULT_MAX_BYTES = 5 * MB
# The whole multipart body of POST /mms may pass the 1 MB limit of every other route.
MAX_UPLOAD_BODY = DEFAULT_MAX_BYTES + 64 * 1024
MMS_PATH = "/mms/"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def extension(file_name: str) -> str:
    return file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""


class MmsMixin:
    """UploadMms, the served files, and the check of ``mms_media``."""

    def upload_mms(self, key: str, base_url: str, file_name: str, content: bytes) -> dict:
        ext = extension(file_name)
        if ext not in MMS_TYPES:
            raise bad(
                f"File type {ext or 'unknown'!r} is not supported for MMS: send one of "
                "csv, jpeg, png, pdf, gif, txt, xlsx, mp4, vcard, vcf"
            )
        if not content:
            raise bad("The file is empty")
        limit = MAX_BYTES.get(ext, DEFAULT_MAX_BYTES)
        if len(content) > limit:
            raise bad(
                f"The file is {len(content)} bytes; a {ext} attachment may be at most "
                f"{limit // MB} MB"
            )
        mime = MMS_TYPES[ext]
        with self.lock:
            acct = self.account(key)
            token = secrets.token_hex(12)
            name = _SAFE_NAME.sub("-", file_name)[-80:] or f"file.{ext}"
            url = f"{base_url.rstrip('/')}{MMS_PATH}{token}/{quote(name)}"
            mms_store(acct)[token] = (url, mime, name, bytes(content))
            self.changes += 1
            return {"mime_type": mime, "url": url}

    def mms_file(self, token: str) -> tuple[str, str, bytes] | None:
        """(mime type, file name, bytes) of an upload, from any account (URLs are public)."""
        with self.lock:
            for acct in self.accounts.values():
                found = mms_store(acct).get(token)
                if found is not None:
                    return found[1], found[2], found[3]
        return None

    def check_mms_media(self, acct: Account, media: list[str], hosted_prefix: str) -> None:
        """``mms_media`` takes only URLs this account was issued: its uploads, and the
        re-hosted media of texts it received."""
        if len(media) > MAX_ATTACHMENTS:
            raise bad(f"mms_media takes at most {MAX_ATTACHMENTS} attachments")
        uploads = {entry[0] for entry in mms_store(acct).values()}
        hosted = mms_hosted(acct)
        for url in media:
            if url in uploads or (url.startswith(hosted_prefix) and url in hosted):
                continue
            raise bad(
                f"mms_media {url!r} is not a URL from this account's MMS uploads; "
                "upload the file with POST /mms first"
            )


def mms_store(acct: Account) -> dict:
    """token -> (url, mime type, file name, bytes) of the account's uploads."""
    if acct.mms is None:
        acct.mms = {}
    return acct.mms


def mms_hosted(acct: Account) -> set:
    """The re-hosted URLs of media the account received (inbound MMS)."""
    if acct.mms_hosted is None:
        acct.mms_hosted = set()
    return acct.mms_hosted
