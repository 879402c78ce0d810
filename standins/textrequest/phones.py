"""Phone-number normalisation (US/NANP) and SMS segment counting for the sandbox."""

from __future__ import annotations

import re

import phonenumbers

_ALLOWED = re.compile(r"^[0-9+().\-\s]+$")


class BadPhone(ValueError):
    """A phone number the sandbox refuses; the message is shown to the caller."""


def normalise_phone(value: object, field: str = "phone number") -> str:
    """Return the 10-digit NANP form of ``value`` or raise :class:`BadPhone`.

    Accepts the common spellings (``4239876543``, ``423-987-6543``, ``+1 (423) 987-6543``,
    ``14239876543``). Letters, other country codes and impossible NANP numbers are refused.
    """
    if not isinstance(value, str):
        raise BadPhone(f"{field} must be a string")
    text = value.strip()
    if not text:
        raise BadPhone(f"{field} is required")
    if len(text) > 40 or not _ALLOWED.match(text):
        raise BadPhone(f"{field} {value!r} is not a valid US phone number")
    try:
        parsed = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        raise BadPhone(f"{field} {value!r} is not a valid US phone number") from None
    national = str(parsed.national_number)
    if parsed.country_code != 1 or len(national) != 10:
        raise BadPhone(f"{field} {value!r} is not a valid US phone number (10 digits expected)")
    if national[0] in "01" or national[3] in "01" or parsed.italian_leading_zero:
        raise BadPhone(f"{field} {value!r} is not a valid NANP number")
    if national[1:3] == "11":
        raise BadPhone(f"{field} {value!r} uses an N11 service code, not an area code")
    return national


# GSM 03.38 basic character set and its extension table (extension chars cost two septets).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXT = set("^{}\\[~]|€\f")


def count_segments(body: str) -> int:
    """SMS segments billed for ``body``: GSM-7 160/153, otherwise UCS-2 70/67."""
    if not body:
        return 1
    if all(ch in _GSM_BASIC or ch in _GSM_EXT for ch in body):
        septets = sum(2 if ch in _GSM_EXT else 1 for ch in body)
        return 1 if septets <= 160 else -(-septets // 153)
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in body)
    return 1 if units <= 70 else -(-units // 67)
