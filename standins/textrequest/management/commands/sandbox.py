"""``manage.py sandbox serve``: run the Text Request sandbox as its own process."""

from __future__ import annotations

from standins.core.command import ServeCommand
from standins.textrequest.backend import DEMO2_API_KEY, DEMO_API_KEY, Backend
from standins.textrequest.seeding import CustomerSimulator, ScheduledPayments
from standins.textrequest.server import TextRequestApp


class Command(ServeCommand):
    help = "Run the local Text Request sandbox (a stand-in of the Text Request API v3)."
    app_class = TextRequestApp
    default_port = 8001
    serve_help = "Serve the sandbox over HTTP (seeded with demo data)"
    no_seed_help = "start with no accounts at all"
    keeps_state = True

    def add_serve_arguments(self, serve):
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

    def make_backend(self, options):
        return Backend(
            seed="none" if options["no_seed"] else "demo",
            contacts=options["contacts"],
            messages=options["messages"],
            seed_value=options["seed_value"],
            rate_limit=options["rate_limit"],
            rate_window=options["rate_window"],
            delivery_delay=options["delivery_delay"],
        )

    def describe(self, url):
        return f"Text Request sandbox on {url}/api/v3  (control API: {url}/_sandbox/)"

    def announce(self, url, backend, options):
        if not options["no_seed"]:
            self.stdout.write(f"Demo API key:   {DEMO_API_KEY}")
            self.stdout.write(f"Second account: {DEMO2_API_KEY}")
            self.stdout.write(
                f"Try: curl -H 'x-api-key: {DEMO_API_KEY}' "
                f"'{url}/api/v3/dashboards?page=0&page_size=50'"
            )

    def start_helpers(self, backend, options):
        # The demo's customers pay the requests seeded to be paid soon after the start.
        helpers = [ScheduledPayments(backend).start()]
        every = options["simulate_customers"]
        if every <= 0 or DEMO_API_KEY not in backend.accounts:
            return helpers
        simulator = CustomerSimulator(backend, DEMO_API_KEY, every, options["seed_value"])
        self.stdout.write(f"A demo customer texts in every {every:g} s")
        return [*helpers, simulator.start()]
