"""``manage.py asms_sandbox serve``: run the ASMS sandbox as its own process."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from standins.asms.backend import DEMO_TOKEN, Backend
from standins.asms.server import API_PREFIX, make_server


class Command(BaseCommand):
    help = "Run the local ASMS sandbox (a stand-in of Aranda Service Management's connector API)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="Serve the sandbox over HTTP (with a demo tenant)")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=8002)
        serve.add_argument("--no-seed", action="store_true", help="start with no tenant at all")
        serve.add_argument("--seed-value", type=int, default=0, help="random seed of the tokens")
        serve.add_argument("--verbose-http", action="store_true", help="log every request")

    def handle(self, *args, **options):
        if options["action"] != "serve":
            raise CommandError("unknown action")
        backend = Backend(
            seed="none" if options["no_seed"] else "demo", seed_value=options["seed_value"]
        )
        try:
            server = make_server(
                backend, options["host"], options["port"], verbose=options["verbose_http"]
            )
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        host, port = server.server_address[:2]
        url = f"http://{host}:{port}"
        self.stdout.write(f"ASMS sandbox on {url}{API_PREFIX}  (control API: {url}/_sandbox/)")
        if not options["no_seed"]:
            self.stdout.write(f"Demo technician token: {DEMO_TOKEN}")
            self.stdout.write(
                f"Try: curl -H 'TokenAsms: {DEMO_TOKEN}' '{url}{API_PREFIX}/case/IT-1001'"
            )
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
