"""Small helpers for the two-factor tests: codes computed from a device's key, like an app."""

import time

from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery"


def code_for(device: TOTPDevice, *, seconds_ago: float = 0) -> str:
    """The code an authenticator app shows for ``device`` now (or some seconds ago)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() - seconds_ago
    return f"{totp.token():0{device.digits}d}"


def enrol(client, user) -> list[str]:
    """Set up two-factor through the pages, as a person would; answers the recovery codes."""
    client.get(reverse("accounts:two_factor_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("accounts:two_factor_setup"), {"code": code_for(device)})
    assert response.status_code == 200, response.content
    return list(response.context["codes"])


def make_enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """A confirmed authenticator and recovery codes, without going through the pages."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(10)]
    for code in codes:
        static.token_set.create(token=code)
    return device, codes


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password, **extra}
    )


def submit_code(client, code, **extra):
    return client.post(reverse("accounts:two_factor_verify"), {"code": code, **extra})
