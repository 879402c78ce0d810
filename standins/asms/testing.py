"""Run the ASMS sandbox inside a test process: ``AsmsSandboxServer`` and its control client.

with AsmsSandboxServer() as sandbox:
    token = sandbox.control.new_tenant()
    requests.get(f"{sandbox.api_url}/connection", headers={"TokenAsms": token}, timeout=5)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

from .backend import Backend
from .server import API_PREFIX, serve_in_thread

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class AsmsSandboxControlError(RuntimeError):
    def __init__(self, status: int, body: object):
        super().__init__(f"ASMS sandbox control answered {status}: {body}")
        self.status = status
        self.body = body


class AsmsSandboxControl:
    """Small client of the ``/_sandbox/`` control API (no token header needed)."""

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
            raise AsmsSandboxControlError(exc.code, payload) from None
        return json.loads(raw) if raw else None

    def new_tenant(self, seed: str = "empty") -> str:
        """A fresh isolated tenant (its own cases, counters, faults); answers its token."""
        return self._call("POST", "/tenants", {"seed": seed})["token"]

    def cases(self, token: str) -> list:
        """Every case of the tenant with its notes and attachments (the sandbox's own view)."""
        return self._call("GET", "/cases", query={"token": token})

    def move(self, token: str, ticket_id: str, state: str, commentary: str | None = None,
             responsible_id: int | None = None) -> dict:  # fmt: skip
        """A technician moves a case to ``state`` (e.g. "Solved" with a ``commentary``)."""
        body = {"token": token, "state": state, "commentary": commentary}
        if responsible_id is not None:
            body["responsibleId"] = responsible_id
        return self._call("POST", f"/cases/{quote(ticket_id, safe='')}/state", body)

    def technician_note(self, token: str, ticket_id: str, text: str, author: str | None = None):
        return self._call(
            "POST",
            f"/cases/{quote(ticket_id, safe='')}/notes",
            {"token": token, "text": text, "author": author},
        )

    def set_faults(self, **faults) -> dict:
        """error_rate, error_status, error_after_processing, timeout_rate, timeout_seconds,
        latency_ms, outage, operations (operationIds the faults apply to); ``token=`` limits
        them to one tenant."""
        return self._call("PUT", "/faults", faults)

    def clear_faults(self, token: str | None = None) -> dict:
        return self._call("DELETE", "/faults", query={"token": token})

    def configure(self, **settings) -> dict:
        """max_attachment_bytes."""
        return self._call("PUT", "/config", settings)

    def counters(self, token: str) -> dict:
        return self._call("GET", "/counters", query={"token": token})

    def reset(self) -> None:
        self._call("POST", "/reset", {})


class AsmsSandboxServer:
    """An ASMS sandbox on a free port of 127.0.0.1, served from a daemon thread.

    Attributes once started: ``url`` (the instance URL), ``api_url`` (with the base path),
    ``control`` (:class:`AsmsSandboxControl`), ``backend`` (the in-process :class:`Backend`).
    """

    def __init__(self, seed: str = "none", *, host: str = "127.0.0.1", port: int = 0):
        self.backend = Backend(seed=seed)
        self._host, self._port = host, port
        self._server = None
        self.url = self.api_url = ""
        self.control: AsmsSandboxControl | None = None

    def start(self) -> AsmsSandboxServer:
        self._server, _ = serve_in_thread(self.backend, self._host, self._port)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.api_url = self.url + API_PREFIX
        self.control = AsmsSandboxControl(self.url)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> AsmsSandboxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
