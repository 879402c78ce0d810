"""Background work of the sandbox: delayed jobs and outbound HTTP (webhooks, status callbacks).

One scheduler thread keeps a heap of due jobs and hands them to a small pool of daemon
workers, so a slow receiver never delays a delivery-status change or another receiver.
"""

from __future__ import annotations

import heapq
import itertools
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable


class Dispatcher:
    """Run callables after a delay on daemon threads; ``clear()`` drops everything pending."""

    def __init__(self, workers: int = 8):
        self._heap: list[tuple[float, int, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._generation = 0
        self._jobs: queue.Queue = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._started = False
        self._workers = workers

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        threading.Thread(target=self._schedule_loop, name="sandbox-scheduler", daemon=True).start()
        for i in range(self._workers):
            threading.Thread(
                target=self._work_loop, name=f"sandbox-worker-{i}", daemon=True
            ).start()

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        with self._cond:
            self._start()
            with self._idle:
                self._pending += 1
            heapq.heappush(
                self._heap,
                (time.monotonic() + max(0.0, delay), next(self._seq), self._generation, fn),
            )
            self._cond.notify()

    def clear(self) -> None:
        """Forget every pending job (used by reset); jobs already running finish."""
        with self._cond:
            self._generation += 1
            dropped = len(self._heap)
            self._heap.clear()
        with self._idle:
            self._pending -= dropped
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no job is pending or running (test helper)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _schedule_loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                due, _, gen, fn = self._heap[0]
                now = time.monotonic()
                if due > now:
                    self._cond.wait(due - now)
                    continue
                heapq.heappop(self._heap)
                if gen != self._generation:
                    self._done()
                    continue
            self._jobs.put(fn)

    def _work_loop(self) -> None:
        while True:
            fn = self._jobs.get()
            try:
                fn()
            except Exception:  # noqa: BLE001, S110 - a failing job must never kill a worker
                pass
            finally:
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()


# Never route callbacks through an environment proxy: receivers are usually on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_json(
    url: str,
    payload: dict,
    timeout: float,
    *,
    headers: dict | None = None,
    data: bytes | None = None,
) -> int | None:
    """POST ``payload`` as JSON (or the exact bytes ``data``) with extra ``headers`` (the
    signature); answer the status code, or None on a network error/timeout."""
    if data is None:
        data = json.dumps(payload).encode()
    req = urllib.request.Request(  # noqa: S310 - URLs were checked to be http(s)
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "TextRequest-Sandbox/1.0",
            **(headers or {}),
        },
    )
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except Exception:  # noqa: BLE001 - any network failure is "no answer"
        return None
