"""CSV export of a filtered payment list: streamed a keyset chunk at a time (constant memory),
amounts as plain numbers, times in ISO 8601, and no cell a spreadsheet could run as a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone

from textdesk.payments import listing
from textdesk.payments.models import Payment

HEADER = [
    "payment_id",
    "textdesk_id",
    "requested_at",
    "customer",
    "phone",
    "line",
    "requested_by",
    "reference",
    "description",
    "amount",
    "state",
    "text_request_status",
    "transaction_status",
    "past_due",
    "reminder_sent",
    "closed_at",
]
# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def safe(value) -> str:
    """Text for a cell: a leading formula character is neutralised with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def state_of(payment: Payment) -> str:
    if payment.status == Payment.Status.FAILED:
        return "failed"
    if payment.is_paid:
        return "paid"
    if payment.is_canceled:
        return "canceled"
    if payment.status in Payment.ACTIVE:
        return "sending"
    return "past_due" if payment.is_past_due else "open"


def _iso(value) -> str:
    return timezone.localtime(value).isoformat() if value else ""


def row(payment: Payment) -> list:
    requester = payment.created_by.display_name if payment.created_by_id else "Text Request"
    return [
        payment.payment_id or "",
        payment.pk,
        _iso(payment.requested_at),
        safe(payment.customer_name),
        payment.customer_phone,
        safe(payment.dashboard.name),
        safe(requester),
        safe(payment.reference_number),
        safe(payment.description),
        f"{payment.amount_requested:.2f}",  # a number (never "-" or "=": amounts are > 0)
        state_of(payment),
        safe(payment.textrequest_payment_status),
        safe(payment.transaction_status),
        "yes" if payment.is_past_due else "no",
        "yes" if payment.reminder_was_sent else "no",
        _iso(payment.closed_at),
    ]


def lines(payments: QuerySet[Payment], *, sort: str, direction: str) -> Iterator[str]:
    """The CSV, line by line: header first, then every payment in the list's order."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    rows: Iterable[Payment] = listing.chunks(
        payments.select_related("dashboard", "contact", "created_by"),
        sort=sort,
        direction=direction,
    )
    for payment in rows:
        yield writer.writerow(row(payment))
