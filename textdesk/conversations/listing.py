"""The conversation list of the inbox: what a page of it holds, its search, and the lines'
counts. Keyset paging only (never OFFSET on the big table); see `list_query`."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from textdesk.contacts.models import Contact, Tag
from textdesk.conversations.forms import cursor_for
from textdesk.conversations.models import Conversation, Note
from textdesk.conversations.templatetags.inbox import dress_rows
from textdesk.dashboards.models import Dashboard

PAGE_SIZE = 40


def line_conversations(user, line):
    """The line's conversations the user may see (`line`: a line or its id)."""
    return Conversation.objects.for_user(user).filter(dashboard=line)


# Counts stop at COUNT_CAP ("999+"): each is a bounded walk of the newest rows of the partial
# index `conv_unresolved_recent`, never a COUNT(*) over a big line. Unread texts are new ones,
# so counting them among the newest COUNT_CAP open conversations misses none in practice.
COUNT_CAP = 1000
_OPEN_NEWEST = (
    "SELECT c.is_unread FROM conversations_conversation c"
    " WHERE c.dashboard_id = dashboards_dashboard.id AND c.is_archived = %s AND c.is_resolved = %s"
    " ORDER BY c.last_message_at DESC, c.id DESC LIMIT %s"
)
# Constant SQL, values bound as parameters (the ORM cannot express a COUNT over a LIMIT).
_UNRESOLVED = RawSQL(  # noqa: S611
    "SELECT COUNT(*) FROM (" + _OPEN_NEWEST + ") newest",  # noqa: S608
    (False, False, COUNT_CAP),
)
_UNREAD = RawSQL(  # noqa: S611
    "SELECT COUNT(*) FROM (" + _OPEN_NEWEST + ") newest WHERE newest.is_unread = %s",  # noqa: S608
    (False, False, COUNT_CAP, True),
)


def lines_with_counts(user):
    """The user's lines with their unresolved and unread counts (capped, see COUNT_CAP) and
    whether each is still on its first sync (``is_syncing``: its counts are not in yet)."""
    lines = Dashboard.objects.for_user(user).with_first_sync()
    return list(lines.annotate(unresolved=_UNRESOLVED, unread=_UNREAD))


def list_query(user, line, filters: dict):
    """The list's rows in order, from the keyset cursor on: never OFFSET on the big table."""
    rows = line_conversations(user, line)
    view = filters["view"]
    if view == "unresolved":
        rows = rows.filter(is_archived=False, is_resolved=False)
    elif view == "all":
        rows = rows.filter(is_archived=False)
    elif view == "archived":
        rows = rows.filter(is_archived=True)
    elif view == "mine":
        rows = rows.filter(is_archived=False, assigned_to=user)
    elif view == "mentions":
        # Conversations where a colleague's note mentions the user (archived ones too).
        rows = rows.filter(pk__in=_mentioned(user))
    elif view == "unassigned":
        rows = rows.filter(is_archived=False, is_resolved=False, assigned_to__isnull=True)
    elif view == "breached":
        # A clock that ran out (sla.py keeps sla_due_at; resolved and archived have none).
        rows = rows.filter(sla_due_at__lte=timezone.now())
    if filters.get("tag"):
        rows = rows.filter(contact__tags=filters["tag"])
    if filters.get("q"):
        rows = search(rows, line, filters["q"])
    after = filters.get("after")
    if filters["sort"] == "sla":
        rows = rows.filter(sla_due_at__isnull=False).order_by("sla_due_at", "id")
        if after:
            moment, pk = after
            rows = rows.filter(Q(sla_due_at__gte=moment)).filter(
                Q(sla_due_at__gt=moment) | Q(id__gt=pk)
            )
    elif filters["sort"] == "waiting":
        rows = rows.filter(waiting_since__isnull=False).order_by("waiting_since", "id")
        if after:
            moment, pk = after
            rows = rows.filter(Q(waiting_since__gte=moment)).filter(
                Q(waiting_since__gt=moment) | Q(id__gt=pk)
            )
    else:
        rows = rows.filter(last_message_at__isnull=False).order_by("-last_message_at", "-id")
        if after:
            moment, pk = after
            rows = rows.filter(Q(last_message_at__lte=moment)).filter(
                Q(last_message_at__lt=moment) | Q(id__lt=pk)
            )
    return rows


def _mentioned(user):
    return Note.objects.filter(mentions=user).values("conversation_id")


# How a search finds its page depends on how many contacts match (read first, up to
# SEARCH_MANY + 1 of them, on the contacts' trigram indexes):
# - up to SEARCH_FEW: their conversations are looked up one by one and sorted (~1 ms per 500);
# - up to SEARCH_MANY: the list is walked in order, each row checked against the ids in a hash
#   (PostgreSQL: ~0.5 µs a row, so even the whole unresolved view of a big line is a few ms);
# - more: the walk joins the contacts instead (matches are then common: a page comes quickly).
SEARCH_FEW = 2_000
SEARCH_MANY = 10_000


def search(rows, line, query: str):
    """Partial match on name or number, every word must match.

    Contacts are matched first, on their own table: a rare match (the usual search) becomes a
    lookup by contact id, instead of walking the whole list in order looking for one; a common
    one is checked row by row while the list is walked in order (see SEARCH_FEW).
    """
    contacts = Contact.objects.filter(dashboard=line).matching(query)
    # Unordered: the read stops at SEARCH_MANY + 1 instead of sorting every match by id first.
    ids = list(contacts.order_by().values_list("pk", flat=True)[: SEARCH_MANY + 1])
    if len(ids) > SEARCH_MANY:
        return rows.filter(contact__in=contacts)
    if connection.vendor != "postgresql":
        return rows.filter(contact_id__in=ids)
    if len(ids) <= SEARCH_FEW:
        # Written out, the ids make PostgreSQL guess how many rows match and often walk the
        # list in order (the whole line when the matches are old) or scan the table; from
        # `unnest` it expects a handful and looks each one up by `contact_id`, then sorts.
        return rows.filter(contact_id__in=RawSQL("SELECT unnest(%s::bigint[])", (ids,)))  # noqa: S611
    # One bigint[] constant: PostgreSQL hashes it for `= ANY` (an int[] against the bigint
    # column would be searched linearly, row by row).
    in_ids = RawSQL(  # noqa: S611
        '"conversations_conversation"."contact_id" = ANY(%s::bigint[])',
        (ids,),
        output_field=BooleanField(),
    )
    return rows.filter(in_ids)


# What a list row reads: not the contact's custom fields and counters, nor the user's password.
ROW_COLUMNS = (
    "id",
    "dashboard_id",
    "contact_id",
    "is_archived",
    "is_resolved",
    "is_unread",
    "last_message_at",
    "last_message_preview",
    "last_message_direction",
    "waiting_since",
    "sla_due_at",
    "sla_target",
    "assigned_to_id",
    "contact__id",
    "contact__first_name",
    "contact__last_name",
    "contact__display_name",
    "contact__phone_number",
    "contact__opted_out_at",
    "contact__is_blocked",
    "assigned_to__id",
    "assigned_to__username",
    "assigned_to__first_name",
    "assigned_to__last_name",
)


def list_rows(user, line, filters: dict, query: str = ""):
    """One page of the list and the cursor of the next one (None on the last page)."""
    rows = list_query(user, line, filters)
    rows = rows.select_related("contact", "assigned_to").only(*ROW_COLUMNS)
    page = list(rows[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    _attach_tags(page)
    dress_rows(page, line, query)
    next_after = None
    if more:
        last = page[-1]
        sort_value = {"waiting": last.waiting_since, "sla": last.sla_due_at}.get(
            filters["sort"], last.last_message_at
        )
        next_after = cursor_for(sort_value, last.pk)
    return page, next_after


def _attach_tags(rows) -> None:
    """`row.tag_list`: the contact's tags by name, like `contact.tags.all()`, for a whole page
    in one narrow read (no per-contact managers, one object per tag)."""
    if not rows:
        return
    links = (
        Contact.tags.through.objects.filter(contact_id__in=[row.contact_id for row in rows])
        .order_by("tag__name")
        .values_list(
            "contact_id", "tag_id", "tag__dashboard_id", "tag__tag_id", "tag__name", "tag__color"
        )
    )
    tags, by_contact = {}, defaultdict(list)
    for contact_id, pk, dashboard_id, tag_id, name, color in links:
        if pk not in tags:
            tags[pk] = Tag(pk=pk, dashboard_id=dashboard_id, tag_id=tag_id, name=name, color=color)
        by_contact[contact_id].append(tags[pk])
    for row in rows:
        row.tag_list = by_contact[row.contact_id]
