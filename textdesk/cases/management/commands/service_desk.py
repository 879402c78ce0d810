"""``manage.py service_desk connect|rotate-keys``: connect textdesk to an ASMS instance from the
shell (what ``make run`` does with the ASMS sandbox; the Admin → Service desk page does the
same), and re-encrypt the stored technician token with the newest FIELD_ENCRYPTION_KEY."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from textdesk.cases import services
from textdesk.cases.models import ServiceDesk


class Command(BaseCommand):
    help = "Connect textdesk to an ASMS instance (the connection is tested before it is saved)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        connect = sub.add_parser("connect", help="Test and save the instance URL and token")
        connect.add_argument("--url", required=True, help="the instance URL")
        connect.add_argument("--token", required=True, help="the technician's API token")
        connect.add_argument(
            "--if-missing", action="store_true", help="do nothing when a service desk is set"
        )
        connect.add_argument("--wait", type=float, default=0, help="seconds to wait for ASMS")
        sub.add_parser(
            "rotate-keys", help="Re-encrypt the token with the first FIELD_ENCRYPTION_KEY."
        )
        connect.add_argument(
            "--demo-defaults",
            action="store_true",
            help="file every line's new cases under the sandbox's IT Service Desk / Incident",
        )

    def handle(self, *args, action, **options):
        if action == "rotate-keys":
            count = services.rotate_token()
            self.stdout.write(f"Re-encrypted {count} technician token(s).")
            return
        self.connect(**options)

    def connect(self, *, url, token, if_missing, wait, demo_defaults, **options):
        if if_missing and ServiceDesk.objects.exists():
            self.stdout.write("A service desk is already connected.")
            if demo_defaults:
                # lines made since (a demo reset recreates them) still get the defaults
                services.set_demo_defaults()
            return
        deadline = time.monotonic() + wait
        while True:
            try:
                services.save_service_desk(
                    instance_url=url,
                    token=token,
                    user=None,
                    calls_per_minute=30,
                    transcript_texts=10,
                )
                break
            except services.CaseRefused as exc:
                if time.monotonic() >= deadline:
                    raise CommandError(exc.reason) from None
                time.sleep(0.5)
        self.stdout.write(self.style.SUCCESS(f"Service desk connected: {url}"))
        if demo_defaults:
            services.set_demo_defaults()
