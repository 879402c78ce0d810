"""pytest fixtures for tests that talk to the ASMS sandbox over HTTP.

Import them into a conftest (``from standins.asms.pytest_fixtures import ...``):
``asms_server`` is one server for the whole session; ``asms_tenant`` is a fresh tenant per
test (its own token, cases, counters and faults).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from standins.core.fixtures import ApiCaller

from .testing import AsmsSandboxControl, AsmsSandboxServer

__all__ = ["AsmsTenant", "asms_server", "asms_tenant", "make_tenant"]


@dataclass
class AsmsTenant(ApiCaller):
    token: str
    url: str  # the instance URL, as an admin types it
    api_url: str
    control: AsmsSandboxControl

    @property
    def headers(self) -> dict[str, str]:
        return {"TokenAsms": self.token}

    def counters(self) -> dict:
        return self.control.counters(self.token)

    def cases(self) -> list:
        return self.control.cases(self.token)


@pytest.fixture(scope="session")
def asms_server():
    """One ASMS sandbox for the session."""
    with AsmsSandboxServer() as server:
        yield server


def make_tenant(server: AsmsSandboxServer, seed: str = "empty") -> AsmsTenant:
    token = server.control.new_tenant(seed)
    return AsmsTenant(token=token, url=server.url, api_url=server.api_url, control=server.control)


@pytest.fixture
def asms_tenant(asms_server) -> AsmsTenant:
    """A brand-new tenant with the seeded catalogue and no cases; global faults cleared."""
    asms_server.control.clear_faults()
    asms_server.control.configure(max_attachment_bytes=5 * 1024 * 1024)
    return make_tenant(asms_server)
