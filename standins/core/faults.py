"""Fault injection and the rate limit, the same for every stand-in's backend.

A backend mixes in :class:`FaultsMixin` and provides ``lock``, ``faults`` (the global faults),
``fault_rng`` (a seeded ``random.Random``, so fault runs are reproducible), ``FAULT_KEYS`` (the
faults it knows and their types), ``CREDENTIAL`` (the control API's name for a caller's
credential: ``api_key``, ``token``), ``caller(credential)`` (the account or tenant, whose
``faults`` is None while the global faults apply) and ``callers()``.
"""

from __future__ import annotations

import math
import time
from collections import deque

from .errors import StandinError, as_object, bad

SANDBOX_FAULT = "Internal server error (sandbox fault)"


class FaultsMixin:
    FAULT_KEYS: dict[str, type | tuple]
    CREDENTIAL: str

    def set_faults(self, body: object) -> dict:
        """Control API ``PUT /_sandbox/faults``: replace the faults of one caller (the body
        names its credential) or the global ones (every caller's own faults are dropped)."""
        body = as_object(body)
        faults = {}
        for name, value in body.items():
            if name == self.CREDENTIAL:
                continue
            faults[name] = self._fault_value(name, value)
        with self.lock:
            credential = body.get(self.CREDENTIAL)
            if credential:
                self.caller(credential).faults = faults
            else:
                self.faults = faults
                for caller in self.callers():
                    caller.faults = None
        return {"faults": faults, self.CREDENTIAL: credential or None}

    def _fault_value(self, name: str, value: object) -> object:
        kind = self.FAULT_KEYS.get(name)
        if kind is None:
            raise bad(f"Unknown fault {name!r}; known: {', '.join(sorted(self.FAULT_KEYS))}")
        if kind is bool and not isinstance(value, bool):
            raise bad(f"{name} must be true or false")
        if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise bad(f"{name} must be a number")
        if kind is list and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise bad(f"{name} must be a list of operationIds")
        if name.endswith("_rate") and not 0 <= value <= 1:
            raise bad(f"{name} must be between 0 and 1")
        if name == "error_status" and not 500 <= value <= 599:
            raise bad("error_status must be a 5xx status")
        return value

    def clear_faults(self, credential: str | None = None) -> dict:
        """Control API ``DELETE /_sandbox/faults``: one caller's, or every fault."""
        with self.lock:
            if credential:
                self.caller(credential).faults = None
            else:
                self.faults = {}
                for caller in self.callers():
                    caller.faults = None
        return {"faults": {}}

    def faults_for(self, caller, operation: str) -> dict:
        """The faults that apply to ``caller``'s call of ``operation``."""
        faults = caller.faults if caller.faults is not None else self.faults
        operations = faults.get("operations")
        if operations and operation not in operations:
            return {}
        return faults

    def refuse_if_outage(self, faults: dict) -> None:
        if faults.get("outage"):
            raise StandinError(503, "Service unavailable (sandbox outage)")

    def fault_plan(self, faults: dict) -> dict:
        """Draw the random faults of one admitted call; answer its plan: ``latency`` (seconds
        before it is handled), ``error`` (a status answered after it was processed, 0 for
        none) and ``timeout`` (seconds the answer waits after it was processed)."""
        plan = {"latency": faults.get("latency_ms", 0) / 1000.0, "timeout": 0.0, "error": 0}
        if faults.get("error_rate") and self.fault_rng.random() < faults["error_rate"]:
            status = int(faults.get("error_status", 500))
            if not faults.get("error_after_processing"):
                raise StandinError(status, SANDBOX_FAULT)
            plan["error"] = status  # the call is processed, then answered with the error
        if faults.get("timeout_rate") and self.fault_rng.random() < faults["timeout_rate"]:
            plan["timeout"] = float(faults.get("timeout_seconds", 30.0))
        return plan


def over_rate_limit(calls: deque, limit: int, window: float) -> StandinError | None:
    """Take one call from a sliding window of ``limit`` calls per ``window`` seconds (``calls``
    holds the monotonic times of the calls in it); over the limit, answer the 429 to raise
    (with its Retry-After) and take nothing."""
    now = time.monotonic()
    while calls and calls[0] <= now - window:
        calls.popleft()
    if len(calls) >= limit:
        oldest = calls[len(calls) - limit]
        retry_after = max(1, math.ceil(oldest + window - now))
        return StandinError(
            429,
            f"Rate limit exceeded: {limit} calls per {window:g} seconds",
            {"Retry-After": str(retry_after)},
        )
    calls.append(now)
    return None
