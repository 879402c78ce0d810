"""A stand-in's state in a file, so a restarted stand-in carries on where it stopped.

``serve --state PATH`` loads the file at start (when it exists), writes a snapshot every few
seconds while something changed, and a last one at shutdown. A snapshot is the backend's
attributes named by its ``STATE_ATTRS`` (for the Text Request stand-in: accounts, lines,
contacts, messages, payments, hooks, settings, faults, counters, id counters, the clock
offset and the random generators), pickled under the backend's lock and written atomically
(a temporary file beside it, fsync, rename): a crash leaves the previous snapshot.

What a snapshot does not hold: work that was only scheduled. After a load the backend's
``restored()`` puts back what must run again (the Text Request stand-in settles texts still
``sending``). ``STATE_RENAMES`` maps the module paths older snapshots were pickled under
(``textdesk.sandbox`` before the stand-ins moved to ``standins/``) to today's. Runs without
``--state`` never touch any of this.

The file is the stand-in's own and trusted like its code (pickle): keep it where only the
developer writes, as ``make run`` does under ``var/``.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
import threading
import traceback
from pathlib import Path

logger = logging.getLogger(__name__)

STATE_VERSION = 1


def snapshot(backend) -> bytes:
    """The backend's whole state as bytes (taken under its lock, so it is consistent)."""
    with backend.lock:
        state = {name: getattr(backend, name) for name in backend.STATE_ATTRS}
        state["version"] = STATE_VERSION
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def _write(data: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(backend, path: str | os.PathLike) -> int:
    """Write a snapshot to ``path`` atomically; answer the change count it holds.

    Pickling a bench-size state takes seconds, and requests wait for the lock meanwhile. Where
    the system can fork, the lock is held only for the fork: the child, a copy-on-write image
    of the state at that instant, pickles and writes it while the server goes on (Redis's
    BGSAVE). The child runs nothing but pickle and file writes, so no other thread's lock is
    ever taken in it."""
    path = Path(path)
    if not hasattr(os, "fork"):
        with backend.lock:
            changes = backend.changes
            data = snapshot(backend)
        _write(data, path)
        return changes
    with backend.lock:
        changes = backend.changes
        pid = os.fork()
        if pid == 0:  # the child: write the snapshot and leave without any cleanup of ours
            code = 1
            try:
                _write(snapshot(backend), path)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(f"sandbox: the process saving the state to {path} failed ({status})")
    return changes


class _Unpickler(pickle.Unpickler):
    """Finds the classes of snapshots pickled under a module path that has since moved."""

    def __init__(self, file, renames: dict[str, str]):
        super().__init__(file)
        self.renames = renames

    def find_class(self, module: str, name: str):
        for old, new in self.renames.items():
            if module == old or module.startswith(old + "."):
                module = new + module[len(old) :]
                break
        return super().find_class(module, name)


def load(backend, path: str | os.PathLike) -> bool:
    """Replace the backend's state by the snapshot at ``path``; False when there is none.

    The backend's ``restored()`` then runs under its lock (what was scheduled runs again).
    """
    path = Path(path)
    if not path.exists():
        return False
    renames = getattr(backend, "STATE_RENAMES", {})
    with path.open("rb") as file:
        state = _Unpickler(file, renames).load()  # our own file, see the docstring
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: sandbox state version {state.get('version')!r} not supported")
    with backend.lock:
        for name in backend.STATE_ATTRS:
            if name in state:
                setattr(backend, name, state[name])
        backend.restored()
        backend.changes = 0
    return True


class StateKeeper:
    """Save the backend to ``path`` every ``interval`` seconds while it changes, and at stop."""

    def __init__(self, backend, path: str | os.PathLike, interval: float = 2.0):
        self.backend = backend
        self.path = Path(path)
        self.interval = interval
        self._saved = -1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-state", daemon=True)

    def start(self) -> StateKeeper:
        self._thread.start()
        return self

    def save_if_changed(self) -> bool:
        if self.backend.changes == self._saved:
            return False
        self._saved = save(self.backend, self.path)
        return True

    def stop(self) -> None:
        """Stop the periodic saves and write the last snapshot."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        self._saved = -1
        self.save_if_changed()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.save_if_changed()
            except Exception:  # the next round tries again; the server keeps serving
                logger.exception("sandbox: saving the state to %s failed", self.path)
