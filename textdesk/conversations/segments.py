"""How many SMS segments a text costs: GSM 03.38 (GSM-7) or UCS-2.

A text that fits the GSM-7 alphabet takes 160 septets in one segment, 153 per part when split
(the rest is the concatenation header). One character outside it makes the whole text UCS-2:
70 UTF-16 code units in one segment, 67 per part. Characters of the extension table
(``^ { } \\ [ ~ ] | €``) take an escape plus the character, so they count two, and neither an
escaped pair nor a surrogate pair (an emoji) is ever split across two parts.

``static/js/inbox.js`` mirrors these rules for the live counter; keep the two in step.
"""

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # what a person counts: one per code point
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    remaining: int  # units left in the last segment before another one starts


def _sizes(text: str) -> tuple[str, list[int]]:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        return "GSM-7", [2 if ch in GSM7_EXTENDED else 1 for ch in text]
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def count_segments(text: str) -> Segments:
    """Segments, encoding and units of ``text``, as a carrier bills it."""
    encoding, sizes = _sizes(text)
    single, multi = (GSM7_SINGLE, GSM7_MULTI) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)
    units = sum(sizes)
    if units <= single:
        return Segments(encoding, len(text), units, 1 if units else 0, single - units)
    parts, used = 1, 0
    for size in sizes:
        if used + size > multi:  # never split an escaped pair or a surrogate pair
            parts, used = parts + 1, 0
        used += size
    return Segments(encoding, len(text), units, parts, multi - used)
