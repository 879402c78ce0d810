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
