"""Entries recorded from signals: outbox rows people create, and sign-ins.

Only rows with a person behind them are recorded (``created_by`` / ``sent_by``): sync and
webhooks create rows too, and those are not anyone's action. Creating rows with ``create()``
(never ``bulk_create``) is what the outbox services do, so every person's write is seen here.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_save

from textdesk.audit import services


def _change_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.created_by_id:
        services.record_change(instance)


def _message_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.sent_by_id and instance.direction == "S":
        services.record_text(instance)


def _payment_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.created_by_id and instance.client_key:
        services.record_payment_request(instance)


def _signed_in(sender, request, user, **kwargs) -> None:
    services.record(actor=user, kind="sign_in", summary="Signed in", request=request)


def _signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.record(actor=user, kind="sign_out", summary="Signed out", request=request)


def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    services.record(
        actor=None,
        actor_name=username,
        kind="sign_in_failed",
        summary=f"Failed sign-in as “{username}”",
        status="failed",
        request=request,
    )


def connect() -> None:
    # By name: the audit log sits below the domains and imports none of them.
    Change = apps.get_model("outbox", "Change")  # noqa: N806
    Message = apps.get_model("conversations", "Message")  # noqa: N806
    Payment = apps.get_model("payments", "Payment")  # noqa: N806
    post_save.connect(_change_saved, sender=Change, dispatch_uid="audit-change")
    post_save.connect(_message_saved, sender=Message, dispatch_uid="audit-message")
    post_save.connect(_payment_saved, sender=Payment, dispatch_uid="audit-payment")
    auth_signals.user_logged_in.connect(_signed_in, dispatch_uid="audit-sign-in")
    auth_signals.user_logged_out.connect(_signed_out, dispatch_uid="audit-sign-out")
    auth_signals.user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
