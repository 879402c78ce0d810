import socket
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from textdesk.accounts.models import User
from textdesk.dashboards.models import Connection, SavedReply

# The sandbox's fixed demo account (see standins/textrequest/backend.py).
DEMO_API_KEY = "tr_demo_4f1c2a9e7b3d"
# The demo business's saved replies (every line), so the composer's `/` has something to offer.
DEMO_REPLIES = [
    ("booked", "You're booked! Our technician will text you when they're on the way."),
    ("onmyway", "Your technician is on the way and should be there in about 20 minutes."),
    (
        "estimate",
        "Thanks for reaching out! Could you send a photo of the problem? We'll text "
        "you an estimate within the hour.",
    ),  # fmt: skip
    (
        "afterhours",
        "Thanks for your text! We're closed right now and will answer first thing "
        "tomorrow. For a burst pipe or no heat, call our emergency line.",
    ),  # fmt: skip
    ("thanks", "Thanks for choosing us! If you have a minute, a review helps a lot."),
]


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
        self.saved_replies()
        self.stdout.write(
            self.style.SUCCESS(
                "\ntextdesk is starting: open http://127.0.0.1:8000 and sign in as above.\n"
            )
        )

    def saved_replies(self) -> None:
        """The demo's saved replies, once: a demo whose admin removed them keeps it so."""
        if SavedReply.objects.exists():
            return
        admin = User.objects.filter(username="admin").first()
        SavedReply.objects.bulk_create(
            SavedReply(shortcut=shortcut, body=body, created_by=admin)
            for shortcut, body in DEMO_REPLIES
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
