import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from textdesk.dashboards.models import Connection

# The sandbox's fixed demo account (see standins/textrequest/backend.py).
DEMO_API_KEY = "tr_demo_4f1c2a9e7b3d"


class Command(BaseCommand):
    help = (
        "For `make run`: wait for Text Request (the sandbox by default), connect to it once, "
        "create the demo users and print how to sign in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=60, help="Seconds to wait for the API.")

    def handle(self, *args, wait, **options):
        if not settings.DEBUG:
            # Their passwords are printed here and in the README: never on a real deployment.
            raise CommandError("Demo users are for development only (DEBUG=1).")
        api_url = settings.TEXTREQUEST_API_URL
        api_key = settings.TEXTREQUEST_API_KEY or DEMO_API_KEY
        self.wait_for_api(api_url, wait)
        if not Connection.objects.exists():
            self.stdout.write(f"Connecting to Text Request at {api_url} …")
            call_command(
                "textrequest", "connect", "--name", "Demo account",
                "--api-url", api_url, "--api-key", api_key, "--if-missing",
            )  # fmt: skip
        call_command("demo_users")
        self.stdout.write(
            self.style.SUCCESS(
                "\ntextdesk is starting: open http://127.0.0.1:8000 and sign in as above.\n"
            )
        )

    def wait_for_api(self, api_url: str, wait: float) -> None:
        """Wait until the API's port accepts connections (an API call would spend quota)."""
        parts = urlsplit(api_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        deadline = time.monotonic() + wait
        while True:
            try:
                socket.create_connection((parts.hostname, port), timeout=2).close()
                return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise CommandError(f"Text Request is not answering at {api_url}") from exc
                time.sleep(0.5)
