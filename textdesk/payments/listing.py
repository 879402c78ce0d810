"""The finance list: one filter (from ``PaymentFilterForm``) applied the same way by the list,
its summary, its charts and its CSV export, and keyset paging in four sort orders.

Each sort is ``(column, id)`` with an index of the same shape (``payment_requested``,
``payment_amount``, ``payment_customer``, ``payment_state``), so a page is an index range scan
at any depth, never OFFSET. NULLs sort as PostgreSQL's indexes hold them: first when
descending, last when ascending.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from textdesk.contacts.models import Contact
from textdesk.payments.forms import PaymentFilterForm
from textdesk.payments.models import Payment

PAGE_SIZE = 50

STATES = {
    "open": Payment.OPEN,
    "past_due": Payment.OPEN & Q(is_past_due=True),
    "paid": Payment.PAID,
    "canceled": Payment.CANCELED,
    "failed": Q(status=Payment.Status.FAILED) | Q(textrequest_payment_status="Failed"),
}
SORT_COLUMNS = {
    "date": "requested_at",
    "amount": "amount_requested",
    "customer": "recipient",
    "state": "textrequest_payment_status",
}
# Beyond this many contacts matching a word, search by a semi-join instead of a list of ids:
# a long literal list cost more to build, send and plan (15 ms at 1,200 ids) than the hashed
# subquery it replaces, which PostgreSQL answers while walking the payments in list order (a
# common name matches payments densely). A rare word's short list stays an index lookup.
MAX_CONTACT_IDS = 200


class BadCursor(ValueError):
    pass


def apply_filters(payments: QuerySet[Payment], filters: dict) -> QuerySet[Payment]:
    """The payments matching the filter's valid fields (see ``PaymentFilterForm.filters``)."""
    if state := filters.get("state"):
        payments = payments.filter(STATES[state])
    if line := filters.get("line"):
        payments = payments.filter(dashboard_id=line)
    if requester := filters.get("requester"):
        if requester == PaymentFilterForm.IN_TEXT_REQUEST:
            payments = payments.filter(created_by__isnull=True)
        else:
            payments = payments.filter(created_by_id=int(requester))
    tz = timezone.get_current_timezone()
    if start := filters.get("requested_from"):
        payments = payments.filter(requested_at__gte=datetime.combine(start, time.min, tz))
    if end := filters.get("requested_to"):
        day_after = datetime.combine(end + timedelta(days=1), time.min, tz)
        payments = payments.filter(requested_at__lt=day_after)
    if (low := filters.get("amount_min")) is not None:
        payments = payments.filter(amount_requested__gte=low)
    if (high := filters.get("amount_max")) is not None:
        payments = payments.filter(amount_requested__lte=high)
    if query := (filters.get("q") or "").strip():
        payments = payments.filter(search(query))
    return payments


def search(query: str) -> Q:
    """Every word must match the customer's name (ours or Text Request's), phone or reference.

    Contacts matching a word are looked up first (their own trigram indexes) and joined by id,
    so each alternative is an index lookup PostgreSQL can combine."""
    match = Q()
    for word in query.split()[:5]:
        digits = "".join(ch for ch in word if ch.isdigit())
        term = Q(recipient__icontains=word) | Q(reference_number__icontains=word)
        if digits and len(digits) >= 3:
            term |= Q(customer_phone__contains=digits)
        contacts = list(
            Contact.objects.matching(word).values_list("pk", flat=True)[: MAX_CONTACT_IDS + 1]
        )
        if len(contacts) > MAX_CONTACT_IDS:
            term |= Q(contact__in=Contact.objects.matching(word).values("pk"))
        elif contacts:
            term |= Q(contact_id__in=contacts)
        match &= term
    return match


def order(payments: QuerySet[Payment], sort: str, direction: str) -> QuerySet[Payment]:
    column = SORT_COLUMNS.get(sort, "requested_at")
    if direction == "asc":
        return payments.order_by(F(column).asc(nulls_last=True), "id")
    return payments.order_by(F(column).desc(nulls_first=True), "-id")


def after(payments: QuerySet[Payment], sort: str, direction: str, cursor: str):
    """Rows after the cursor in the order of ``order``."""
    column = SORT_COLUMNS.get(sort, "requested_at")
    value, pk = decode_cursor(cursor, column)
    if direction == "asc":
        if value is None:
            return payments.filter(**{f"{column}__isnull": True, "id__gt": pk})
        return payments.filter(
            Q(**{f"{column}__gt": value})
            | Q(**{column: value, "id__gt": pk})
            | Q(**{f"{column}__isnull": True})
        )
    if value is None:
        return payments.filter(
            Q(**{f"{column}__isnull": True, "id__lt": pk}) | Q(**{f"{column}__isnull": False})
        )
    return payments.filter(Q(**{f"{column}__lt": value}) | Q(**{column: value, "id__lt": pk}))


def page(
    payments: QuerySet[Payment], *, sort: str, direction: str, cursor: str = "", size=PAGE_SIZE
):
    """One page: (rows, the cursor of the next page or '')."""
    ordered = order(payments, sort, direction)
    if cursor:
        ordered = after(ordered, sort, direction, cursor)
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = encode_cursor(rows[-1], sort) if more and rows else ""
    return rows, next_cursor


def chunks(payments: QuerySet[Payment], *, sort: str, direction: str, size: int = 1000):
    """Every row in order, a keyset page at a time (constant memory for exports)."""
    cursor = ""
    while True:
        rows, cursor = page(payments, sort=sort, direction=direction, cursor=cursor, size=size)
        yield from rows
        if not cursor:
            return


def encode_cursor(payment: Payment, sort: str) -> str:
    value = getattr(payment, SORT_COLUMNS.get(sort, "requested_at"))
    if isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps([value, payment.pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, column: str):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        if not isinstance(pk, int):
            raise BadCursor
        if value is None:
            return None, pk
        if column == "requested_at":
            parsed = parse_datetime(value)
            if parsed is None:
                raise BadCursor
            return parsed, pk
        if column == "amount_requested":
            return Decimal(value), pk
        if not isinstance(value, str):
            raise BadCursor
        return value, pk
    except (ValueError, TypeError, binascii.Error, InvalidOperation, json.JSONDecodeError):
        raise BadCursor("This page link is no longer valid; start from the first page.") from None


@dataclass(frozen=True)
class Row:
    """One list row, formatted once in Python (a page renders in a few milliseconds)."""

    pk: int
    requested: str
    customer: str
    phone: str
    line: str
    requester: str
    reference: str
    description: str
    amount: str
    state: str
    state_class: str
    reminded: bool


def state_badge(payment: Payment) -> tuple[str, str]:
    """The state in words and its badge class (the words carry it, not the colour)."""
    if payment.status == Payment.Status.FAILED:
        return "Failed", "badge-danger"
    if payment.status in (Payment.Status.PENDING, Payment.Status.SENDING):
        return "Sending…", ""
    if payment.is_unconfirmed:
        return "Not confirmed", "badge-danger"
    if payment.status == Payment.Status.UNKNOWN:
        return "Checking…", ""
    if payment.is_paid:
        return "Paid", "badge-ok"
    if payment.is_canceled:
        return "Canceled", ""
    if payment.textrequest_payment_status == "Failed":
        return "Payment failed", "badge-danger"
    if payment.textrequest_payment_status not in Payment.OPEN_STATUSES:
        return payment.textrequest_payment_status, ""  # a status of Text Request's we do not know
    if payment.is_past_due:
        return "Past due", "badge-danger"
    return "Open", "badge-info"


def rows(payments: list[Payment]) -> list[Row]:
    prepared = []
    for p in payments:
        requested = timezone.localtime(p.requested_at) if p.requested_at else None
        state, state_class = state_badge(p)
        prepared.append(
            Row(
                pk=p.pk,
                requested=f"{requested:%b} {requested.day}, {requested.year}" if requested else "—",
                customer=p.customer_name,
                phone=p.formatted_phone,
                line=p.dashboard.name,
                requester=p.created_by.display_name if p.created_by_id else "In Text Request",
                reference=p.reference_number or "—",
                description=p.description,
                amount=f"${p.amount_requested:,.2f}",
                state=state,
                state_class=state_class,
                reminded=p.reminder_was_sent,
            )
        )
    return prepared
