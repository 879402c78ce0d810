"""The follow-up queue's bulk payment reminders (texts textdesk sends in a batch) never reach a
customer in quiet hours: each waits for the next allowed minute in the customer's clock,
checked when it is sent (Text Request stand-in as the world)."""

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.conftest import make_user
from tests.textrequest_helpers import connect, lines_of
from textdesk.outbox.changes import sweep_changes
from textdesk.outbox.models import Change
from textdesk.payments import followup, services
from textdesk.payments.models import Payment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.quiet_hours]
CHICAGO = ZoneInfo("America/Chicago")
PHONES = ["6155550151", "6155550152"]  # Nashville: Central time


def quiet_now(line) -> datetime:
    """A window that makes it quiet now in Chicago; answers the next allowed minute (UTC)."""
    local = timezone.now().astimezone(CHICAGO)
    if local.hour < 22:
        start = (local + timedelta(hours=1)).time().replace(second=0, microsecond=0)
        line.quiet_start, line.quiet_end = start, time(0)
        allowed = datetime.combine(local.date(), start, CHICAGO)
    else:
        line.quiet_start, line.quiet_end = time(0), time(local.hour - 1)
        allowed = datetime.combine(local.date() + timedelta(days=1), time(0), CHICAGO)
    line.save(update_fields=["quiet_start", "quiet_end"])
    return allowed.astimezone(ZoneInfo("UTC"))


def reminders_sent(account) -> int:
    counters = account.control.counters(account.api_key)
    return sum(r["count"] for r in counters["sent"] if r["body"].startswith("Reminder from"))


def sweep(rounds=5):
    """What beat's sweeper does over time: anything due is sent (or held again)."""
    for _ in range(rounds):
        sweep_changes(min_age=timedelta(0))


def test_bulk_reminders_wait_for_the_customers_next_allowed_minute(sandbox_account):
    account = sandbox_account
    line = lines_of(connect(account))[0]
    fran = make_user("fran", "Finance")
    for i, phone in enumerate(PHONES):
        services.request_payment(
            dashboard=line, phone_number=phone, user=fran, amount=f"{30 + i}.00",
            message="Your invoice", description="", reference_number=f"INV-Q{i}",
            client_key=uuid.uuid4(),
        )  # fmt: skip
    Payment.objects.update(requested_at=timezone.now() - timedelta(days=5))
    allowed = quiet_now(line)
    followup.send_reminders(followup.queue(Payment.objects.all()), user=fran)
    Change.objects.filter(kind="remind_payment").update(not_before=timezone.now())  # paced: due
    sweep()
    reminders = Change.objects.filter(kind="remind_payment")
    assert [(c.status, c.not_before) for c in reminders] == [("pending", allowed)] * 2
    assert reminders_sent(account) == 0
    line.quiet_start = line.quiet_end = time(0)  # the allowed minute comes
    line.save(update_fields=["quiet_start", "quiet_end"])
    reminders.update(not_before=timezone.now())
    sweep()
    assert sorted(c.status for c in Change.objects.filter(kind="remind_payment")) == ["done"] * 2
    assert reminders_sent(account) == 2
