"""``manage.py asms_sandbox serve``: run the ASMS sandbox as its own process."""

from __future__ import annotations

from standins.asms.backend import DEMO_TOKEN, Backend
from standins.asms.server import API_PREFIX, AsmsApp
from standins.core.command import ServeCommand


class Command(ServeCommand):
    help = "Run the local ASMS sandbox (a stand-in of Aranda Service Management's connector API)."
    app_class = AsmsApp
    default_port = 8002
    serve_help = "Serve the sandbox over HTTP (with a demo tenant)"
    no_seed_help = "start with no tenant at all"
    keeps_state = True

    def add_serve_arguments(self, serve):
        serve.add_argument("--seed-value", type=int, default=0, help="random seed of the tokens")

    def make_backend(self, options):
        seed = "none" if options["no_seed"] else "demo"
        return Backend(seed=seed, seed_value=options["seed_value"])

    def describe(self, url):
        return f"ASMS sandbox on {url}{API_PREFIX}  (control API: {url}/_sandbox/)"

    def announce(self, url, backend, options):
        if not options["no_seed"]:
            self.stdout.write(f"Demo technician token: {DEMO_TOKEN}")
            self.stdout.write(
                f"Try: curl -H 'TokenAsms: {DEMO_TOKEN}' '{url}{API_PREFIX}/case/IT-1001'"
            )
