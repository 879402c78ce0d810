"""The regression net: every URL of the product, as every role, with hostile values in every
query parameter and form field, never answers 500.

URLs are found by walking the URLconf (so a new page is covered the day it is added; Django's
own data admin is left out) and parameter names by reading the product: every field of every
Form class under textdesk/ and every name a view reads from request.GET/POST. Each request
carries the same hostile value in all of them at once (the first bad field a view reads is the
one it must handle), GET and POST, with the user's own ids, another line's ids and ids too
large for the column in the path. Then hypothesis mixes hostile and plausible values per field.

Text Request is a closed port here: anything a hostile form manages to queue fails to connect
and is recorded, which the net also checks does not raise.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django import forms
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import make_connection, make_conversation, make_line, make_user
from textdesk.contacts.models import Group, Tag
from textdesk.conversations.models import Message
from textdesk.dashboards.models import SavedReply
from textdesk.payments.models import Payment

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
HUGE = "9" * 30
LONG = "x" * 100_000
# Same value in every field at once: Unicode digits, numbers past bigint, signs and decimals,
# NUL and a lone surrogate (sent as raw bytes, as a browser or attacker could), control and
# bidi characters, markup, a 100,000-character value, and wrong shapes.
HOSTILE = [
    "²",
    "١٢٣",
    HUGE,
    "-1",
    "0",
    "1.5",
    "1e309",
    "NaN",
    "\x00",
    "a\x00b",
    "\ud800",
    "\ufeff\u202e\r\n\t",
    "<script>alert(1)</script>",
    "%s%n{0}{{",
    "m=0;t=99999999999999999999;r=0;p=",
    "m=²;t=²;r=²;p=²:²,²",
    "2026-13-45T25:61:61",
    "9999-12-31T23:59:59-14:00",
    "[]",
    "",
]


# --- what to walk ---------------------------------------------------------------------------


def url_patterns():
    """(name, route, converters) of every URL but Django's admin."""

    def walk(patterns, prefix="", namespace=None, converters=None):
        for pattern in patterns:
            found = {**(converters or {}), **pattern.pattern.converters}
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                yield from walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    pattern.namespace or namespace,
                    found,
                )
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, prefix + str(pattern.pattern), found

    return sorted(walk(get_resolver().url_patterns), key=lambda p: ("delete" in p[0], p[0]))


def parameter_names() -> list[str]:
    """Every form field of the product's forms and every name its views read directly."""
    import textdesk.accounts.forms  # noqa: F401  (imports register the Form subclasses)
    import textdesk.contacts.forms  # noqa: F401
    import textdesk.conversations.forms  # noqa: F401
    import textdesk.dashboards.forms  # noqa: F401
    import textdesk.payments.forms  # noqa: F401

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names = set()
    for form in subclasses(forms.BaseForm):
        if form.__module__.startswith("textdesk."):
            names.update(getattr(form, "base_fields", {}))
    read = re.compile(r"""(?:GET|POST)(?:\.get(?:list)?\(|\[)\s*["'](\w+)["']""")
    for path in (ROOT / "textdesk").rglob("*.py"):
        if "sandbox" not in path.parts:
            names.update(read.findall(path.read_text()))
    # Django's own forms on our pages (sign-in, password change, new staff).
    names.update({"username", "password", "old_password", "new_password1", "new_password2",
                  "password1", "password2", "next"})  # fmt: skip
    return sorted(names)


def encode(pairs) -> str:
    """A query string or form body; lone surrogates travel as the raw bytes they would be."""
    return "&".join(
        f"{quote(key)}={quote(str(value).encode('utf-8', 'surrogatepass'), safe='')}"
        for key, value in pairs
    )


# --- the world ------------------------------------------------------------------------------


def make_side(connection, name: str, phone: str, agent_name: str) -> dict:
    line = make_line(connection, name=name)
    conversation = make_conversation(line, phone=phone, history_synced_at=timezone.now())
    contact = conversation.contact
    failed = Message.objects.create(
        conversation=conversation,
        direction="S",
        body="Did not go",
        sent_at=timezone.now(),
        status="failed",
        failure_reason="Not sent: test",
    )
    Message.objects.create(
        conversation=conversation, direction="R", body="Hello", sent_at=timezone.now()
    )
    payment = Payment.objects.create(
        dashboard=line,
        contact=contact,
        customer_phone=contact.phone_number,
        amount_requested=Decimal("30.00"),
        payment_id=int(phone[-4:]),
        status="sent",
        textrequest_payment_status="Sent",
        requested_at=timezone.now(),
    )
    tag = Tag.objects.create(dashboard=line, tag_id=str(uuid.uuid4()), name=f"{name} tag")
    contact.tags.add(tag)
    group = Group.objects.create(dashboard=line, group_id=int(phone[-3:]), name=f"{name} group")
    contact.groups.add(group)
    SavedReply.objects.create(dashboard=line, shortcut=f"s{phone[-3:]}", body="We are open.")
    agent = make_user(agent_name, "Agent", lines=[line])
    return {
        "line": line,
        "conversation": conversation,
        "contact": contact,
        "message": failed,
        "payment": payment,
        "tag": tag,
        "group": group,
        "agent": agent,
    }


@pytest.fixture(autouse=True)
def quiet_request_logs():
    """Thousands of 4xx answers, each logged with its request attached (Django's
    ``log_response`` puts it in the record), and pytest keeps every record of a test: with
    100,000-character query strings that held ~11 GB until the test ended. A 500 is still
    logged (ERROR), and the net finds 500s by their status anyway."""
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security", "axes")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture
def world(db, monkeypatch, settings):
    # Hundreds of sign-in and password-change posts: a fast hasher keeps them cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # A closed port: nothing reaches a real service, every call fails at once. Without the
    # limiter's patience and the sync's retry pauses, a refused call costs no waiting.
    connection = make_connection(rate_limit=10**6)
    monkeypatch.setattr("textdesk.dashboards.sync.RETRY_DELAYS", (0.0, 0.0, 0.0))
    own = make_side(connection, "Front desk", "6155550101", "sam")
    foreign = make_side(connection, "Billing line", "6155550202", "olive")
    people = {
        "anonymous": None,
        "agent": own["agent"],
        "finance": make_user("fran", "Finance"),
        "admin": make_user("avery", "Admin"),
    }
    return {"connection": connection, "own": own, "foreign": foreign, "people": people}


def path_args(name: str, converters: dict, side: dict, connection, people) -> dict:
    """The URL's keyword arguments pointing at `side`'s objects."""
    pk_of = {
        "accounts:staff_edit": side["agent"].pk,
        "contacts:detail": side["contact"].pk,
        "contacts:group_edit": side["group"].pk,
        "contacts:group_delete": side["group"].pk,
        "payments:detail": side["payment"].pk,
        "payments:action": side["payment"].pk,
        "sync:now": connection.pk,
    }
    kwargs = {}
    for kwarg, converter in converters.items():
        kind = type(converter).__name__
        if kind == "IntConverter":
            if kwarg == "line_pk":
                value = side["line"].pk
            elif kwarg == "pk":
                if name.startswith("conversations:"):
                    value = side["conversation"].pk
                else:
                    value = pk_of.get(name, side["line"].pk)
            elif kwarg == "payment_pk":
                value = side["payment"].pk
            elif kwarg == "message_pk":
                value = side["message"].pk
            else:
                value = side["line"].pk
        elif kwarg == "token":
            value = connection.webhook_token
        elif kwarg == "action":
            value = "remind"
        else:
            value = "x"
        kwargs[kwarg] = value
    return kwargs


class Net:
    """Sends requests and collects every 500 (an exception the view let out) with its input."""

    def __init__(self, world):
        self.world = world
        self.clients = {}
        for role, user in world["people"].items():
            client = Client()
            if user is not None:
                client.force_login(user)
            self.clients[role] = client
        self.failures: list[str] = []
        self.requests = 0
        self.seconds: dict[str, float] = {}

    def send(self, role: str, method: str, path: str, pairs=(), *, body=None, content_type=None):
        client = self.clients[role]
        self.requests += 1
        started = time.monotonic()
        try:
            if method == "GET":
                query = encode(pairs)
                response = client.get(f"{path}?{query}" if query else path)
            else:
                data = body if body is not None else encode(pairs)
                response = client.generic(
                    method,
                    path,
                    data=data,
                    content_type=content_type or "application/x-www-form-urlencoded",
                )
        except Exception as exc:  # noqa: BLE001 - a 500 is what the net catches
            self.failures.append(f"{role} {method} {path} {pairs!r:.200}: {exc!r:.300}")
            return None
        if response.status_code >= 500 and path != "/healthz":
            self.failures.append(f"{role} {method} {path} {pairs!r:.200}: {response.status_code}")
        self.seconds[path] = self.seconds.get(path, 0.0) + time.monotonic() - started
        if path.endswith("/logout/") and self.world["people"][role] is not None:
            client.force_login(self.world["people"][role])  # signed out: sign back in
        return response


def test_no_hostile_input_gets_a_500_anywhere(world):
    net = Net(world)
    names = parameter_names()
    assert {"q", "after", "seen", "body", "line", "amount", "username"} <= set(names)
    patterns = url_patterns()
    assert len(patterns) >= 40
    own, foreign = world["own"], world["foreign"]
    connection, people = world["connection"], world["people"]

    foreign_ids = [foreign[k].pk for k in ("line", "conversation", "payment", "tag", "group")]
    for name, _route, converters in patterns:
        own_path = reverse(name, kwargs=path_args(name, converters, own, connection, people))
        foreign_path = reverse(
            name, kwargs=path_args(name, converters, foreign, connection, people)
        )
        huge_args = path_args(name, converters, own, connection, people)
        huge_args.update(
            {k: 10**25 for k, c in converters.items() if type(c).__name__ == "IntConverter"}
        )
        huge_path = reverse(name, kwargs=huge_args)
        for role in people:
            for method in ("GET", "POST"):
                probe = net.send(role, method, own_path, [(n, "1") for n in names])
                if probe is None:
                    continue
                if probe.status_code == 405:
                    continue  # the method is refused before any input is read
                if (
                    role == "anonymous"
                    and probe.status_code == 302
                    and ("/accounts/login/" in probe["Location"])
                ):
                    continue  # signed out: the login redirect reads nothing
                # Another line's objects and ids past any column: 403/404, never 500.
                net.send(role, method, foreign_path, [(n, "1") for n in names])
                net.send(role, method, huge_path, [(n, "1") for n in names])
                for value in HOSTILE:
                    net.send(role, method, own_path, [(n, value) for n in names])
                # Another line's ids in every field, each field a different kind of id.
                for shift in range(2):
                    pairs = [
                        (n, foreign_ids[(i + shift) % len(foreign_ids)])
                        for i, n in enumerate(names)
                    ]
                    net.send(role, method, own_path, pairs)
                # Wrong shapes: repeated fields with clashing values.
                net.send(role, method, own_path, [(n, v) for n in names for v in ("1", "²")])
                # 100,000 characters in every field, in batches under Django's body limit.
                for start in range(0, len(names), 20):
                    net.send(role, method, own_path, [(n, LONG) for n in names[start : start + 20]])
                if method == "POST":
                    # A JSON body (lists and nulls) where a form is expected.
                    body = json.dumps({n: [None] for n in names})
                    net.send(role, "POST", own_path, body=body, content_type="application/json")

    slowest = sorted(net.seconds.items(), key=lambda item: -item[1])[:8]
    print(f"{net.requests} requests; slowest paths (s):", slowest)
    assert not net.failures, f"{len(net.failures)} of {net.requests}:\n" + "\n".join(
        net.failures[:40]
    )


PLAUSIBLE = ["1", "me", "nobody", "unresolved", "recent", "remind", "m=0;t=0;r=0;p=",
             "4235550160", "30.00", "2026-01-01", str(uuid.UUID(int=1))]  # fmt: skip
values = st.sampled_from(HOSTILE + PLAUSIBLE) | st.text(max_size=40) | st.integers().map(str)


def test_mixed_hostile_and_plausible_values_never_get_a_500(world):
    """Hypothesis mixes values per field, so a view sees a plausible `seen` with a hostile
    cursor, a valid amount with a NUL message, and so on."""
    net = Net(world)
    names = parameter_names()
    own = world["own"]
    patterns = url_patterns()
    paths = [
        reverse(name, kwargs=path_args(name, conv, own, world["connection"], world["people"]))
        for name, _route, conv in patterns
        if "delete" not in name and "logout" not in name
    ]

    @hypothesis_settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        path=st.sampled_from(paths),
        role=st.sampled_from(list(world["people"])),
        method=st.sampled_from(["GET", "POST"]),
        fields=st.dictionaries(st.sampled_from(names), values, max_size=12),
    )
    def mixed(path, role, method, fields):
        net.send(role, method, path, list(fields.items()))

    mixed()
    assert not net.failures, "\n".join(net.failures[:40])
