"""The ASMS (Aranda Service Management Suite) connector client.

The only code in textdesk that speaks HTTP to ASMS. Plain package: it imports nothing from
the domain apps.
"""

from .client import BASE_PATH, NOTE_MAX_LENGTH, AsmsClient, check_note, instance_api_url
from .errors import (
    AsmsError,
    BadRequest,
    NotFound,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    Refused,
    ServerError,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from .types import Case, Catalogue, Choice, CreatedCase, Filter, format_date, parse_date

__all__ = [
    "BASE_PATH",
    "NOTE_MAX_LENGTH",
    "AsmsClient",
    "AsmsError",
    "BadRequest",
    "Case",
    "Catalogue",
    "Choice",
    "CreatedCase",
    "Filter",
    "NotFound",
    "NotSent",
    "OutcomeUnknown",
    "RateLimited",
    "Refused",
    "ServerError",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
    "check_note",
    "format_date",
    "instance_api_url",
    "parse_date",
]
