"""Case creation with a real Celery worker process (not eager): a worker killed while ASMS is
creating the case never leads to a second case.

Needs PostgreSQL (the worker must share the test database) and Redis (the broker)."""

import signal
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.cases_helpers import NEW_CASE, add_texts, connect_desk
from tests.conftest import make_conversation
from tests.outbox.test_outbox_worker import real_worker_mode, start_worker, stop  # noqa: F401
from tests.textrequest_helpers import wait_until
from textdesk.cases import delivery, services
from textdesk.cases.models import Case
from textdesk.outbox.delivery import STALE_SENDING

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_worker_killed_while_asms_creates_the_case_makes_one_case(
    real_worker_mode,  # noqa: F811
    asms_tenant,
    settings,
    line,
    agent,
):
    connect_desk(asms_tenant)
    conversation = make_conversation(line, first_name="Casey")
    add_texts(conversation, "The portal logs me out every minute")
    asms_tenant.control.set_faults(
        token=asms_tenant.token, latency_ms=3000, operations=["CreateCase"]
    )
    worker = start_worker(settings)
    try:
        case = services.request_case(
            conversation=conversation,
            user=agent,
            subject="Logged out",
            description="Every minute",
            **NEW_CASE,
            group_id=31,
            client_key=uuid.uuid4(),
        )
        wait_until(lambda: Case.objects.get(pk=case.pk).status == "sending", timeout=30)
        time.sleep(0.5)
        stop(worker, signal.SIGKILL)  # dies while ASMS is still working on the request
    except BaseException:
        print(stop(worker))
        raise
    asms_tenant.control.clear_faults(asms_tenant.token)
    time.sleep(3)  # ASMS finishes the request the dead worker made
    assert asms_tenant.counters()["cases_created"] == 1

    worker = start_worker(settings)
    try:
        # Beat's sweeper: the row outlived any worker -> unknown -> its marker is found.
        def settled():
            delivery.sweep_cases(now=timezone.now() + STALE_SENDING + timedelta(seconds=1))
            return Case.objects.get(pk=case.pk).status == "created"

        wait_until(settled, timeout=40, step=1.0)
    finally:
        log = stop(worker)
    case.refresh_from_db()
    assert case.code == "IT-1001", log
    counters = asms_tenant.counters()
    assert counters["cases_created"] == 1
    assert counters["calls"]["CreateCase"] == 1
