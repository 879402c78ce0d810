"""GET /healthz: up or down for anyone, which part is down for admins and the logs, and at
most one round of checks per few seconds."""

import logging

import pytest
from django.db import OperationalError

from tests.conftest import make_user
from textdesk import health
from textdesk.celery import app


@pytest.fixture(autouse=True)
def fresh_answer():
    health.forget()
    yield
    health.forget()


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_healthy(as_admin):
    response = as_admin.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "database" in response.json()["checked"]
    assert "broker" in response.json()["checked"]


class UnreachableDatabase:
    def cursor(self):
        raise OperationalError("connection refused")


def test_anonymous_callers_learn_only_up_or_down(client, db, monkeypatch, caplog):
    monkeypatch.setattr("textdesk.health.connection", UnreachableDatabase())
    with caplog.at_level(logging.WARNING, logger="textdesk.health"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "failing"}
    assert "database" not in response.content.decode()
    assert "database (OperationalError)" in caplog.text


def test_agents_learn_only_up_or_down(client, agent):
    client.force_login(agent)
    assert client.get("/healthz").json() == {"status": "ok"}


def test_database_down_is_503_naming_the_database_to_an_admin(as_admin, monkeypatch):
    monkeypatch.setattr("textdesk.health.connection", UnreachableDatabase())
    response = as_admin.get("/healthz")
    assert response.status_code == 503
    assert "database" in response.json()["failing"]


def test_broker_down_is_503_naming_the_broker(as_admin, monkeypatch):
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:9/0")
    # The embedded default names its transport (textdesk.broker), which would win over the URL.
    monkeypatch.setitem(app.conf, "broker_transport", None)
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    response = as_admin.get("/healthz")
    assert response.status_code == 503
    assert "broker" in response.json()["failing"]


@pytest.mark.redis
def test_redis_is_checked_when_configured(as_admin):
    response = as_admin.get("/healthz")
    assert "redis" in response.json()["checked"]
    assert response.status_code == 200


def test_redis_down_is_503_naming_redis(as_admin, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    response = as_admin.get("/healthz")
    assert response.status_code == 503
    assert "redis" in response.json()["failing"]


def test_one_broker_connection_per_window_however_many_hits(client, db, monkeypatch):
    opened = []
    real = app.connection_for_write

    def counting(*args, **kwargs):
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(app, "connection_for_write", counting)
    clock = [1000.0]
    monkeypatch.setattr(health, "clock", lambda: clock[0])
    for _ in range(20):
        assert client.get("/healthz").status_code == 200
    assert len(opened) == 1
    clock[0] += health.CACHE_SECONDS
    assert client.get("/healthz").status_code == 200
    assert len(opened) == 2


def test_a_recovered_part_shows_up_after_the_window(as_admin, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(health, "clock", lambda: clock[0])
    with monkeypatch.context() as down:
        down.setattr("textdesk.health.connection", UnreachableDatabase())
        assert as_admin.get("/healthz").status_code == 503
    assert as_admin.get("/healthz").status_code == 503  # still the kept answer
    clock[0] += health.CACHE_SECONDS
    assert as_admin.get("/healthz").status_code == 200


def test_finance_is_not_told_the_parts(client, db):
    client.force_login(make_user("fran", "Finance"))
    assert "checked" not in client.get("/healthz").json()
