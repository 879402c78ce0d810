import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from textdesk.dashboards.crypto import decrypt, encrypt


def new_webhook_token() -> str:
    return secrets.token_urlsafe(32)


class Connection(models.Model):
    """One Text Request account, reached with one API key (encrypted at rest)."""

    name = models.CharField(max_length=100)
    api_url = models.URLField(default="https://api.textrequest.com/api/v3")
    api_key_encrypted = models.TextField(editable=False)
    api_key_last4 = models.CharField(max_length=4, editable=False)
    webhook_token = models.CharField(
        max_length=64, unique=True, default=new_webhook_token, editable=False
    )
    rate_limit = models.PositiveIntegerField(
        default=100, help_text="Calls Text Request allows per window for this key."
    )
    rate_window = models.PositiveIntegerField(default=60, help_text="Window length in seconds.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time the list of lines was read."
    )
    sync_error = models.CharField(max_length=500, blank=True)
    hooks_registered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def api_key(self) -> str:
        return decrypt(self.api_key_encrypted)

    def set_api_key(self, api_key: str) -> None:
        self.api_key_encrypted = encrypt(api_key)
        self.api_key_last4 = api_key[-4:]

    @property
    def masked_api_key(self) -> str:
        return f"••••{self.api_key_last4}"

    @property
    def bucket(self) -> str:
        return f"connection:{self.pk}"

    def client(self, priority: str = "interactive", *, quick: bool = False):
        """A client of this account. `quick`: for a read an admin page waits on, which fails
        within TEXTDESK_ADMIN_TIMEOUT (limiter, connect and read each bounded by it) instead of
        holding the request for the full read timeout."""
        from textdesk.textrequest.client import TextRequestClient

        timeout = (settings.TEXTREQUEST_CONNECT_TIMEOUT, settings.TEXTREQUEST_READ_TIMEOUT)
        max_wait = None
        if quick:
            quick_timeout = settings.TEXTDESK_ADMIN_TIMEOUT
            timeout = (min(timeout[0], quick_timeout), quick_timeout)
            max_wait = min(1.0, quick_timeout)
        return TextRequestClient(
            self.api_url,
            self.api_key,
            bucket=self.bucket,
            limit=self.rate_limit,
            window=self.rate_window,
            priority=priority,
            max_wait=max_wait,
            timeout=timeout,
        )


class DashboardQuerySet(models.QuerySet):
    def active(self):
        return self.filter(removed_at__isnull=True)


class Dashboard(models.Model):
    """A phone line of a Text Request account (Text Request calls it a dashboard)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="dashboards")
    dashboard_id = models.BigIntegerField(help_text="Text Request's id of this line.")
    name = models.CharField(max_length=200)
    phone = models.CharField(max_length=20)
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the line disappeared from Text Request."
    )
    synced_at = models.DateTimeField(null=True, blank=True)
    # A lease: one sync of this line at a time, across every worker (see dashboards/sync.py).
    sync_lock_token = models.CharField(max_length=32, blank=True, editable=False)
    sync_locked_until = models.DateTimeField(null=True, blank=True, editable=False)

    objects = DashboardQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "dashboard_id"], name="unique_dashboard_per_connection"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def formatted_phone(self) -> str:
        from textdesk.contacts.phones import format_phone

        return format_phone(self.phone)

    def mark_removed(self) -> None:
        self.removed_at = timezone.now()
        self.save(update_fields=["removed_at"])


class SavedReply(models.Model):
    """A canned answer agents insert with `/` in the composer. Line-specific or for all lines."""

    dashboard = models.ForeignKey(
        Dashboard, on_delete=models.CASCADE, null=True, blank=True, related_name="saved_replies"
    )
    shortcut = models.SlugField(max_length=40)
    body = models.TextField(max_length=1600)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shortcut"]
        verbose_name_plural = "saved replies"

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class SyncState(models.Model):
    """How far the sync of one resource of one line has come, and how it last went."""

    class Resource(models.TextChoices):
        TAGS = "tags", "Tags"
        FIELDS = "fields", "Custom fields"
        GROUPS = "groups", "Groups"
        CONVERSATIONS = "conversations", "Conversation list"
        CONTACTS = "contacts", "Contacts"
        HISTORIES = "histories", "Message histories"
        PAYMENTS = "payments", "Payments"

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="sync_states")
    resource = models.CharField(max_length=20, choices=Resource.choices)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_full_at = models.DateTimeField(
        null=True, blank=True, help_text="Last complete pass (all pages)."
    )
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    cursor = models.JSONField(default=dict, blank=True, help_text="Where the next run resumes.")
    calls = models.PositiveIntegerField(default=0, help_text="API calls of the last run.")

    class Meta:
        ordering = ["dashboard", "resource"]
        constraints = [
            models.UniqueConstraint(fields=["dashboard", "resource"], name="one_state_per_resource")
        ]

    def __str__(self) -> str:
        return f"{self.dashboard} {self.resource}"

    @property
    def is_first_sync(self) -> bool:
        return self.last_full_at is None

    @property
    def progress_percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))


class WebhookEvent(models.Model):
    """A raw event Text Request POSTed to us, stored before it is processed (insert-or-nothing).

    ``key`` is ``messageUniqueIdentifier`` for message events and names the message and status
    for status callbacks, so a redelivery finds its row and does nothing.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", "Text sent or received"
        STATUS = "status", "Delivery status"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=200)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "kind", "key"], name="one_event_per_key")
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="event_unprocessed",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class Change(models.Model):
    """One write to Text Request other than a text: the outbox row of an agent's action.

    Applied locally at once (shown as pending), then by an interactive task; done, or failed
    with Text Request's reason. A newer change of the same thing supersedes a queued one.
    """

    class Kind(models.TextChoices):
        ARCHIVE = "archive", "Archive"
        UNARCHIVE = "unarchive", "Unarchive"
        RESOLVE = "resolve", "Resolve"
        REOPEN = "reopen", "Reopen"
        SET_TAGS = "set_tags", "Change tags"
        EDIT_CONTACT = "edit_contact", "Edit contact"
        EDIT_GROUP = "edit_group", "Edit group"
        DELETE_GROUP = "delete_group", "Delete group"
        SET_GROUPS = "set_groups", "Change groups"
        RENAME_DASHBOARD = "rename_dashboard", "Rename line"
        REMIND_PAYMENT = "remind_payment", "Send payment reminder"
        CANCEL_PAYMENT = "cancel_payment", "Cancel payment"
        MARK_PAID = "mark_paid", "Mark payment paid"

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        SENDING = "sending", "Sending"
        UNKNOWN = "unknown", "Checking"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SUPERSEDED = "superseded", "Replaced by a newer change"

    ACTIVE = (Status.PENDING, Status.SENDING, Status.UNKNOWN)

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="changes")
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
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What "thing" this writes (e.g. "archived", "tags"): a newer change of the same subject
    # supersedes a queued one.
    subject = models.CharField(max_length=40)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_failed(self) -> bool:
        return self.status == self.Status.FAILED

    def mark_done(self) -> None:
        self.status = self.Status.DONE
        self.failure_reason = ""
        self.done_at = timezone.now()
        self.save(update_fields=["status", "failure_reason", "done_at"])

    def mark_failed(self, reason: str) -> None:
        self.status = self.Status.FAILED
        self.failure_reason = reason[:500]
        self.done_at = timezone.now()
        self.save(update_fields=["status", "failure_reason", "done_at"])
