"""The base of textdesk's HTTP clients (Text Request, ASMS): one session, one reading of failure.

Every call a client makes ends in one of three ways a caller (above all the outboxes) must tell
apart, because neither service takes an idempotency key:

- **not sent** (``NotSent``): nothing reached the service (refused, unreachable, connect timeout,
  TLS). A retry is safe.
- **refused** (``Refused`` and its kinds): the service answered and did not act: a 4xx, or a 503
  (RFC 9110 §15.6.4: "currently unable to handle the request"). Permanent, except a 429
  (``RateLimited``) and a 503 (``Unavailable``), which are safe to retry after ``retry_after``.
- **outcome unknown** (``MaybeProcessed``: ``OutcomeUnknown``, ``ServerError``): the service may
  already have acted (a read timeout or reset after the request went out, an unreadable success
  answer, a 500, 502 or 504: a gateway's 502/504 says nothing of the application behind it).
  A write must be checked, never resent blindly.

Each flag says it for code that does not care about the class: ``transient`` (a later attempt
may succeed), ``maybe_processed``, ``safe_to_retry`` (``transient and not maybe_processed``).

Each service keeps its own family of these classes (``textrequest.errors``, ``asms.errors``):
its root (``TextRequestError``) and one subclass per kind, so ``except TextRequestError`` never
catches an ASMS failure. ``ServiceClient`` raises the family's class for each kind.

Messages and logs name the operation, never the secret (API key, token), a full URL or a body.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Self
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from django.conf import settings

USER_AGENT = "textdesk/0.1 (python-requests)"
# The wait after a 429 whose Retry-After is missing or unreadable.
FALLBACK_RETRY_AFTER = 5.0
REDACTED = "[redacted]"

_NOT_SENT_CAUSES = (
    urllib3.exceptions.NewConnectionError,  # refused, unreachable, DNS (NameResolutionError)
    urllib3.exceptions.ConnectTimeoutError,
)


# --- The error taxonomy ---------------------------------------------------------------------


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def service_url_error(url: str) -> str:
    """Why ``url`` may not be a service's address ("" when it may). The API key or token
    goes with every call, so only https://, or http:// to this machine's stand-ins in
    development (``TEXTDESK_ALLOW_HTTP_LOOPBACK``)."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return ""
    if parts.scheme == "http" and parts.hostname:
        if parts.hostname in LOOPBACK_HOSTS and settings.TEXTDESK_ALLOW_HTTP_LOOPBACK:
            return ""
        return (
            "Use an https:// address: the key is sent with every call and must never travel "
            "unencrypted."
        )
    return "Enter an https:// address."


class ServiceError(Exception):
    """A call to a service failed. ``status`` is the HTTP status (None when no answer came)
    and ``message`` the service's ``{"message": ...}`` text or our own description."""

    transient: bool = False
    maybe_processed: bool = False

    def __init__(self, status: int | None, message: str, *, operation: str | None = None):
        self.status = status
        self.message = message
        self.operation = operation
        super().__init__(status, message)

    @property
    def safe_to_retry(self) -> bool:
        return self.transient and not self.maybe_processed

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        code = f"HTTP {self.status}: " if self.status is not None else ""
        return f"{where}{code}{self.message}"


class NotSent(ServiceError):
    """Connection refused, connect timeout, DNS or TLS failure: nothing reached the service,
    so a retry is safe."""

    transient = True


class Refused(ServiceError):
    """The service answered and did not act on the request (a 4xx not named below)."""


class BadRequest(Refused):
    """400 or 422: refused as invalid. Permanent; record and show the service's message."""


class TooLarge(BadRequest):
    """413: the request (an attachment) is over the service's size limit."""


class Unauthorized(Refused):
    """401 or 403: the secret is missing, wrong or lacks access. Permanent until fixed."""


class NotFound(Refused):
    """404: no such entity (for a delete, it may already be gone) or no such route."""


class RateLimited(Refused):
    """429: the service refused to look at the call; safe to retry after ``retry_after``
    seconds (its ``Retry-After``: seconds or an HTTP date; when missing or unreadable,
    ``FALLBACK_RETRY_AFTER``)."""

    transient = True

    def __init__(
        self, status: int | None, message: str, *, retry_after: float, operation: str | None = None
    ):
        super().__init__(status, message, operation=operation)
        self.retry_after = retry_after


class Unavailable(Refused):
    """503: the service is down or in maintenance and did not handle the request (RFC 9110
    §15.6.4), so, like a 429, a retry is safe; ``retry_after`` is its ``Retry-After`` (0 when
    it gave none: the caller's backoff decides)."""

    transient = True

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        retry_after: float = 0.0,
        operation: str | None = None,
    ):
        super().__init__(status, message, operation=operation)
        self.retry_after = retry_after


class MaybeProcessed(ServiceError):
    """The service may or may not have acted. Never resend blindly; check first."""

    transient = True
    maybe_processed = True


class OutcomeUnknown(MaybeProcessed):
    """A read timeout, a reset after the request went out, or an unreadable success answer."""


class ServerError(MaybeProcessed):
    """500, 502, 504 and any other 5xx but 503: the service may have processed the request
    before failing."""


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 §10.2.3): delta-seconds or an
    HTTP date; None when missing or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# --- The client base ------------------------------------------------------------------------

_BY_STATUS: dict[int, type[ServiceError]] = {
    400: BadRequest,
    422: BadRequest,
    413: TooLarge,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    429: RateLimited,
    503: Unavailable,
}


class ServiceClient:
    """What both clients share: the session with the secret header, the ``(connect, read)``
    timeouts passed on every call, a hook before each call (``before_call``: Text Request's
    shared rate limiter), the error taxonomy and the redaction of the secret.

    A subclass sets ``service`` (its name in logs), ``error_root`` (the root of its error
    family) and ``api_url``, and makes each operation one ``self._call``. The client never
    retries by itself: the caller decides. A ``session`` passed in is taken over: the client
    sets its secret header."""

    service: ClassVar[str] = "the service"
    error_root: ClassVar[type[ServiceError]] = ServiceError
    api_url: str

    def __init__(
        self,
        *,
        secret_header: str,
        secret: str,
        timeout: float | tuple[float, float],
        session: requests.Session | None,
    ):
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers.update(
            {secret_header: secret, "Accept": "application/json", "User-Agent": USER_AGENT}
        )
        self._secrets = tuple(s for s in (secret,) if s)
        self.logger = logging.getLogger(type(self).__module__)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- Hooks for a subclass ----------------------------------------------------------------

    def before_call(self, operation: str) -> None:
        """Called before every request (Text Request takes a rate-limiter slot here); what it
        raises propagates and no request is made."""

    def on_rate_limited(self, operation: str, retry_after: float) -> None:
        """Called on every 429, before ``RateLimited`` is raised (Text Request sets its shared
        cooldown here)."""

    # --- The call ----------------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        root: str | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        """One call: hook, request, error mapping. Answers the decoded JSON body, or None for
        a 204 or an empty body. ``root`` replaces ``api_url`` for one call."""
        self.before_call(operation)
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                (root or self.api_url) + path,
                params=params,
                json=json,
                headers=headers,
                files=files,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(operation, exc) from exc
        self.logger.debug(
            "%s %s -> %s in %.0f ms",
            self.service,
            operation,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        if 200 <= response.status_code < 300:
            if response.status_code == 204 or not response.content.strip():
                return None
            try:
                return response.json()
            except ValueError:
                raise self._error(
                    OutcomeUnknown, response.status_code, "the answer was not valid JSON", operation
                ) from None
        raise self._http_error(operation, response)

    def _error(
        self, kind: type[ServiceError], status: int | None, message: str, operation: str, **extra
    ) -> ServiceError:
        """The service's own class for ``kind`` (see ``family_class``), message redacted."""
        cls = family_class(self.error_root, kind)
        return cls(status, self.redact(message), operation=operation, **extra)

    def _transport_error(self, operation: str, exc: Exception) -> ServiceError:
        """What a failed request says about whether it reached the service."""
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return self._error(NotSent, None, "connect timeout; nothing was sent", operation)
        if isinstance(exc, requests.exceptions.SSLError):
            return self._error(NotSent, None, "TLS handshake failed; nothing was sent", operation)
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = exc.args[0] if exc.args else None
            if isinstance(reason, urllib3.exceptions.MaxRetryError):
                reason = reason.reason
            if isinstance(reason, _NOT_SENT_CAUSES):
                message = f"could not connect ({type(reason).__name__}); nothing was sent"
                return self._error(NotSent, None, message, operation)
            message = "connection lost after the request went out; it may have been processed"
            return self._error(OutcomeUnknown, None, message, operation)
        if isinstance(exc, requests.exceptions.ReadTimeout):
            message = "no answer in time; the request may have been processed"
            return self._error(OutcomeUnknown, None, message, operation)
        message = f"{type(exc).__name__} during the call; outcome unknown"
        return self._error(OutcomeUnknown, None, message, operation)

    def _http_error(self, operation: str, response: requests.Response) -> ServiceError:
        """The error for an answer outside 2xx, by the one reading both services share."""
        status = response.status_code
        message = _answer_message(response) or response.reason or f"HTTP {status}"
        kind = _BY_STATUS.get(status)
        if kind is None:
            kind = (
                Refused if 400 <= status < 500 else ServerError if status >= 500 else ServiceError
            )
        if kind not in (RateLimited, Unavailable):
            return self._error(kind, status, message, operation)
        header = response.headers.get("Retry-After")
        retry_after = parse_retry_after(header)
        if kind is Unavailable:
            return self._error(kind, status, message, operation, retry_after=retry_after or 0.0)
        if retry_after is None:
            retry_after = FALLBACK_RETRY_AFTER
        self.on_rate_limited(operation, retry_after)
        self.logger.warning(
            "%s answered 429 to %s (%r); retry after %.1f s, Retry-After %r",
            self.service,
            operation,
            self,
            retry_after,
            self.redact(header or ""),
        )
        return self._error(kind, status, message, operation, retry_after=retry_after)

    def redact(self, text: str) -> str:
        """``text`` with the secret taken out (a service may echo it in an error message)."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


@functools.cache
def family_class(root: type[ServiceError], kind: type[ServiceError]) -> type[ServiceError]:
    """The class of ``root``'s family that stands for ``kind``: the subclass of ``root`` that
    names ``kind`` (or, if the family has none, the nearest kind above it) among its bases."""
    if issubclass(kind, root):
        return kind
    family = [root]
    for cls in family:
        family.extend(cls.__subclasses__())
    for base in kind.__mro__:
        for cls in family:
            if base in cls.__bases__:
                return cls
    raise TypeError(f"{kind.__name__} is not a ServiceError")


def _answer_message(response: requests.Response) -> str:
    """The service's own words: ``{"message": ...}`` (or ``Message``), or a JSON string."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, Mapping):
        return str(body.get("message") or body.get("Message") or "")
    if isinstance(body, str):
        return body
    return ""
