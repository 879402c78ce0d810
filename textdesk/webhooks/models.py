from django.db import models


class WebhookEvent(models.Model):
    """A raw event Text Request POSTed to us, stored before it is processed (insert-or-nothing).

    ``key`` is ``messageUniqueIdentifier`` for message events and names the message and status
    for status callbacks, so a redelivery finds its row and does nothing.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", "Text sent or received"
        STATUS = "status", "Delivery status"

    connection = models.ForeignKey(
        "dashboards.Connection", on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=200)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Processing attempts that failed on our side."
    )
    dead_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set after too many failed attempts: kept aside until an admin retries or "
        "discards it.",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "kind", "key"], name="one_event_per_key")
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="event_due",
                condition=models.Q(processed_at__isnull=True, dead_at__isnull=True),
            ),
            models.Index(
                fields=["-dead_at"],
                name="event_dead",
                condition=models.Q(processed_at__isnull=True, dead_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class Refusal(models.Model):
    """A callback refused before anything was stored (bad or missing signature, stale, replayed,
    too big, not JSON, an unknown event or line): counted on the connection's page, without
    its body."""

    connection = models.ForeignKey(
        "dashboards.Connection", on_delete=models.CASCADE, related_name="webhook_refusals"
    )
    refused_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=120)
    event = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-refused_at", "-id"]
        indexes = [models.Index(fields=["connection", "-refused_at"], name="refusal_recent")]

    def __str__(self) -> str:
        return self.reason


class Hint(models.Model):
    """A verified event other than a text: a targeted read of ``resource`` on the line is due
    (``ident`` narrows it: a payment id, a contact's phone; blank reads the line's open ones).
    One pending row per line, resource and ident, so a burst of events costs one read; the
    task deletes the row before it reads, so an event arriving during the read asks again."""

    class Resource(models.TextChoices):
        PAYMENTS = "payments", "Payments"
        STATUSES = "statuses", "Delivery statuses"
        CONTACT = "contact", "Contact"
        LOCATION = "location", "Location"

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="webhook_hints"
    )
    resource = models.CharField(max_length=10, choices=Resource.choices)
    ident = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dashboard", "resource", "ident"], name="one_pending_hint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.ident}".strip()
