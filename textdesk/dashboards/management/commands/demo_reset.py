"""``manage.py demo_reset``: start the demo over, on both sides at once.

The sandbox keeps its state across restarts (``sandbox serve --state``) and textdesk keeps its
mirror of it; resetting only one side would leave the other showing texts that no longer
exist. This resets the sandbox to its freshly seeded state, deletes textdesk's copy of every
connection (lines, contacts, conversations, messages, payments, outbox rows and webhook
events go with them), then connects again and recreates the demo users, as ``demo_setup``
does at start. Staff accounts other than the demo users are kept.
"""

import json
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from textdesk.dashboards.models import Connection

# Never through an environment proxy: the sandbox is on this machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def control_url(api_url: str) -> str:
    """The sandbox's control API beside its API root: ``http://h:p/api/v3`` → ``http://h:p/_sandbox``."""
    parts = urlsplit(api_url)
    path = parts.path.rstrip("/")
    if path.endswith("/api/v3"):
        path = path[: -len("/api/v3")]
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/_sandbox", "", ""))


class Command(BaseCommand):
    help = "Reset the demo: the sandbox back to its seed and textdesk's copy of it, together."

    def add_arguments(self, parser):
        parser.add_argument(
            "--noinput", "--no-input", action="store_false", dest="interactive",
            help="Do not ask for confirmation.",
        )  # fmt: skip
        parser.add_argument(
            "--state",
            default=str(Path(settings.TEXTDESK_STATE_DIR) / "sandbox.state"),
            help="The sandbox's state file, deleted when the sandbox is not running "
            "(default: the one `make run` uses).",
        )

    def handle(self, *args, interactive: bool, state: str, **options):
        if not settings.DEBUG:
            # It deletes every connection, then makes the demo users: development only.
            raise CommandError("demo_reset is for development only (DEBUG=1).")
        api_url = settings.TEXTREQUEST_API_URL
        host = urlsplit(api_url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise CommandError(
                f"TEXTREQUEST_API_URL is {api_url}: demo_reset only resets a local sandbox."
            )
        if interactive:
            answer = input(
                "This deletes textdesk's copy of every connection and resets the sandbox.\n"
                "Type 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Reset cancelled.")
        self.reset_sandbox(control_url(api_url), Path(state))
        with transaction.atomic():
            deleted, _ = Connection.objects.all().delete()
        self.stdout.write(f"Deleted textdesk's copy of the sandbox ({deleted} rows).")
        if self.sandbox_running:
            call_command("demo_setup", stdout=self.stdout, stderr=self.stderr)
        else:
            self.stdout.write("Start `make run`: it connects to the fresh sandbox.")

    def reset_sandbox(self, url: str, state: Path) -> None:
        """Reset a running sandbox through its control API, or delete the state file of a
        stopped one (it then starts freshly seeded). Fails before textdesk loses anything."""
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL, checked above
            f"{url}/reset", data=b"{}", method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with _OPENER.open(request, timeout=30) as response:
                result = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise CommandError(f"The sandbox refused the reset ({exc.code}) at {url}") from exc
        except OSError:
            self.sandbox_running = False
            if state.exists():
                state.unlink()
                self.stdout.write(f"The sandbox is not running; deleted its state {state}.")
            else:
                self.stdout.write("The sandbox is not running and has no state file.")
            return
        if not result.get("reset"):
            raise CommandError(f"Unexpected answer from {url}/reset: {result!r}")
        self.sandbox_running = True
        self.stdout.write("The sandbox is back to its seeded state.")
