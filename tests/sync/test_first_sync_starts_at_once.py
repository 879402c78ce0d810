"""Connecting from the command line (as `make run`'s demo_setup does) starts the first sync at
once, instead of leaving the inbox empty until beat's first tick."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.textrequest_helpers import seeded_account
from textdesk.dashboards.models import Dashboard

pytestmark = pytest.mark.django_db


def _connect(account):
    call_command(
        "textrequest", "connect", "--name", "Demo", "--api-url", account.api_url,
        "--api-key", account.api_key, "--if-missing", stdout=StringIO(),
    )  # fmt: skip


def test_connect_command_enqueues_each_lines_sync(
    sandbox_server, monkeypatch, django_capture_on_commit_callbacks
):
    from textdesk.sync import tasks

    sent = []
    monkeypatch.setattr(tasks.sync_dashboard, "delay", lambda pk, *a, **k: sent.append(pk))
    account = seeded_account(sandbox_server, contacts=6, messages=12, dashboards=2)
    with django_capture_on_commit_callbacks(execute=True):
        _connect(account)
    assert sorted(sent) == sorted(Dashboard.objects.values_list("pk", flat=True))
    assert len(sent) == 2


def test_connect_waits_for_the_commit_before_enqueueing(
    sandbox_server, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from textdesk.sync import tasks

    sent = []
    monkeypatch.setattr(tasks.sync_dashboard, "delay", lambda pk, *a, **k: sent.append(pk))
    account = seeded_account(sandbox_server, contacts=6, messages=12, dashboards=1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        _connect(account)
        assert sent == []  # a worker must not look for a line that is not committed
    assert len(callbacks) == 1
    assert sent == list(Dashboard.objects.values_list("pk", flat=True))
