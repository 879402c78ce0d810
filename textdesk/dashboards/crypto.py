"""Encryption at rest for Text Request API keys (MultiFernet: newest key first, old keys read)."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must hold Fernet keys (32 url-safe base64 bytes), "
            "comma-separated."
        ) from exc


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored API key cannot be decrypted with FIELD_ENCRYPTION_KEY; was a key dropped?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt with the newest key."""
    return _fernet().rotate(token.encode()).decode()
