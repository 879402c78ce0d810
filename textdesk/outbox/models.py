from django.conf import settings
from django.db import models

from textdesk.outbox import registry


class ChangeQuerySet(models.QuerySet):
    def open(self):
        """Not yet confirmed by Text Request, or failed (until dismissed or replaced)."""
        return self.filter(
            status__in=[*Change.ACTIVE, Change.Status.FAILED], dismissed_at__isnull=True
        ).order_by("created_at", "id")


class Change(models.Model):
    """One write to Text Request other than a text or a payment request: the outbox row of a
    person's action (archive, tags, a contact edit, a payment reminder...).

    Applied locally at once by the domain service that queues it (shown as pending), then by
    an interactive task through the handler its domain registered for ``kind``; done, or
    failed with Text Request's reason. A newer change of the same subject supersedes a queued
    one.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        SENDING = "sending", "Sending"
        UNKNOWN = "unknown", "Checking"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SUPERSEDED = "superseded", "Replaced by a newer change"

    ACTIVE = (Status.PENDING, Status.SENDING, Status.UNKNOWN)

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="changes"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.CASCADE, null=True, blank=True, related_name="changes"
    )
    group = models.ForeignKey(
        "contacts.Group", on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.CASCADE, null=True, blank=True, related_name="changes"
    )
    # One of the kinds the domains registered (``registry.register``).
    kind = models.CharField(max_length=20)
    # What "thing" this writes (e.g. "archived", "tags"): a newer change of the same subject
    # supersedes a queued one.
    subject = models.CharField(max_length=40)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    # The limiter priority of its call: "interactive" (a person's action, may use the whole
    # window) or "sync" (bulk work such as the follow-up queue's reminders, which leaves the
    # reserve to people).
    priority = models.CharField(max_length=12, default="interactive")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    objects = ChangeQuerySet.as_manager()

    class Meta:
        # The table predates this app (the outbox was part of ``dashboards``).
        db_table = "dashboards_change"
        ordering = ["created_at", "id"]
        constraints = [
            # A payment gets one reminder, one cancel, one mark-paid (unless the attempt failed).
            models.UniqueConstraint(
                fields=["payment", "kind"],
                condition=models.Q(kind__in=["remind_payment", "cancel_payment", "mark_paid"])
                & ~models.Q(status__in=["failed", "superseded"]),
                name="one_payment_action",
            )
        ]
        indexes = [
            models.Index(
                fields=["status", "not_before"],
                name="change_active",
                condition=models.Q(status__in=["pending", "sending", "unknown"]),
            ),
            models.Index(fields=["conversation", "status"], name="change_conversation"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"

    @property
    def label(self) -> str:
        """What the change does, in words (from its kind's registration)."""
        return registry.label(self.kind)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
