"""Helpers of the service-desk case tests (imported, not a conftest)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from textdesk.cases.models import LineDefaults, ServiceDesk
from textdesk.conversations.models import Message

NEW_CASE = {"project_id": 1, "item_type_id": 1, "service_id": 11, "category_id": 111}


def connect_desk(tenant, **extra) -> ServiceDesk:
    desk = ServiceDesk(instance_url=tenant.url, **extra)
    desk.set_token(tenant.token)
    desk.save()
    return desk


def set_defaults(line, **ids) -> LineDefaults:
    return LineDefaults.objects.create(dashboard=line, **{**NEW_CASE, "group_id": 31, **ids})


def add_texts(conversation, *bodies, start=None):
    """Texts alternating customer / agent, a minute apart."""
    start = start or timezone.now() - timedelta(hours=1)
    for i, body in enumerate(bodies):
        Message.objects.create(
            conversation=conversation,
            direction=Message.Direction.RECEIVED if i % 2 == 0 else Message.Direction.SENT,
            body=body,
            sender_name="" if i % 2 == 0 else "Sam",
            sent_at=start + timedelta(minutes=i),
            status=Message.Status.RECEIVED if i % 2 == 0 else Message.Status.SENT,
        )
