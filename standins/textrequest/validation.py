"""Errors and input checks shared by every part of the sandbox backend.

:class:`SandboxError` (the stand-ins' ``StandinError``) carries the real HTTP status and
message of a refusal, answered in the real service's shape (:func:`error_body`); the
helpers below read JSON bodies, query strings, phone numbers and paging the same way for
every operation, so the same mistake gets the same 400 everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from standins.core.errors import StandinError as SandboxError
from standins.core.errors import as_object, bad

from .phones import BadPhone, normalise_phone

__all__ = ["SandboxError", "as_object", "bad"]  # shared by every part of the backend

INT_RE = re.compile(r"^-?\d{1,12}$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
PHONEISH_RE = re.compile(r"^[0-9+().\-\s]+$")


# errorCode by HTTP status when the error names no code of its own
ERROR_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    404: "NotFound",
    405: "MethodNotAllowed",
    411: "LengthRequired",
    413: "PayloadTooLarge",
    414: "UriTooLong",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    431: "RequestHeaderFieldsTooLarge",
    500: "InternalServerError",
    501: "NotImplemented",
    503: "ServiceUnavailable",
    505: "HttpVersionNotSupported",
}


def error_body(status: int, message: str, code: str | None = None) -> dict:
    """The real service's error shape (docs/textrequest-api.md): clients read only ``message``."""
    return {
        "status": status,
        "message": message,
        "errorCode": code or ERROR_CODES.get(status, "Error"),
    }


# -- JSON bodies ------------------------------------------------------------------------------


def opt_str(body: dict, name: str, max_len: int = 255) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f"{name} must be a string")
    if len(value) > max_len:
        raise bad(f"{name} must be at most {max_len} characters")
    return value


def req_str(body: dict, name: str, max_len: int = 255) -> str:
    value = opt_str(body, name, max_len)
    if value is None or not value.strip():
        raise bad(f"{name} is required")
    return value.strip()


def opt_bool(body: dict, name: str) -> bool | None:
    if name not in body:
        return None
    value = body[name]
    if not isinstance(value, bool):
        raise bad(f"{name} must be true or false")
    return value


def opt_url(body: dict, name: str) -> str | None:
    value = opt_str(body, name, 2000)
    if value is None or value == "":
        return None
    if not URL_RE.match(value):
        raise bad(f"{name} must be an http(s) URL")
    return value


def parse_phone(value: object, field: str = "phone number") -> str:
    """A NANP number in any common spelling -> 10 digits, or a 400."""
    try:
        return normalise_phone(value, field)
    except BadPhone as exc:
        raise bad(str(exc)) from None


# -- query strings and paging -----------------------------------------------------------------


def query_bool(q: dict, name: str, default: bool | None = None) -> bool | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return default
    low = raw.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise bad(f"{name} must be true or false")


def query_int(q: dict, name: str) -> int | None:
    raw = q.get(name)
    if raw is None or raw == "":
        return None
    if not INT_RE.match(raw.strip()):
        raise bad(f"{name} must be an integer")
    return int(raw)


def paging(q: dict) -> tuple[int, int]:
    """``(page, page_size)``: 0-based page, 1..100 items. Both are optional on every list, as
    on the real service (the definition's defaults 0 and 50); present but invalid is a 400."""
    page = query_int(q, "page")
    size = query_int(q, "page_size")
    if page is None:
        page = 0
    if size is None:
        size = 50
    if page < 0:
        raise bad("page must be 0 or more")
    if not 1 <= size <= 100:
        raise bad("page_size must be between 1 and 100")
    return page, size


def page_of(items: list, page: int, size: int, render: Callable) -> dict:
    """One page of ``items`` in the Text Request paged shape (``meta`` + ``items``)."""
    chunk = items[page * size : page * size + size]
    return {
        "meta": {"page": page, "page_size": len(chunk), "total_items": len(items)},
        "items": [render(x) for x in chunk],
    }
