from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from textdesk.dashboards.models import Dashboard
from textdesk.outbox.delivery import is_unconfirmed
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
    # The outbox: attempts made, when the last one started, and the earliest next step.
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)

    objects = PaymentQuerySet.as_manager()

    ACTIVE = (Status.PENDING, Status.SENDING, Status.UNKNOWN)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dashboard", "payment_id"], name="unique_payment_per_dashboard"
            )
        ]
        indexes = [
            models.Index(fields=["dashboard", "customer_phone"], name="payment_phone"),
            models.Index(
                fields=["status", "not_before"],
                name="payment_outbox",
                condition=models.Q(status__in=["pending", "sending", "unknown"]),
            ),
        ]

    def __str__(self) -> str:
        return f"${self.amount_requested} from {format_phone(self.customer_phone)}"

    @property
    def formatted_phone(self) -> str:
        return format_phone(self.customer_phone)

    def mark_failed(self, reason: str) -> None:
        self.status = self.Status.FAILED
        self.failure_reason = reason[:500]
        self.not_before = None
        self.save(update_fields=["status", "failure_reason", "not_before"])

    # Open: not paid or canceled in Text Request, and not failed on its way there.
    OPEN_STATUSES = ("", "Sent")
    OPEN = Q(textrequest_payment_status__in=OPEN_STATUSES) & ~Q(status="failed")

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
