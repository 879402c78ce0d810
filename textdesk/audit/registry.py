"""How the audit log learns of people's actions without naming the domains above it.

The domains call this from their ``AppConfig.ready()``:

- ``track(Model, entry)``: creating a row of ``Model`` may be a person's action with its own
  outcome (a text, a payment request). ``entry(row)`` answers the entry's fields (``actor``,
  ``kind``, ``summary``, where it happened, the row's link), or None when no person is behind
  the row (sync, webhooks).
- ``place(Model, where)``: an outbox change whose target is a row of ``Model`` happened at
  ``where(row)`` (``contact_id``, ``conversation_id``), and its sentence may name
  ``where(row)["name"]``.
- ``name_lines(names)``: ``names(ids)`` answers ``{id: name}`` of those lines, or of every
  line (removed ones too) when ``ids`` is None: the names entries keep, and the line filter.

Outbox changes are below this package, so the audit log listens to them itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models.signals import post_save

from textdesk.audit import services
from textdesk.audit.models import LINKED, Entry

_entries: dict[type, Callable[[Any], dict | None]] = {}
_places: dict[str, list[Callable[[Any], dict]]] = {}


def track(model: type, entry: Callable[[Any], dict | None]) -> None:
    """Record an entry when a person creates a row of ``model`` (see the module docstring)."""
    name = model._meta.model_name
    Entry._meta.get_field(f"{name}_id")  # an entry links the row by id: the field must exist
    _entries[model] = entry
    LINKED[name] = model
    post_save.connect(_saved, sender=model, dispatch_uid=f"audit-{model._meta.label_lower}")


def place(model: type, where: Callable[[Any], dict]) -> None:
    """Say where a change targeting a row of ``model`` happened. Several domains may add to a
    model's place (contacts its contact, conversations the contact's conversation)."""
    callbacks = _places.setdefault(model._meta.label_lower, [])
    if where not in callbacks:
        callbacks.append(where)


def name_lines(names: Callable[[list[int] | None], dict[int, str]]) -> None:
    """Say how to name lines by id (the dashboards domain does)."""
    services.LINE_NAMES[:] = [names]


def lines() -> dict[int, str]:
    """Every line by id, for the filter (empty until a domain said how to name them)."""
    return services.line_names(None)


def where(target_model: str, row) -> dict:
    """The place of a change's target (empty when its model registered none or it is gone)."""
    found: dict = {}
    if row is not None:
        for callback in _places.get(target_model, []):
            found.update(callback(row))
    return found


def _saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    fields = _entries[sender](instance)
    if fields is not None:
        services.record_row(**fields)
