"""Run the sandbox inside a test process: ``SandboxServer`` and its control client.

with SandboxServer(delivery_delay=0) as sandbox:
    key, dashboards = sandbox.control.new_account()
    requests.get(f"{sandbox.api_url}/dashboards", params={"page": 0, "page_size": 50},
                 headers={"x-api-key": key}, timeout=5)
"""

from __future__ import annotations

from standins.core.control import ControlClient, ControlError, StandinServer

from .backend import Backend
from .server import TextRequestApp


class SandboxControlError(ControlError):
    label = "sandbox"


class SandboxControl(ControlClient):
    """Small client of the ``/_sandbox/`` control API (never rate-limited, no key needed)."""

    error = SandboxControlError

    def new_account(self, seed: str = "empty", **sizes) -> tuple[str, list[int]]:
        """A fresh isolated account; ``sizes``: contacts, messages, dashboards, seed_value."""
        result = self._call("POST", "/accounts", {"seed": seed, **sizes})
        return result["api_key"], result["dashboards"]

    def inbound(self, api_key, dashboard_id, phone_number, body, media_urls=None) -> dict:
        """A customer texts in (STOP/START honoured, webhooks fire); answers the message."""
        return self._call("POST", "/inbound", {
            "api_key": api_key, "dashboard_id": dashboard_id, "phone_number": phone_number,
            "body": body, "media_urls": media_urls or [],
        })  # fmt: skip

    def share_location(
        self, api_key, dashboard_id, phone_number, latitude, longitude, accuracy=20
    ) -> dict:
        """The customer shares their location from the newest location request's link."""
        return self._call("POST", "/location", {
            "api_key": api_key, "dashboard_id": dashboard_id, "phone_number": phone_number,
            "latitude": latitude, "longitude": longitude, "accuracy": accuracy,
        })  # fmt: skip

    def pay(self, api_key, dashboard_id, payment_id, outcome: str = "paid") -> dict:
        """The customer pays through the portal (``outcome="declined"``: the card is declined)."""
        return self._call("POST", "/payments/pay", {
            "api_key": api_key, "dashboard_id": dashboard_id, "payment_id": payment_id,
            "outcome": outcome,
        })  # fmt: skip

    def set_payment_status(self, api_key, dashboard_id, payment_id, status: str) -> dict:
        """Give a payment any status word (e.g. the real service's ``PastDue``)."""
        return self._call("POST", "/payments/status", {
            "api_key": api_key, "dashboard_id": dashboard_id, "payment_id": payment_id,
            "textrequest_payment_status": status,
        })  # fmt: skip

    def set_delivery_status(self, api_key, message_id, status: str, error=None) -> dict:
        """Give a sent text any delivery status word (e.g. ``undelivered``, ``unclaimed``)."""
        return self._call("POST", "/messages/status", {
            "api_key": api_key, "message_id": message_id, "delivery_status": status,
            "delivery_error": error,
        })  # fmt: skip

    def set_faults(self, **faults) -> dict:
        """error_rate, latency_ms, timeout_rate, timeout_seconds, outage, storm_429,
        storm_retry_after, delivery_error_rate; ``api_key=`` limits them to one account."""
        return self._call("PUT", "/faults", faults)

    def clear_faults(self, api_key: str | None = None) -> dict:
        return self._call("DELETE", "/faults", query={"api_key": api_key})

    def configure(self, **settings) -> dict:
        """rate_limit, rate_window, delivery_delay, webhook_retry_delays, webhook_timeout,
        callback_timeout; ``api_key=`` makes them apply to that account only."""
        return self._call("PUT", "/config", settings)

    def counters(self, api_key: str) -> dict:
        return self._call("GET", "/counters", query={"api_key": api_key})

    def messages(self, api_key: str, dashboard_id=None, phone_number=None) -> list:
        return self._call("GET", "/messages", query={
            "api_key": api_key, "dashboard_id": dashboard_id, "phone_number": phone_number,
        })  # fmt: skip

    def add_tag(self, api_key, dashboard_id, tag, tag_color=None) -> dict:
        return self._call("POST", "/tags", {
            "api_key": api_key, "dashboard_id": dashboard_id, "tag": tag, "tag_color": tag_color,
        })  # fmt: skip

    def add_field(self, api_key, dashboard_id, name) -> dict:
        return self._call("POST", "/fields", {
            "api_key": api_key, "dashboard_id": dashboard_id, "name": name,
        })  # fmt: skip

    def add_scheduled(self, api_key, dashboard_id, **fields) -> dict:
        """A scheduled message (``phone_number``, ``body``, ``send_at``, ``recurrence``)."""
        return self._call("POST", "/scheduled", {
            "api_key": api_key, "dashboard_id": dashboard_id, **fields,
        })  # fmt: skip

    def advance_clock(self, seconds: float) -> dict:
        """Move the sandbox's data clock forward (e.g. to make a payment past due)."""
        return self._call("POST", "/clock", {"advance_seconds": seconds})

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait until every pending delivery, webhook and callback has run."""
        return self._call("POST", "/wait_idle", query={"timeout": timeout})["idle"]

    def reset(self) -> None:
        self._call("POST", "/reset", {})

    # -- signed callbacks and the world's contacts (webhooks) ---------------------------------

    def tamper_callbacks(self, api_key: str, mode: str, count: int = 1) -> dict:
        """The account's next ``count`` callbacks go out ``mode``: unsigned, bad_signature,
        stale_timestamp or replay (sent twice with the same headers and body)."""
        return self._call("POST", "/callbacks/tamper", {
            "api_key": api_key, "mode": mode, "count": count,
        })  # fmt: skip

    def create_contact(self, api_key, dashboard_id, phone_number, **names) -> dict:
        """Someone adds a contact in Text Request's own app, with no text (contact_created)."""
        return self._call("POST", "/contacts", {
            "api_key": api_key, "dashboard_id": dashboard_id, "phone_number": phone_number,
            **names,
        })  # fmt: skip

    def rotate_key(self, api_key: str) -> str:
        """The owner makes a new API key: the old one stops working; answers the new one."""
        return self._call("POST", "/accounts/rotate_key", {"api_key": api_key})["api_key"]


class SandboxServer(StandinServer):
    """A sandbox on a free port of 127.0.0.1, served from a daemon thread.

    Attributes once started: ``url`` (root), ``api_url`` (root + ``/api/v3``), ``control``
    (:class:`SandboxControl`), ``backend`` (the in-process :class:`Backend`).
    """

    app_class = TextRequestApp
    control_class = SandboxControl
    control: SandboxControl

    def __init__(
        self,
        seed: str = "empty",
        *,
        rate_limit: int = 100,
        rate_window: float = 60.0,
        delivery_delay: float = 1.0,
        webhook_retry_delays: list[float] | None = None,
        webhook_timeout: float = 5.0,
        seed_value: int = 0,
        contacts: int | None = None,
        messages: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        backend = Backend(
            seed="none" if seed == "empty" else seed,
            contacts=contacts,
            messages=messages,
            seed_value=seed_value,
            rate_limit=rate_limit,
            rate_window=rate_window,
            delivery_delay=delivery_delay,
            webhook_retry_delays=webhook_retry_delays,
            webhook_timeout=webhook_timeout,
        )
        super().__init__(backend, host, port)

    def stop(self) -> None:
        super().stop()
        self.backend.dispatcher.clear()
