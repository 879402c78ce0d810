"""``manage.py sandbox serve``: run the Text Request sandbox as its own process."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand, CommandError

from standins.textrequest.backend import DEMO2_API_KEY, DEMO_API_KEY, Backend
from standins.textrequest.seeding import CustomerSimulator
from standins.textrequest.server import make_server
from standins.textrequest.state import StateKeeper, load


class Command(BaseCommand):
    help = "Run the local Text Request sandbox (a stand-in of the Text Request API v3)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help="Serve the sandbox over HTTP (seeded with demo data)")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=8001)
        serve.add_argument("--no-seed", action="store_true", help="start with no accounts at all")
        serve.add_argument("--contacts", type=int, default=None, help="demo contacts (default 60)")
        serve.add_argument("--messages", type=int, default=None, help="demo messages (default 600)")
        serve.add_argument("--seed-value", type=int, default=0, help="random seed of the demo data")
        serve.add_argument(
            "--simulate-customers",
            type=float,
            default=0,
            metavar="SECONDS",
            help="every SECONDS a demo customer texts in",
        )
        serve.add_argument("--rate-limit", type=int, default=100, help="calls per window and key")
        serve.add_argument("--rate-window", type=float, default=60.0, help="window in seconds")
        serve.add_argument("--delivery-delay", type=float, default=1.0, help="sending -> delivered")
        serve.add_argument("--verbose-http", action="store_true", help="log every request")
        serve.add_argument(
            "--state",
            metavar="PATH",
            help="keep the whole sandbox in this file: loaded at start when it exists, saved "
            "every --state-interval seconds while it changes and at shutdown",
        )
        serve.add_argument(
            "--state-interval", type=float, default=2.0, help="seconds between state saves"
        )

    def handle(self, *args, **options):
        if options["action"] != "serve":
            raise CommandError("unknown action")
        backend = Backend(
            seed="none" if options["no_seed"] else "demo",
            contacts=options["contacts"],
            messages=options["messages"],
            seed_value=options["seed_value"],
            rate_limit=options["rate_limit"],
            rate_window=options["rate_window"],
            delivery_delay=options["delivery_delay"],
        )
        restored = False
        if options["state"]:
            try:
                restored = load(backend, options["state"])
            except Exception as exc:  # noqa: BLE001 - say which file, never start half-loaded
                path = options["state"]
                raise CommandError(f"cannot load the sandbox state {path}: {exc}") from exc
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
        self.stdout.write(f"Text Request sandbox on {url}/api/v3  (control API: {url}/_sandbox/)")
        if options["state"]:
            how = "restored from" if restored else "new; saved to"
            self.stdout.write(f"State: {how} {options['state']}")
        if not options["no_seed"]:
            self.stdout.write(f"Demo API key:   {DEMO_API_KEY}")
            self.stdout.write(f"Second account: {DEMO2_API_KEY}")
            self.stdout.write(
                f"Try: curl -H 'x-api-key: {DEMO_API_KEY}' "
                f"'{url}/api/v3/dashboards?page=0&page_size=50'"
            )
        keeper = None
        if options["state"]:
            keeper = StateKeeper(backend, options["state"], options["state_interval"]).start()
        simulator = None
        if options["simulate_customers"] > 0 and DEMO_API_KEY in backend.accounts:
            simulator = CustomerSimulator(
                backend, DEMO_API_KEY, options["simulate_customers"], options["seed_value"]
            ).start()
            self.stdout.write(f"A demo customer texts in every {options['simulate_customers']:g} s")
        self.stdout.flush()
        # honcho and service managers stop processes with SIGTERM: leave like on Ctrl-C, so
        # the last state is saved
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            # a second signal (honcho sends SIGTERM after the terminal's SIGINT) must not
            # interrupt the last save
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            if simulator:
                simulator.stop()
            server.server_close()
            if keeper:
                keeper.stop()
                self.stdout.write(f"Sandbox state saved to {options['state']}")


def _interrupt(signum, frame):
    raise KeyboardInterrupt
