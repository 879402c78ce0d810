"""A sync run that waits for transient errors never sleeps a long Retry-After in its worker:
past MAX_INLINE_WAIT the error is raised, so the task re-schedules itself instead."""

import pytest

from textdesk.dashboards import sync
from textdesk.textrequest import errors


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(sync.time, "sleep", slept.append)
    return slept


def failing(*raised):
    queue = list(raised)

    def call():
        if queue:
            raise queue.pop(0)
        return "read"

    return call


def test_a_long_retry_after_is_raised_not_slept(line, sleeps):
    run = sync.Run(line, wait=True)
    storm = errors.RateLimited(429, "Slow down", retry_after=600)
    with pytest.raises(errors.RateLimited):
        run.call(failing(storm))
    assert sleeps == []
    run.close()


def test_a_short_retry_after_is_waited_for_and_the_call_repeated(line, sleeps):
    run = sync.Run(line, wait=True)
    assert run.call(failing(errors.RateLimited(429, "Slow down", retry_after=3))) == "read"
    assert sleeps == [3]
    run.close()
