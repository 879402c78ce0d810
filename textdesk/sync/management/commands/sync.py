"""``manage.py sync [--dashboard ID] [--full]``: sync now, in the foreground."""

import time

from django.core.management.base import BaseCommand, CommandError

from textdesk.dashboards.models import Connection, Dashboard
from textdesk.dashboards.sync import register_hooks, sync_dashboards
from textdesk.sync.engine import sync_lines
from textdesk.textrequest import errors


class Command(BaseCommand):
    help = (
        "Sync lines from Text Request now (waits for the shared rate limiter instead of "
        "re-scheduling). Without --dashboard: every line of every active connection."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dashboard", type=int, help="Text Request's dashboard id (the line) to sync."
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="Read every list whole (also reflects deletions), not only what changed.",
        )

    def handle(self, *args, dashboard=None, full=False, **options):
        if dashboard is None:
            for connection in Connection.objects.filter(is_active=True):
                try:
                    sync_dashboards(connection)
                    register_hooks(connection)
                except errors.TextRequestError as exc:
                    self.stderr.write(f"{connection.name}: {exc}")
            lines = Dashboard.objects.active().filter(connection__is_active=True)
        else:
            lines = Dashboard.objects.active().filter(dashboard_id=dashboard)
            if not lines.exists():
                raise CommandError(f"No active line with dashboard id {dashboard}.")
        lines = list(lines.select_related("connection"))
        started = time.monotonic()
        sync_lines(lines, full=full)
        for line in lines:
            states = line.sync_states.all()
            errors_seen = [f"{s.resource}: {s.last_error}" for s in states if s.last_error]
            summary = f"{line.name} ({line.dashboard_id}): synced"
            if errors_seen:
                self.stderr.write(f"{summary} with errors: {'; '.join(errors_seen)}")
            else:
                self.stdout.write(self.style.SUCCESS(summary))
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s.")
