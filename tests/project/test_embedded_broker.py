"""The embedded broker (no REDIS_URL) writes each message under a name no worker reads, then
renames it into place: a worker never reads a half-written message."""

import os

import pytest
from kombu import Connection

from textdesk.broker import Channel


def test_a_message_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    folder = str(tmp_path)
    options = {"data_folder_in": folder, "data_folder_out": folder,
               "processed_folder": folder, "store_processed": False}  # fmt: skip
    seen_before_rename = []
    real_replace = os.replace

    def replace(src, dst):
        # While the body is written only the partial name exists, and no reader takes it.
        seen_before_rename.append(os.path.basename(src))
        assert not os.path.exists(dst)
        assert not os.path.basename(src).split(".", 1)[1].endswith("msg")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with Connection(transport="textdesk.broker:Transport", transport_options=options) as conn:
        queue = conn.SimpleQueue("sync")
        queue.put({"task": "ping", "n": 1})
        assert queue.get(timeout=1).payload == {"task": "ping", "n": 1}
        queue.close()
    assert seen_before_rename  # every message went through a partial name first
    assert Connection(transport="textdesk.broker:Transport").transport.Channel is Channel


def test_workers_of_the_embedded_broker_poll_often(settings):
    """A worker with a full prefetch (one task, acks late) sleeps one polling interval after
    every task; kombu's default second made bulk work crawl on the embedded broker."""
    from textdesk.celery import app

    if settings.CELERY_BROKER_URL != "filesystem://":
        pytest.skip("Redis: workers block on the list, there is no polling")
    with app.connection_for_read() as conn:
        assert conn.transport.polling_interval <= 0.1
    # Without the option, kombu's own default:
    assert Connection(transport="textdesk.broker:Transport").transport.polling_interval == 1.0
