"""The refusal every stand-in raises: the real HTTP status, message and headers of an error.

Each service's app renders the body in that service's shape (Text Request answers
``{"status", "message", "errorCode"}``, ASMS ``{"message"}``), so the core and the backends
raise the same :class:`StandinError` whatever service they stand in for.
"""

from __future__ import annotations


class StandinError(Exception):
    """An answer other than success: HTTP ``status``, ``message``, extra ``headers`` and, where
    the service names its errors, a ``code``."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.code = code


def bad(message: str) -> StandinError:
    return StandinError(400, message)


def as_object(body: object) -> dict:
    """A JSON body that must be an object."""
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object")
    return body


def object_or_empty(body: object) -> dict:
    """A control API body: an object, or nothing at all."""
    return {} if body is None else as_object(body)
