"""The demo seed: the same seed gives the same data, and it looks like 90 days of a small
business (staff answer within business hours, minutes after the customer, with a few slow
replies; recent payment requests are open and some will be paid in the portal soon)."""

import statistics
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from standins.textrequest import backend as backend_module
from standins.textrequest.backend import DEMO_API_KEY, Backend
from standins.textrequest.seeding import HISTORY_DAYS, PAY_SOON

NOW = 1_796_000_000.0  # a fixed clock: the demo is laid out relative to "now"


class _Frozen:
    @staticmethod
    def time() -> float:
        return NOW


@pytest.fixture
def demo(monkeypatch):
    """Seeds a demo Backend on a fixed clock (only the sandbox module's, only while seeding:
    other threads of the session keep the real time)."""

    def make(**options) -> Backend:
        with monkeypatch.context() as m:
            m.setattr(backend_module, "time", _Frozen)
            return Backend(seed="demo", **options)

    return make


def _everything(b: Backend, key: str) -> list:
    acct = b.accounts[key]
    out = []
    for dash in acct.dashboards.values():
        out.append((dash.id, dash.name, dash.phone, sorted(dash.tags), sorted(dash.groups)))
        for contact in dash.contacts.values():
            out.append(
                (contact.phone, contact.display_name, contact.is_resolved, contact.is_archived,
                 tuple(contact.tags), [(m.id, m.direction, m.body, m.at) for m in contact.messages])
            )  # fmt: skip
        for p in dash.payments.values():
            out.append((p.id, p.request_at, p.amount, p.status, p.reminder_sent, p.pays_at))
    return out


def test_the_same_seed_gives_the_same_demo(demo):
    a, b = demo(), demo()
    assert _everything(a, DEMO_API_KEY) == _everything(b, DEMO_API_KEY)
    other = demo(seed_value=7)
    assert _everything(other, DEMO_API_KEY) != _everything(a, DEMO_API_KEY)


def test_staff_answer_within_business_hours_with_a_few_slow_days(demo):
    b = demo()
    tz = ZoneInfo(b.accounts[DEMO_API_KEY].timezone)
    delays, inside, stamps = [], 0, []
    for dash in b.accounts[DEMO_API_KEY].dashboards.values():
        for contact in dash.contacts.values():
            msgs = contact.messages
            stamps += [m.at for m in msgs]
            for prev, msg in zip(msgs, msgs[1:], strict=False):
                if prev.direction == "R" and msg.direction == "S":
                    delays.append((msg.at - prev.at) / 60_000)
                    local = datetime.fromtimestamp(msg.at / 1000, UTC).astimezone(tz)
                    inside += local.weekday() < 5 and 8 <= local.hour < 19
    assert len(delays) > 50
    assert inside / len(delays) > 0.85
    assert statistics.median(delays) < 120  # minutes, counting nights and weekends
    assert any(d > 90 for d in delays)  # a few slow ones
    now_ms = NOW * 1000
    assert min(stamps) >= now_ms - (HISTORY_DAYS + 7) * 86_400_000
    assert max(stamps) <= now_ms
    assert max(stamps) - min(stamps) > 60 * 86_400_000  # months of history, not weeks


def test_recent_requests_are_open_and_some_will_be_paid_soon(demo):
    b = demo()
    now_ms = NOW * 1000
    payments = [
        p for d in b.accounts[DEMO_API_KEY].dashboards.values() for p in d.payments.values()
    ]
    soon = [p for p in payments if p.pays_at is not None]
    assert soon and all(p.status == "Sent" for p in soon)
    assert all(PAY_SOON[0] * 1000 <= p.pays_at - now_ms <= PAY_SOON[1] * 1000 for p in soon)
    assert any(p.status == "Paid" for p in payments)
    assert any(p.status == "Sent" and p.pays_at is None for p in payments)  # still to chase
    later = now_ms + PAY_SOON[1] * 1000
    assert b.pay_scheduled(now_ms=now_ms, key=DEMO_API_KEY) == 0
    assert b.pay_scheduled(now_ms=later, key=DEMO_API_KEY) == len(soon)
    assert all(p.status == "Paid" and p.transaction_status == "Approved" for p in soon)
    assert b.pay_scheduled(now_ms=later, key=DEMO_API_KEY) == 0  # once
