from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from textdesk.dashboards.models import Dashboard
from textdesk.outbox.delivery import is_unconfirmed
from textdesk.outbox.models import Change
from textdesk.phones import format_phone


class PaymentQuerySet(models.QuerySet):
    def for_user(self, user):
        """Payments on the lines ``user`` may see."""
        return self.filter(dashboard__in=Dashboard.objects.for_user(user))


class Payment(models.Model):
    """A text-to-pay request. Created here first (pending), then in Text Request."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Requested"
        UNKNOWN = "unknown", "Checking"
        FAILED = "failed", "Failed"

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="payments"
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
    )
    payment_id = models.BigIntegerField(null=True, blank=True, help_text="Text Request's id.")
    customer_phone = models.CharField(max_length=10)
    amount_requested = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    message = models.TextField(blank=True, help_text="Texted to the customer with the link.")
    description = models.CharField(max_length=500, blank=True, help_text="Internal only.")
    reference_number = models.CharField(max_length=100, blank=True)
    recipient = models.CharField(max_length=200, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    is_past_due = models.BooleanField(default=False)
    reminder_was_sent = models.BooleanField(default=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    transaction_status = models.CharField(max_length=40, blank=True)
    textrequest_payment_status = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=500, blank=True)
    client_key = models.UUIDField(null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    # When textdesk first saw it paid or canceled (Text Request gives no such date); empty for
    # payments that were already closed when first read.
    closed_at = models.DateTimeField(null=True, blank=True)
    # The outbox: attempts made, when the last one started, and the earliest next step.
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)

    objects = PaymentQuerySet.as_manager()

    ACTIVE = (Status.PENDING, Status.SENDING, Status.UNKNOWN)
    # Text Request's spellings (the real service also says MarkedAsPaid and Cancelled).
    PAID_STATUSES = ("Paid", "MarkedAsPaid")
    CANCELED_STATUSES = ("Canceled", "Cancelled")

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dashboard", "payment_id"], name="unique_payment_per_dashboard"
            )
        ]
        indexes = [
            models.Index(fields=["dashboard", "customer_phone"], name="payment_phone"),
            # The finance list's sort orders, paged by keyset on (column, id).
            models.Index(fields=["requested_at", "id"], name="payment_requested"),
            models.Index(fields=["amount_requested", "id"], name="payment_amount"),
            models.Index(fields=["recipient", "id"], name="payment_customer"),
            models.Index(fields=["textrequest_payment_status", "id"], name="payment_state"),
            # The summary's aging and the follow-up queue read only the open requests; the
            # collected-per-month and per-week figures only the paid ones by payment time.
            models.Index(
                fields=["requested_at"],
                name="payment_open_age",
                include=["amount_requested", "is_past_due", "dashboard_id", "created_by_id"],
                condition=models.Q(textrequest_payment_status__in=["", "Sent"])
                & ~models.Q(status="failed"),
            ),
            models.Index(
                fields=["closed_at"],
                name="payment_paid_at",
                include=["amount_requested"],
                condition=models.Q(textrequest_payment_status__in=["Paid", "MarkedAsPaid"]),
            ),
            models.Index(
                fields=["status", "not_before"],
                name="payment_outbox",
                condition=models.Q(status__in=["pending", "sending", "unknown"]),
            ),
        ]

    def __str__(self) -> str:
        return f"${self.amount_requested} from {format_phone(self.customer_phone)}"

    @property
    def changes(self):
        """Its outbox changes (the outbox points at the payment by name, not by a key)."""
        return Change.objects.of(self)

    @property
    def formatted_phone(self) -> str:
        return format_phone(self.customer_phone)

    @property
    def customer_name(self) -> str:
        """The contact's name here, else Text Request's, else the number."""
        if self.contact_id and self.contact:
            return self.contact.name
        return self.recipient or self.formatted_phone

    @property
    def is_paid(self) -> bool:
        return self.textrequest_payment_status in self.PAID_STATUSES

    @property
    def is_canceled(self) -> bool:
        return self.textrequest_payment_status in self.CANCELED_STATUSES

    def mark_failed(self, reason: str) -> None:
        self.status = self.Status.FAILED
        self.failure_reason = reason[:500]
        self.not_before = None
        self.save(update_fields=["status", "failure_reason", "not_before"])

    # Open: not paid or canceled in Text Request, and not failed on its way there.
    OPEN_STATUSES = ("", "Sent")
    OPEN = Q(textrequest_payment_status__in=OPEN_STATUSES) & ~Q(status="failed")
    PAID = Q(textrequest_payment_status__in=PAID_STATUSES)  # noqa: DJ012 (a filter, not a field)
    CANCELED = Q(textrequest_payment_status__in=CANCELED_STATUSES)  # noqa: DJ012

    @property
    def is_unconfirmed(self) -> bool:
        """Text Request has not confirmed the request for a while: a person may send it again."""
        return is_unconfirmed(self)

    @property
    def is_open(self) -> bool:
        return (
            self.textrequest_payment_status in self.OPEN_STATUSES
            and self.status != self.Status.FAILED
        )


class PaymentRollup(models.Model):
    """Running totals of payments per line, requester, state, past-due flag and whole days to
    pay, kept by a PostgreSQL trigger on every insert, update and delete of a payment
    (migration 0005), so the finance summary reads a few hundred rows instead of every
    payment. ``requester_id`` 0 is "made in Text Request"; ``days_to_pay`` -1 is "not paid, or
    paid before textdesk first read it". On SQLite (development) there is no trigger and the
    summary aggregates the payments themselves."""

    dashboard_id = models.BigIntegerField()
    requester_id = models.BigIntegerField()
    state = models.CharField(max_length=10)  # open, paid, canceled, failed, other
    is_past_due = models.BooleanField()
    days_to_pay = models.IntegerField()
    count = models.IntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        db_table = "payments_rollup"
        constraints = [
            models.UniqueConstraint(
                fields=["dashboard_id", "requester_id", "state", "is_past_due", "days_to_pay"],
                name="payments_rollup_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.state} on line {self.dashboard_id}: {self.count} (${self.amount})"
