"""Run the ASMS sandbox inside a test process: ``AsmsSandboxServer`` and its control client.

with AsmsSandboxServer() as sandbox:
    token = sandbox.control.new_tenant()
    requests.get(f"{sandbox.api_url}/connection", headers={"TokenAsms": token}, timeout=5)
"""

from __future__ import annotations

from urllib.parse import quote

from standins.core.control import ControlClient, ControlError, StandinServer

from .backend import Backend
from .server import AsmsApp


class AsmsSandboxControlError(ControlError):
    label = "ASMS sandbox"


class AsmsSandboxControl(ControlClient):
    """Small client of the ``/_sandbox/`` control API (no token header needed)."""

    error = AsmsSandboxControlError

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


class AsmsSandboxServer(StandinServer):
    """An ASMS sandbox on a free port of 127.0.0.1, served from a daemon thread.

    Attributes once started: ``url`` (the instance URL), ``api_url`` (with the base path),
    ``control`` (:class:`AsmsSandboxControl`), ``backend`` (the in-process :class:`Backend`).
    """

    app_class = AsmsApp
    control_class = AsmsSandboxControl
    control: AsmsSandboxControl
    thread_name = "asms-sandbox-http"

    def __init__(self, seed: str = "none", *, host: str = "127.0.0.1", port: int = 0):
        super().__init__(Backend(seed=seed), host, port)
