"""``manage.py demo_reset``: start the demo over, on every side at once.

The stand-ins keep their state across restarts (``serve --state``) and textdesk keeps its
mirror of them; resetting only one side would leave the other showing texts or cases that no
longer exist. This resets the Text Request stand-in to its freshly seeded state, deletes
textdesk's copy of every connection (lines, contacts, conversations, messages, payments, cases,
outbox rows and webhook events go with them), resets the ASMS stand-in when the service desk
is one on this machine (its cases would otherwise point at conversations that are gone), then
connects again, recreates the demo users and files the new lines' cases under the demo's
service, as ``make run`` does at start. Staff accounts other than the demo users are kept.

It lives in ``sync``, the layer above every domain it resets.
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

from textdesk.cases import services as cases
from textdesk.cases.models import ServiceDesk
from textdesk.dashboards.models import Connection

# Never through an environment proxy: the sandbox is on this machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


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
        parser.add_argument(
            "--asms-state",
            default=str(Path(settings.TEXTDESK_STATE_DIR) / "asms.state"),
            help="The ASMS stand-in's state file, deleted when it is not running "
            "(default: the one `make run` uses).",
        )

    def handle(self, *args, interactive: bool, state: str, asms_state: str, **options):
        if not settings.DEBUG:
            # It deletes every connection, then makes the demo users: development only.
            raise CommandError("demo_reset is for development only (DEBUG=1).")
        api_url = settings.TEXTREQUEST_API_URL
        if not is_local(api_url):
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
        sandbox_running = self.reset_standin("The sandbox", control_url(api_url), Path(state))
        desk = ServiceDesk.current()
        if desk is not None and is_local(desk.instance_url):
            parts = urlsplit(desk.instance_url)
            self.reset_standin(
                "The service desk stand-in",
                urlunsplit((parts.scheme, parts.netloc, "/_sandbox", "", "")),
                Path(asms_state),
            )
        with transaction.atomic():
            deleted, _ = Connection.objects.all().delete()
        self.stdout.write(f"Deleted textdesk's copy of the sandbox ({deleted} rows).")
        if sandbox_running:
            call_command("demo_setup", stdout=self.stdout, stderr=self.stderr)
            if desk is not None and cases.set_demo_defaults():
                self.stdout.write("New cases of the demo's lines go to the IT Service Desk.")
        else:
            self.stdout.write("Start `make run`: it connects to the fresh sandbox.")

    def reset_standin(self, name: str, url: str, state: Path) -> bool:
        """Reset a running stand-in through its control API, or delete the state file of a
        stopped one (it then starts freshly seeded); True when it was running. Fails before
        textdesk loses anything."""
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL, checked above
            f"{url}/reset", data=b"{}", method="POST",
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        try:
            with _OPENER.open(request, timeout=30) as response:
                result = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise CommandError(f"{name} refused the reset ({exc.code}) at {url}") from exc
        except OSError:
            if state.exists():
                state.unlink()
                self.stdout.write(f"{name} is not running; deleted its state {state}.")
            else:
                self.stdout.write(f"{name} is not running and has no state file.")
            return False
        if not result.get("reset"):
            raise CommandError(f"Unexpected answer from {url}/reset: {result!r}")
        self.stdout.write(f"{name} is back to its seeded state.")
        return True
