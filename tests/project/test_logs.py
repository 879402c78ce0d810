"""Webhook tokens never reach a log line: not through the web process's handlers, not through
the handlers a Celery worker installs in place of ours, not in a logged traceback."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection as db

from textdesk.celery import app

ROOT = Path(__file__).resolve().parents[2]
SECRET = "tok3n-" + uuid.uuid4().hex


@pytest.fixture
def console():
    """What the console handler configured by settings.LOGGING writes (the real handler, with
    whatever filters the configuration gave it, pointed at a buffer)."""
    import io
    import logging

    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


def test_a_web_request_to_a_hook_url_is_logged_without_its_token(client, db, console):
    response = client.post(f"/hooks/{SECRET}/messages", data="{}", content_type="application/json")
    assert response.status_code == 404
    err = console.getvalue()
    assert "Not Found: /hooks/<token>/messages" in err  # written by our configured handler
    assert SECRET not in err


def test_a_logged_traceback_is_redacted(console):
    import logging

    try:
        raise ValueError(f"could not reach https://desk.example/hooks/{SECRET}/messages")
    except ValueError:
        logging.getLogger("textdesk.test").exception("posting to the hook failed")
    err = console.getvalue()
    assert "ValueError: could not reach https://desk.example/hooks/<token>/messages" in err
    assert SECRET not in err


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_logs_without_the_token(settings, tmp_path):
    """A task failing on a value that carries a receiver URL: Celery logs the exception and
    its traceback through the handlers it installed itself."""
    d = db.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{d['USER']}:{d['PASSWORD'] or ''}@{d['HOST']}:{d['PORT']}/{d['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
    }
    queue = f"logs-{uuid.uuid4().hex[:6]}"
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "textdesk", "worker", "-Q", queue,
             "--pool", "solo", "-n", f"{queue}@%h", "--without-mingle", "--without-gossip",
             "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = f"https://desk.example/hooks/{SECRET}/messages"
        app.conf.task_always_eager = False  # through the broker (conftest resets it)
        app.send_task("textdesk.webhooks.tasks.process_event", args=[url], queue=queue)
        deadline = time.monotonic() + 60
        while "raised unexpected" not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    output = log.read_text(errors="replace")
    assert "/hooks/<token>/messages" in output
    assert "Traceback" in output
    assert SECRET not in output
