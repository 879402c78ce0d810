"""Two-factor sign-in (django-otp's TOTP and static devices) and the list of signed-in sessions.

Two-factor: a person's authenticator is a confirmed ``TOTPDevice``; their recovery codes are a
``StaticDevice`` with ten single-use tokens. django-otp holds the secrets, checks codes (with
its own back-off after each wrong one, and refusing a TOTP code that was already used) and we
add django-axes' count on top, so wrong codes lock the username from that address like wrong
passwords do.

Sessions: one ``SignedInSession`` per signed-in browser, created on ``user_logged_in`` and kept
fresh by ``SessionActivityMiddleware`` at most once a minute.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from base64 import b32encode
from datetime import timedelta
from importlib import import_module

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from textdesk.accounts.models import SecurityPolicy, SignedInSession, User
from textdesk.audit import services as audit

RECOVERY_CODE_COUNT = 10
REMEMBER_COOKIE = "td_2fa_remember"
REMEMBER_DAYS = 30
_REMEMBER_SALT = "textdesk.accounts.two-factor.remember"
PENDING_KEY = "_td_2fa_pending"  # the password step passed; waiting for the code
ENROL_KEY = "_td_2fa_enrol"  # signed in, but must set up two-factor before anything else
SEEN_KEY = "_td_seen"  # when this session's row was last touched (epoch seconds)
PENDING_SECONDS = 5 * 60
SEEN_EVERY_SECONDS = 60


class CodeRefused(Exception):
    """A code was not accepted; ``str(error)`` is the message to show."""


# --- two-factor ------------------------------------------------------------------------------


def authenticator(user: User) -> TOTPDevice | None:
    """The person's confirmed authenticator app, or None when two-factor is off for them."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def people_with_two_factor() -> set[int]:
    """Ids of the people whose two-factor is on (one query for a whole list)."""
    return set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))


def pending_authenticator(user: User) -> TOTPDevice:
    """The unconfirmed authenticator being set up (the same key until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def typed_key(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG (no image request, no script: the CSP allows it)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    # Drop the XML declaration: the SVG goes inside HTML.
    return re.sub(r"^<\?xml[^>]*>\s*", "", svg)


def normalise_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _is_totp(code: str) -> bool:
    return len(code) == 6 and code.isdigit()


def _throttled(device) -> str | None:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    return "Too many wrong codes in a row. Wait a few seconds, then try the newest code."


def _axes_credentials(user: User) -> dict:
    return {"username": user.get_username()}


def is_locked(request, user: User) -> bool:
    """django-axes' lock on this username from this address (passwords and codes count)."""
    return AxesProxyHandler.is_locked(request, _axes_credentials(user))


def check_code(request, user: User, code: str, *, allow_recovery: bool = True):
    """The device that accepts ``code`` (the app's code or, if allowed, an unused recovery code,
    which is then spent). A refusal counts toward django-axes' lock, is audited and raises
    ``CodeRefused``."""
    code = normalise_code(code)
    device = None
    if _is_totp(code):
        device = authenticator(user)
    elif allow_recovery:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        message = _throttled(device)
        if message:
            raise CodeRefused(message)
        if device.verify_token(code):
            return device
    AxesProxyHandler.user_login_failed(
        sender=check_code, credentials=_axes_credentials(user), request=request
    )
    audit.record(
        actor=user,
        kind="two_factor_failed",
        summary=f"Wrong two-factor code for {user.display_name}",
        status="failed",
        request=request,
    )
    if _is_totp(code) or not allow_recovery:
        raise CodeRefused(
            "That code is not right, or was already used. Enter the newest code from your app."
        )
    raise CodeRefused("That recovery code is not right, or was already used.")


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def enrol(request, *, user: User, code: str) -> list[str]:
    """Turn two-factor on with the first code from the app; answers the new recovery codes
    (to show once). A wrong code raises ``CodeRefused`` and leaves it off."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise CodeRefused("Start again: open the set-up page to get a new key.")
    message = _throttled(device)
    if message:
        raise CodeRefused(message)
    if not device.verify_token(normalise_code(code)):
        raise CodeRefused(
            "That code is not right. Check that your phone's clock is set automatically and "
            "enter the code the app shows now."
        )
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    request.session.pop(ENROL_KEY, None)
    audit.record(
        actor=user,
        kind="two_factor",
        summary=f"{user.display_name} turned on two-factor sign-in",
        request=request,
    )
    return codes


def _check_password_and_code(request, user: User, password: str, code: str) -> None:
    if not user.check_password(password):
        AxesProxyHandler.user_login_failed(
            sender=_check_password_and_code, credentials=_axes_credentials(user), request=request
        )
        raise CodeRefused("Your password is not right.")
    check_code(request, user, code)


@transaction.atomic
def regenerate_recovery_codes(request, *, user: User, password: str, code: str) -> list[str]:
    """New recovery codes (the old ones stop working), with the password and a current code."""
    _check_password_and_code(request, user, password, code)
    codes = _new_recovery_codes(user)
    audit.record(
        actor=user,
        kind="two_factor",
        summary=f"{user.display_name} made new recovery codes",
        request=request,
    )
    return codes


def _remove_devices(user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def turn_off(request, *, user: User, password: str, code: str) -> None:
    """A person turns their own two-factor off (to move to a new phone): the password and a code
    from the app or a recovery code. Where it is required they must set it up again at once."""
    _check_password_and_code(request, user, password, code)
    _remove_devices(user)
    audit.record(
        actor=user,
        kind="two_factor",
        summary=f"{user.display_name} turned off two-factor sign-in",
        request=request,
    )
    if SecurityPolicy.current().requires_two_factor(user):
        request.session[ENROL_KEY] = True


@transaction.atomic
def reset(request, *, person: User) -> None:
    """An Admin removes a person's authenticator and recovery codes (a lost phone). Browsers
    remembered for the old authenticator stop being trusted, as their cookie names it."""
    _remove_devices(person)
    audit.record(
        actor=request.user,
        kind="two_factor_reset",
        summary=f"Reset two-factor sign-in of {person.display_name}",
        request=request,
    )


@transaction.atomic
def set_policy(request, *, two_factor: str) -> SecurityPolicy:
    policy = SecurityPolicy.current()
    if policy.two_factor != two_factor:
        policy.two_factor = two_factor
        policy.updated_by = request.user
        policy.save()
        audit.record(
            actor=request.user,
            kind="security_policy",
            summary=f"Two-factor sign-in: {policy.get_two_factor_display().lower()}",
            request=request,
        )
    return policy


# --- the code step of signing in --------------------------------------------------------------


def _fingerprint(device: TOTPDevice) -> str:
    # Names this very key: after a reset or a new set-up the remembered browser is not trusted.
    return hashlib.sha256(f"{device.pk}:{device.key}".encode()).hexdigest()[:32]


def remember_browser(response, user: User, device: TOTPDevice) -> None:
    value = f"{user.pk}:{_fingerprint(device)}"
    response.set_signed_cookie(
        REMEMBER_COOKIE,
        value,
        salt=_REMEMBER_SALT,
        max_age=REMEMBER_DAYS * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def is_remembered(request, user: User, device: TOTPDevice) -> bool:
    value = request.get_signed_cookie(
        REMEMBER_COOKIE, default=None, salt=_REMEMBER_SALT, max_age=REMEMBER_DAYS * 24 * 3600
    )
    return value == f"{user.pk}:{_fingerprint(device)}"


def needs_code(request, user: User) -> bool:
    """After the password: does this sign-in need a code (two-factor on, browser not trusted)?"""
    device = authenticator(user)
    return device is not None and not is_remembered(request, user, device)


def begin_code_step(request, user: User, next_url: str) -> None:
    """Hold the password step's result in the still anonymous session, for a few minutes."""
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "at": timezone.now().timestamp(),
    }


def pending_user(request) -> tuple[User, str, str] | None:
    """(user, backend, next URL) of a sign-in waiting for its code, if still fresh."""
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if timezone.now().timestamp() - float(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user = User.objects.filter(pk=pending.get("user"), is_active=True).first()
    if user is None:
        return None
    return user, pending["backend"], pending.get("next") or settings.LOGIN_REDIRECT_URL


def finish_sign_in(request, user: User, backend: str) -> None:
    request.session.pop(PENDING_KEY, None)
    auth_login(request, user, backend=backend)


# --- signed-in sessions -----------------------------------------------------------------------


def _fernet() -> MultiFernet:
    # The same keys as the API keys' encryption (settings.FIELD_ENCRYPTION_KEYS), never derived
    # from SECRET_KEY.
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def _hash(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _client_ip(request) -> str | None:
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or None


def track_session(request, user: User) -> None:
    """On sign-in: a row for this browser; the session ends a working day after sign-in however
    active it is (the row's once-a-minute touch must not stretch it)."""
    session = request.session
    session.set_expiry(timedelta(seconds=settings.SESSION_COOKIE_AGE))
    now = timezone.now()
    session[SEEN_KEY] = now.timestamp()
    if session.session_key is None:
        session.save()
    if SecurityPolicy.current().requires_two_factor(user) and authenticator(user) is None:
        session[ENROL_KEY] = True
    SignedInSession.objects.update_or_create(
        key_hash=_hash(session.session_key),
        defaults={
            "user": user,
            "encrypted_key": _fernet().encrypt(session.session_key.encode()).decode(),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "ip_address": _client_ip(request),
            "last_seen_at": now,
        },
    )
    # Rows of sessions that ended by themselves (expiry) are of no use to anyone.
    SignedInSession.objects.filter(
        user=user, created_at__lt=now - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    ).delete()


def touch_session(request) -> None:
    """At most once a minute per session: last seen and address (a missing row is recreated,
    e.g. for a session older than this feature)."""
    session = request.session
    now = timezone.now()
    seen = session.get(SEEN_KEY)
    if isinstance(seen, int | float) and now.timestamp() - seen < SEEN_EVERY_SECONDS:
        return
    session[SEEN_KEY] = now.timestamp()
    if session.session_key is None:
        return
    updated = SignedInSession.objects.filter(key_hash=_hash(session.session_key)).update(
        last_seen_at=now, ip_address=_client_ip(request)
    )
    if not updated:
        track_session(request, request.user)


def rekey_session(request, *, old_key: str | None) -> None:
    """This browser's session got a new key (Django cycles it on a password change)."""
    key = request.session.session_key
    if old_key and key and key != old_key:
        SignedInSession.objects.filter(key_hash=_hash(old_key)).update(
            key_hash=_hash(key), encrypted_key=_fernet().encrypt(key.encode()).decode()
        )


def forget_session(request) -> None:
    """On sign-out: this browser's row goes with its session."""
    key = getattr(request, "session", None) and request.session.session_key
    if key:
        SignedInSession.objects.filter(key_hash=_hash(key)).delete()


def active_sessions(user: User):
    since = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return SignedInSession.objects.filter(user=user, created_at__gte=since).order_by(
        "-last_seen_at", "-id"
    )


def is_current(request, row: SignedInSession) -> bool:
    return bool(request.session.session_key) and row.key_hash == _hash(request.session.session_key)


def _end(rows) -> int:
    store = _store()
    count = 0
    for row in rows:
        # A key encrypted with a key no longer configured: its session ends at its expiry.
        with contextlib.suppress(InvalidToken):
            store(session_key=_fernet().decrypt(row.encrypted_key.encode()).decode()).delete()
        row.delete()
        count += 1
    return count


def end_session(request, *, row: SignedInSession) -> None:
    """Sign one of the person's own other browsers out."""
    _end([row])
    audit.record(
        actor=request.user,
        kind="sign_out_forced",
        summary=f"Signed out {describe_browser(row.user_agent)} ({row.ip_address or 'unknown'})",
        request=request,
    )


def end_other_sessions(request, *, user: User, reason: str) -> int:
    """Every session of ``user`` except this browser's (after a password change, or asked)."""
    keep = _hash(request.session.session_key or "")
    count = _end(SignedInSession.objects.filter(user=user).exclude(key_hash=keep))
    if count:
        audit.record(
            actor=request.user,
            kind="sign_out_forced",
            summary=f"{reason}: ended {count} other session{'s' if count != 1 else ''} of "
            f"{user.display_name}",
            request=request,
        )
    return count


def end_all_sessions(request, *, person: User) -> int:
    """An Admin signs a person out of every browser (e.g. when they leave)."""
    count = _end(SignedInSession.objects.filter(user=person))
    audit.record(
        actor=request.user,
        kind="sign_out_forced",
        summary=f"Signed {person.display_name} out everywhere ({count} "
        f"session{'s' if count != 1 else ''})",
        request=request,
    )
    return count


_BROWSERS = [
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
    ("Opera", r"OPR/(\d+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Safari", r"Version/(\d+)[.\d]* (?:Mobile/\w+ )?Safari/"),
]
_SYSTEMS = [
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux"),
]


def describe_browser(user_agent: str) -> str:
    """ "Chrome 131 on Windows" from a User-Agent string (enough to recognise one's own)."""
    browser = next(
        (
            f"{name} {match.group(1)}"
            for name, pattern in _BROWSERS
            if (match := re.search(pattern, user_agent or ""))
        ),
        "",
    )
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, user_agent or "")), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"
