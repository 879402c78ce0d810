"""GET /healthz names the part that is down."""

import pytest
from django.db import OperationalError

from textdesk.celery import app


def test_healthy(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "database" in response.json()["checked"]
    assert "broker" in response.json()["checked"]


class UnreachableDatabase:
    def cursor(self):
        raise OperationalError("connection refused")


def test_database_down_is_503_naming_the_database(client, db, monkeypatch):
    monkeypatch.setattr("textdesk.health.connection", UnreachableDatabase())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "database" in response.json()["failing"]


def test_broker_down_is_503_naming_the_broker(client, db, monkeypatch):
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "broker" in response.json()["failing"]


@pytest.mark.redis
def test_redis_is_checked_when_configured(client, db):
    response = client.get("/healthz")
    assert "redis" in response.json()["checked"]
    assert response.status_code == 200


def test_redis_down_is_503_naming_redis(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "redis" in response.json()["failing"]
