"""The kinds of change this domain writes to Text Request through the outbox."""

from textdesk.contacts.services import DELETE_GROUP, EDIT_CONTACT, EDIT_GROUP, SET_GROUPS
from textdesk.contacts.sync import apply_contact
from textdesk.outbox import registry
from textdesk.textrequest import errors


def write_contact(change, client) -> None:
    """CreateOrUpdateContact with the change's fields, then store what Text Request answers.
    Also the handler of the conversation actions that are contact fields (resolve, tags)."""
    contact = client.create_or_update_contact(
        change.dashboard.dashboard_id, change.contact.phone_number, **change.payload
    )
    apply_contact(change.dashboard, contact, respect_pending=False)


def _edit_group(change, client) -> None:
    client.update_group(
        change.dashboard.dashboard_id,
        change.payload["group_id"],
        **{k: v for k, v in change.payload.items() if k in ("name", "notes")},
    )


def _delete_group(change, client) -> None:
    client.delete_group(change.dashboard.dashboard_id, change.payload["group_id"])


def _group_gone(change, client, exc) -> bool:
    return isinstance(exc, errors.NotFound)


def register() -> None:
    registry.register(EDIT_CONTACT, registry.Handler(label="Edit contact", apply=write_contact))
    registry.register(SET_GROUPS, registry.Handler(label="Change groups", apply=write_contact))
    registry.register(EDIT_GROUP, registry.Handler(label="Edit group", apply=_edit_group))
    registry.register(
        DELETE_GROUP,
        registry.Handler(label="Delete group", apply=_delete_group, already_done=_group_gone),
    )
