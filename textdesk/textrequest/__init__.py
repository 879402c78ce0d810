"""The Text Request API v3 client and the shared rate limiter in front of it.

The only code in textdesk that speaks HTTP to Text Request. Plain package: it imports nothing
from the domain apps (Django settings are read only by ``limiter.get_limiter``).
"""

from .client import TextRequestClient, iter_items, iter_pages, parse_retry_after
from .errors import (
    BadRequest,
    LimiterBusy,
    NotFound,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    Refused,
    ServerError,
    TextRequestError,
    Unauthorized,
    Unavailable,
)
from .limiter import FileLimiter, RedisLimiter, get_limiter
from .types import (
    Contact,
    Conversation,
    CustomField,
    CustomFieldValue,
    Dashboard,
    Group,
    Hook,
    Message,
    Page,
    Payment,
    ScheduledMessage,
    SentMessage,
    StatusCallback,
    Tag,
    WebhookEvent,
)

__all__ = [
    "BadRequest",
    "Contact",
    "Conversation",
    "CustomField",
    "CustomFieldValue",
    "Dashboard",
    "FileLimiter",
    "Group",
    "Hook",
    "LimiterBusy",
    "Message",
    "NotFound",
    "NotSent",
    "OutcomeUnknown",
    "Page",
    "Payment",
    "RateLimited",
    "RedisLimiter",
    "Refused",
    "ScheduledMessage",
    "SentMessage",
    "ServerError",
    "StatusCallback",
    "Tag",
    "TextRequestClient",
    "TextRequestError",
    "Unauthorized",
    "Unavailable",
    "WebhookEvent",
    "get_limiter",
    "iter_items",
    "iter_pages",
    "parse_retry_after",
]
