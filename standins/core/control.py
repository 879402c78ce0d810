"""The client of a stand-in's control API (``/_sandbox/``), and a stand-in run in a thread.

A service subclasses :class:`ControlClient` with one method per control route and
:class:`StandinServer` with its backend, app and control client.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

from .app import StandinApp, serve_in_thread

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


class ControlError(RuntimeError):
    """The control API refused a call: its ``status`` and ``body``."""

    label = "sandbox"

    def __init__(self, status: int, body: object):
        super().__init__(f"{self.label} control answered {status}: {body}")
        self.status = status
        self.body = body


class ControlClient:
    """Small client of the ``/_sandbox/`` control API (never rate-limited, no credential)."""

    error = ControlError

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body: dict | None = None, query: dict | None = None):
        url = f"{self.url}/_sandbox{path}"
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310
        req.add_header("Content-Type", "application/json")
        try:
            with _OPENER.open(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = raw.decode("utf-8", "replace")
            raise self.error(exc.code, payload) from None
        return json.loads(raw) if raw else None


class StandinServer:
    """A stand-in on a free port of 127.0.0.1, served from a daemon thread.

    Attributes once started: ``url`` (root), ``api_url`` (root + the API's base path),
    ``control`` (the service's :class:`ControlClient`), ``backend`` (the in-process backend).
    """

    app_class: type[StandinApp]
    control_class: type[ControlClient]
    thread_name = "sandbox-http"

    def __init__(self, backend, host: str = "127.0.0.1", port: int = 0):
        self.backend = backend
        self._host, self._port = host, port
        self._server = None
        self.url = self.api_url = ""
        self.control = None

    def start(self):
        app = self.app_class(self.backend)
        self._server, _ = serve_in_thread(app, self._host, self._port, name=self.thread_name)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.api_url = self.url + app.api_prefix
        self.control = self.control_class(self.url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
