"""The Celery app. Two queues: `interactive` (agents' actions, prefetch 1) and `sync`.

Run one worker per queue so a long sync never delays an agent's text::

    celery -A textdesk worker -Q interactive --concurrency 4 --prefetch-multiplier 1
    celery -A textdesk worker -Q sync --concurrency 2 --prefetch-multiplier 1
    celery -A textdesk beat          # exactly one

Tasks enqueue on commit, by name (``enqueue`` below): tasks import services, never the
reverse, so a service names the task it wants instead of importing it. The Text Request limit is
not Celery's business: every call takes a slot from the shared limiter in
``textdesk/textrequest``.
"""

import importlib
import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "textdesk.settings")

app = Celery("textdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

INTERACTIVE = {"queue": "interactive"}

app.conf.task_default_queue = "sync"
app.conf.task_routes = {
    "textdesk.conversations.tasks.send_message": INTERACTIVE,
    "textdesk.conversations.tasks.settle_message": INTERACTIVE,
    "textdesk.payments.tasks.create_payment": INTERACTIVE,
    "textdesk.payments.tasks.settle_payment": INTERACTIVE,
    "textdesk.outbox.tasks.apply_change": INTERACTIVE,
    "textdesk.webhooks.tasks.process_event": INTERACTIVE,
    "textdesk.cases.tasks.create_case": INTERACTIVE,
    "textdesk.cases.tasks.settle_case": INTERACTIVE,
    "textdesk.cases.tasks.attach_transcript": INTERACTIVE,
    "textdesk.cases.tasks.send_note": INTERACTIVE,
    "textdesk.conversations.tasks.route_waiting": INTERACTIVE,
    # fill_history is sent to "interactive" explicitly when an agent waits for it.
    "textdesk.*": {"queue": "sync"},
}


def enqueue(
    task_name: str, *args, countdown: float | None = None, queue: str | None = None
) -> None:
    """Send the task named ``task_name`` (its dotted path) with ``args`` once the current
    transaction commits (at once outside one). Routed by ``task_routes`` unless ``queue``
    says otherwise."""
    from django.db import transaction

    options = {"countdown": countdown or None}
    if queue:
        options["queue"] = queue
    transaction.on_commit(lambda: _send(task_name, args, options))


def _send(task_name: str, args: tuple, options: dict) -> None:
    if app.conf.task_always_eager:
        # send_task ignores eager mode (tests, no broker): run the registered task in-process.
        if task_name not in app.tasks:
            importlib.import_module(task_name.rpartition(".")[0])
        app.tasks[task_name].apply_async(args, **options)
        return
    app.send_task(task_name, args, **options)


@after_setup_logger.connect
@after_setup_task_logger.connect
def redact_webhook_tokens(logger, **kwargs) -> None:
    """A worker replaces the root logger's handlers (and gives the task logger its own), so
    the filter settings.LOGGING puts on ours would be lost: put it on Celery's too."""
    from textdesk.logs import redact_handlers

    redact_handlers(logger)


app.conf.beat_schedule = {
    # Each line's incremental cycle; the task itself decides which resources are due.
    "sync-due": {
        "task": "textdesk.sync.tasks.sync_due",
        "schedule": float(os.environ.get("TEXTDESK_SYNC_INTERVAL", "30")),
    },
    # The outbox's safety net: lost pending rows, dead workers, unknown outcomes.
    "sweep-outbox": {"task": "textdesk.outbox.tasks.sweep_outbox", "schedule": 15.0},
    # Scheduled texts that are due: released to the outbox at sync priority, each once.
    "send-due-texts": {"task": "textdesk.conversations.tasks.send_due_texts", "schedule": 15.0},
    # Automatic assignment's safety net and idle agents going Away (conversations/routing.py).
    "route-waiting": {"task": "textdesk.conversations.tasks.route_waiting", "schedule": 15.0},
    # Webhook events received but never processed (a lost task).
    "sweep-events": {"task": "textdesk.webhooks.tasks.sweep_events", "schedule": 60.0},
    # Audit entries past TEXTDESK_AUDIT_RETENTION_DAYS.
    "prune-audit": {"task": "textdesk.audit.tasks.prune_entries", "schedule": 24 * 3600.0},
    # ASMS cases: open cases' progress, within a budget of calls per minute.
    "refresh-cases": {"task": "textdesk.cases.tasks.refresh_cases", "schedule": 60.0},
    # SLA: alerts for clocks due soon or just run out (each once), and recounts of lines whose
    # policy or hours changed when the task enqueued on save was lost.
    "sla-alerts": {"task": "textdesk.conversations.tasks.raise_sla_alerts", "schedule": 60.0},
    "sla-recount": {"task": "textdesk.conversations.tasks.recount_sla", "schedule": 300.0},
    # Reports: fold the texts and resolves since the last run into the daily rollups.
    "refresh-reports": {
        "task": "textdesk.reports.tasks.refresh_reports",
        "schedule": float(os.environ.get("TEXTDESK_REPORTS_INTERVAL", "60")),
    },
}
