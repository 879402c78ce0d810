"""Entries recorded from signals: outbox changes people create, and sign-ins (the domains'
own outbox rows, texts and payment requests, through ``registry.track``).

Only rows with a person behind them are recorded (``created_by`` / ``sent_by``): sync and
webhooks create rows too, and those are not anyone's action. Creating rows with ``create()``
(never ``bulk_create``) is what the outbox services do, so every person's write is seen here.
"""

from __future__ import annotations

from django.contrib.auth import signals as auth_signals
from django.db.models.signals import post_save

from textdesk.audit import registry, services
from textdesk.outbox.models import Change


def _change_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw and instance.created_by_id:
        place = registry.where(instance.target_model, instance.target)
        services.record_change(instance, place)


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
    # The outbox is below the audit log; the domains above it call ``registry.track`` and
    # ``registry.place`` from their own ``ready()``.
    post_save.connect(_change_saved, sender=Change, dispatch_uid="audit-change")
    auth_signals.user_logged_in.connect(_signed_in, dispatch_uid="audit-sign-in")
    auth_signals.user_logged_out.connect(_signed_out, dispatch_uid="audit-sign-out")
    auth_signals.user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
