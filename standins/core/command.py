"""The base of every stand-in's ``manage.py <name> serve`` command.

Serves the backend over HTTP until Ctrl-C or SIGTERM (honcho and service managers stop
processes with SIGTERM: it leaves like on Ctrl-C). With ``--state`` (where the service keeps
state, ``keeps_state``) the backend lives in a file: loaded at start, saved while it changes
and at shutdown (state.py). A service names itself, its default port and seed, builds its
backend, prints how to reach it and may start helpers that stop with it.
"""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand, CommandError

from .app import StandinApp, make_server
from .state import StateKeeper, load


class ServeCommand(BaseCommand):
    app_class: type[StandinApp]
    default_port: int
    serve_help = "Serve the sandbox over HTTP"
    no_seed_help = "start with no data at all"
    keeps_state = False

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        serve = sub.add_parser("serve", help=self.serve_help)
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=self.default_port)
        serve.add_argument("--no-seed", action="store_true", help=self.no_seed_help)
        self.add_serve_arguments(serve)
        serve.add_argument("--verbose-http", action="store_true", help="log every request")
        if self.keeps_state:
            serve.add_argument(
                "--state",
                metavar="PATH",
                help="keep the whole sandbox in this file: loaded at start when it exists, "
                "saved every --state-interval seconds while it changes and at shutdown",
            )
            serve.add_argument(
                "--state-interval", type=float, default=2.0, help="seconds between state saves"
            )

    # -- what a service provides --------------------------------------------------------------

    def add_serve_arguments(self, serve) -> None:
        """The service's own options of ``serve``."""

    def make_backend(self, options: dict):
        raise NotImplementedError

    def describe(self, url: str) -> str:
        """The first line: where the stand-in answers."""
        raise NotImplementedError

    def announce(self, url: str, backend, options: dict) -> None:
        """What else to say once it listens (its demo credentials)."""

    def start_helpers(self, backend, options: dict) -> list:
        """Things that run beside the server (each has ``stop()``), stopped before it."""
        return []

    # -- serving ------------------------------------------------------------------------------

    def handle(self, *args, **options):
        if options["action"] != "serve":
            raise CommandError("unknown action")
        backend = self.make_backend(options)
        state = options.get("state")
        restored = False
        if state:
            try:
                restored = load(backend, state)
            except Exception as exc:  # noqa: BLE001 - say which file, never start half-loaded
                raise CommandError(f"cannot load the sandbox state {state}: {exc}") from exc
        host, port = options["host"], options["port"]
        try:
            server = make_server(self.app_class(backend), host, port, options["verbose_http"])
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        host, port = server.server_address[:2]
        url = f"http://{host}:{port}"
        self.stdout.write(self.describe(url))
        if state:
            how = "restored from" if restored else "new; saved to"
            self.stdout.write(f"State: {how} {state}")
        self.announce(url, backend, options)
        keeper = StateKeeper(backend, state, options["state_interval"]).start() if state else None
        helpers = self.start_helpers(backend, options)
        self.stdout.flush()
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
            for helper in helpers:
                helper.stop()
            server.server_close()
            if keeper:
                keeper.stop()
                self.stdout.write(f"Sandbox state saved to {state}")


def _interrupt(signum, frame):
    raise KeyboardInterrupt
