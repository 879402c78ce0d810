"""Which function writes each kind of change to Text Request, and which sweepers beat runs.

Domain apps register theirs in ``AppConfig.ready()``; the outbox looks them up by name, so it
never imports a domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Handler:
    """How one kind of change reaches Text Request.

    ``apply(change, client)`` makes the one call. When Text Request refuses it (4xx),
    ``already_done(change, client, exc)`` may answer that the write had in fact happened (a
    repeated action, a group already gone). ``on_done`` / ``on_failed`` update the domain's
    rows once the outcome is known.

    ``refuse_at_send(change)``: called just before the change is claimed, inside the
    transaction that claims it; it locks what it reads (``select_for_update``) and answers why
    the change must not be sent now ("" to send). A refused change fails with that reason,
    like a text to a contact who opted out while it was queued.

    ``hold_at_send(change)``: for a change at ``sync`` priority (sent by textdesk itself, e.g.
    a batch), called in the same transaction after ``refuse_at_send``; a moment answered
    means "not before then" (quiet hours in the customer's clock): the change stays pending
    with that ``not_before`` and the sweeper brings it back. None sends now.

    ``idempotent``: writing the change twice has the effect of writing it once (it sets state,
    or Text Request refuses the repeat), so an unknown outcome is simply written again. A
    change that is not (it creates something) becomes ``unknown`` instead and waits for a
    person, like a text."""

    label: str
    apply: Callable
    already_done: Callable | None = None
    on_done: Callable | None = None
    on_failed: Callable | None = None
    refuse_at_send: Callable | None = None
    hold_at_send: Callable | None = None
    idempotent: bool = True


_handlers: dict[str, Handler] = {}
_sweepers: dict[str, Callable[[], object]] = {}
_client: list[Callable] = []


def register(kind: str, handler: Handler) -> None:
    if len(kind) > 20:
        raise ValueError(f"change kind {kind!r} is longer than 20 characters")
    _handlers[kind] = handler


def handler(kind: str) -> Handler:
    return _handlers[kind]


def label(kind: str) -> str:
    found = _handlers.get(kind)
    return found.label if found else kind.replace("_", " ").capitalize()


def kinds() -> list[str]:
    return sorted(_handlers)


def register_sweeper(name: str, sweep: Callable[[], object]) -> None:
    """A function beat calls every 15 s to re-enqueue lost rows and settle unknown ones."""
    _sweepers[name] = sweep


def sweepers() -> dict[str, Callable[[], object]]:
    return dict(_sweepers)


def register_client(client_for: Callable) -> None:
    """``client_for(change)`` answers the Text Request client of the change's line (at the
    change's priority). The dashboards domain registers it: the outbox knows only line ids."""
    _client[:] = [client_for]


def client_for(change):
    if not _client:
        raise LookupError("no client registered for outbox changes (dashboards registers it)")
    return _client[0](change)
