"""A receiver on loopback that keeps what the Text Request stand-in POSTs (path, headers, raw
body), so tests can check the signature and hand the very same request to textdesk's receivers
through Django's test client (the live server needs PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Caught:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    def django_headers(self) -> dict[str, str]:
        """The signature headers as Django's test client takes them."""
        return {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in self.headers.items()
            if name.lower().startswith("x-tr-webhook-")
        }


class CallbackCatcher:
    def __init__(self):
        self.caught: list[Caught] = []
        self.lock = threading.Lock()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with catcher.lock:
                    catcher.caught.append(Caught(self.path, headers, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int = 1, timeout: float = 10.0, **match) -> list[Caught]:
        """Wait for ``count`` callbacks whose path contains each value of ``match``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [c for c in self.caught if all(v in c.path for v in match.values())]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        pytest.fail(f"{count} callbacks matching {match} not received within {timeout} s")

    def clear(self) -> None:
        with self.lock:
            self.caught.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="catcher")
def catcher_fixture():
    receiver = CallbackCatcher()
    yield receiver
    receiver.close()
