"""pytest fixtures for tests that talk to the sandbox over HTTP.

Import them into a conftest (``from standins.textrequest.pytest_fixtures import *  # noqa``):
``sandbox_server`` is one server for the whole session; ``sandbox_account`` is a fresh empty
account per test (its own key, so its own rate-limit budget, counters and data).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from standins.core.fixtures import ApiCaller

from .testing import SandboxControl, SandboxServer

__all__ = ["SandboxAccount", "make_account", "sandbox_account", "sandbox_server"]


@dataclass
class SandboxAccount(ApiCaller):
    api_key: str
    api_url: str
    url: str
    dashboard_ids: list[int]
    control: SandboxControl

    @property
    def dashboard_id(self) -> int:
        return self.dashboard_ids[0]

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}


# The session server's settings; every new sandbox_account puts them back, so a test that
# changed the global config or faults cannot leak into the next one.
SESSION_CONFIG = {
    "rate_limit": 100,
    "rate_window": 60.0,
    "delivery_delay": 0.0,
    "webhook_retry_delays": [0.05, 0.1, 0.2],
    "webhook_timeout": 2.0,
    "callback_timeout": 5.0,
}


@pytest.fixture(scope="session")
def sandbox_server():
    """One sandbox for the session: exact 100/60 s limit, instant delivery, fast webhook retries."""
    with SandboxServer(
        delivery_delay=SESSION_CONFIG["delivery_delay"],
        webhook_retry_delays=SESSION_CONFIG["webhook_retry_delays"],
        webhook_timeout=SESSION_CONFIG["webhook_timeout"],
    ) as server:
        yield server


def make_account(server: SandboxServer, seed: str = "empty", **sizes) -> SandboxAccount:
    """A new isolated account on ``server``.

    ``sizes``: contacts, messages, dashboards, seed_value (see ``POST /_sandbox/accounts``).
    """
    key, dashboards = server.control.new_account(seed=seed, **sizes)
    return SandboxAccount(
        api_key=key,
        api_url=server.api_url,
        url=server.url,
        dashboard_ids=dashboards,
        control=server.control,
    )


@pytest.fixture
def sandbox_account(sandbox_server) -> SandboxAccount:
    """A brand-new empty account (one line with tags and custom fields, no contacts)."""
    sandbox_server.control.clear_faults()
    sandbox_server.control.configure(**SESSION_CONFIG)
    return make_account(sandbox_server)
