import hashlib
import secrets
from datetime import time, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from textdesk.accounts.models import MAX_CAPACITY
from textdesk.dashboards.crypto import decrypt, encrypt
from textdesk.outbox.models import Change
from textdesk.phones import format_phone
from textdesk.textrequest.client import TextRequestClient

# The most an away reply may hold: three SMS segments of plain text (one text, not a letter).
AWAY_TEXT_MAX = 480


def new_webhook_token() -> str:
    return secrets.token_urlsafe(32)


def key_fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class Connection(models.Model):
    """One Text Request account, reached with one API key (encrypted at rest)."""

    name = models.CharField(max_length=100)
    api_url = models.URLField(default="https://api.textrequest.com/api/v3")
    api_key_encrypted = models.TextField(editable=False)
    api_key_last4 = models.CharField(max_length=4, editable=False)
    # SHA-256 of the key: finds the same account connected twice without decrypting every key.
    api_key_fingerprint = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # The connect form's key: a double submit lands on the connection the first one made.
    client_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
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
    # Signed callbacks (docs/textrequest-api.md): the key that signed before "Test and replace
    # the key" still verifies for TEXTDESK_WEBHOOK_KEY_GRACE seconds after the replacement.
    previous_api_key_encrypted = models.TextField(blank=True, editable=False)
    api_key_replaced_at = models.DateTimeField(null=True, blank=True, editable=False)
    signatures_required_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the first validly signed callback arrived: from then on an unsigned "
        "callback is refused (an admin can reset this).",
    )
    last_signed_at = models.DateTimeField(null=True, blank=True)
    last_unsigned_at = models.DateTimeField(null=True, blank=True)

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
        self.api_key_fingerprint = key_fingerprint(api_key)

    def replace_api_key(self, api_key: str) -> None:
        """Set a new key, keeping the old one (encrypted) for the signature grace period."""
        self.previous_api_key_encrypted = self.api_key_encrypted
        self.api_key_replaced_at = timezone.now()
        self.set_api_key(api_key)

    def signing_keys(self, now=None) -> list[str]:
        """The keys a callback may be signed with now: the current one, and the previous one
        during the grace period after a replacement."""
        keys = [self.api_key]
        now = now or timezone.now()
        grace = timedelta(seconds=settings.TEXTDESK_WEBHOOK_KEY_GRACE)
        if (
            self.previous_api_key_encrypted
            and self.api_key_replaced_at
            and now - self.api_key_replaced_at <= grace
        ):
            keys.append(decrypt(self.previous_api_key_encrypted))
        return keys

    @property
    def requires_signatures(self) -> bool:
        return self.signatures_required_at is not None

    @property
    def masked_api_key(self) -> str:
        return f"••••{self.api_key_last4}"

    @property
    def bucket(self) -> str:
        return f"connection:{self.pk}"

    def client(self, priority: str = "interactive", *, quick: bool = False) -> TextRequestClient:
        """A client through the shared limiter; a disconnected connection's client refuses
        every call before it is made (its mirror is read-only). `quick`: for a read an admin
        page waits on, which fails within TEXTDESK_ADMIN_TIMEOUT (limiter, connect and read each
        bounded by it) instead of holding the request for the full read timeout."""
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
            limiter=None if self.is_active else _Disconnected(),
        )


class _Disconnected:
    """The limiter of a disconnected connection: no call may start. Raised where the limiter
    is asked, inside every caller's error handling, so an outbox row fails with this reason
    (a permanent 4xx-like refusal) instead of being retried."""

    def acquire(self, *args, **kwargs) -> None:
        from textdesk.textrequest import errors

        raise errors.Unauthorized(
            None, "This Text Request account was disconnected in textdesk; nothing was sent."
        )


class DashboardQuerySet(models.QuerySet):
    def active(self):
        return self.filter(removed_at__isnull=True)

    def for_user(self, user):
        """The lines ``user`` may see: Admin and Finance every line, an Agent the lines
        assigned to them. Every domain's ``for_user`` is built on this, so anything on a line
        outside it is a 404, never a 403 (ids of other lines leak nothing)."""
        lines = self.active().select_related("connection")
        if user.has_perm("accounts.view_all_lines"):
            return lines
        return lines.filter(agents=user)

    def with_first_sync(self, resource: str = "conversations"):
        """Annotate ``is_syncing``: the line (of a connected account) has never finished a
        full read of ``resource`` (its first sync), so an empty list of it means "not read
        yet", not "nothing there"."""
        done = SyncState.objects.filter(
            dashboard=models.OuterRef("pk"), resource=resource, last_full_at__isnull=False
        )
        syncing = models.Q(~models.Exists(done), connection__is_active=True)
        return self.annotate(
            is_syncing=models.ExpressionWrapper(syncing, output_field=models.BooleanField())
        )


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
    # A lease: one sync of this line at a time, across every worker (``textdesk/sync/engine.py``).
    sync_lock_token = models.CharField(max_length=32, blank=True, editable=False)
    sync_locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Event subscriptions (textdesk/dashboards/sync.py, register_hooks): while they are healthy
    # the incremental cycle leaves to them what they cover (textdesk/sync/engine.py).
    hooks_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time every event subscription was found in place."
    )
    hooks_seen_at = models.DateTimeField(
        null=True, blank=True, help_text="Last verified event Text Request sent for this line."
    )
    hooks_missed_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time polling found activity no event brought."
    )
    # Away replies (conversations/away.py): sent by textdesk itself to a customer who texts
    # while the line is closed (its business hours and holidays). Admin → the line.
    away_reply_enabled = models.BooleanField(default=False, db_default=False)
    away_reply_text = models.TextField(blank=True, default="", db_default="")
    # Quiet hours, in the *contact's* time zone (contacts/quiet.py): texts textdesk sends
    # by itself leave only inside [start, end); an agent is asked once outside it. An end of
    # 00:00 means midnight.
    quiet_start = models.TimeField(default=time(8, 0), db_default=time(8, 0))
    quiet_end = models.TimeField(default=time(21, 0), db_default=time(21, 0))

    class Assignment(models.TextChoices):
        OFF = "off", "Off: agents take conversations themselves"
        ROUND_ROBIN = "round_robin", "Round-robin: the available agent assigned longest ago"
        LEAST_BUSY = "least_busy", "Least busy: the available agent holding the fewest"

    # Automatic assignment of new and reopened conversations (textdesk/conversations/routing.py).
    assignment_rule = models.CharField(
        "Assignment", max_length=12, choices=Assignment.choices, default=Assignment.OFF
    )
    assignment_capacity = models.PositiveSmallIntegerField(
        "Capacity",
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY)],
        help_text="Most unresolved conversations an agent holds before automatic assignment "
        "passes them by (a person's own capacity, set in Staff, wins).",
    )

    objects = DashboardQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "dashboard_id"], name="unique_dashboard_per_connection"
            ),
            # An empty or inverted window would hold texts back for ever (an end of 00:00
            # means midnight: 00:00–00:00 lets texts leave at any hour).
            models.CheckConstraint(
                condition=models.Q(quiet_start__lt=models.F("quiet_end"))
                | models.Q(quiet_end=time(0)),
                name="quiet_hours_window_not_empty",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def assignment_label(self) -> str:
        """The rule's short name: "Off", "Round-robin", "Least busy"."""
        return self.get_assignment_rule_display().split(":")[0]

    @property
    def formatted_phone(self) -> str:
        return format_phone(self.phone)

    @property
    def changes(self):
        """Its outbox changes (the outbox keeps the line's id, not a key up to this app)."""
        return Change.objects.filter(dashboard_id=self.pk)

    @property
    def quiet_window(self) -> tuple[time, time]:
        """The hours texts may leave, in the contact's time zone: [start, end)."""
        return self.quiet_start, self.quiet_end

    @property
    def texting_hours_label(self) -> str:
        """The hours texts may leave, as people read them ("8:00–21:00"; midnight "24:00")."""
        end = "24:00" if self.quiet_end == time(0) else f"{self.quiet_end:%-H:%M}"
        return f"{self.quiet_start:%-H:%M}–{end}"

    def hooks_healthy(self, now=None) -> bool:
        """Are this line's event subscriptions to be trusted to bring changes? Verified by the
        periodic check recently, and no activity found by polling that no event brought since
        the last event (or check)."""
        now = now or timezone.now()
        fresh = timedelta(seconds=settings.TEXTDESK_HOOKS_FRESH)
        if self.hooks_verified_at is None or now - self.hooks_verified_at > fresh:
            return False
        if self.hooks_missed_at is None:
            return True
        since = max(t for t in (self.hooks_verified_at, self.hooks_seen_at) if t)
        return since > self.hooks_missed_at


class BusinessHours(models.Model):
    """When a line is staffed; response and resolution times count only these hours.

    No row (or `is_always_open`) means 24/7. `weekly` holds seven entries, Monday first, each
    `["HH:MM", "HH:MM"]` (open, close) or null for a closed day; times in `time_zone`.
    """

    dashboard = models.OneToOneField(
        Dashboard, on_delete=models.CASCADE, related_name="business_hours"
    )
    is_always_open = models.BooleanField(default=True)
    time_zone = models.CharField(max_length=64, default=settings.TIME_ZONE)
    weekly = models.JSONField(default=list, blank=True)
    # Whole days closed whatever the weekday says ("YYYY-MM-DD", in ``time_zone``): away replies
    # answer then and Reports count no open seconds in them.
    holidays = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Moved here from ``reports`` (lines below reports need the hours); the table stays.
        db_table = "reports_businesshours"
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return f"Hours of {self.dashboard}"


# A target is at least a minute and at most 30 days of the line's open time.
SLA_MAX_MINUTES = 30 * 24 * 60


class SlaPolicy(models.Model):
    """A line's service-level targets, each optional, in minutes of its business hours.

    First response: the first wait of an episode (from the customer's first text since the
    conversation was opened or last resolved); next response: each later wait in the episode;
    resolution: from the episode's first customer text to its resolve. A wait is the Reports'
    wait (textdesk/conversations/waits.py). A change applies to open conversations at the next
    recount (enqueued when saved; beat also catches any missed one by `recounted_at`).
    """

    class Target(models.TextChoices):
        FIRST = "first", "First response"
        NEXT = "next", "Next response"
        RESOLUTION = "resolution", "Resolution"

    dashboard = models.OneToOneField(Dashboard, on_delete=models.CASCADE, related_name="sla_policy")
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recounted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"{name}__isnull": True})
                | models.Q(**{f"{name}__gte": 1, f"{name}__lte": SLA_MAX_MINUTES}),
                name=f"sla_{name}_in_range",
            )
            for name in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
        ]

    def __str__(self) -> str:
        return f"SLA of {self.dashboard}"

    def seconds(self) -> dict[str, int]:
        """The targets that are set, in seconds of open time, by `Target` value."""
        minutes = {
            self.Target.FIRST: self.first_response_minutes,
            self.Target.NEXT: self.next_response_minutes,
            self.Target.RESOLUTION: self.resolution_minutes,
        }
        return {str(k): v * 60 for k, v in minutes.items() if v}


class SavedReply(models.Model):
    """A canned answer agents insert with `/` in the composer. Line-specific or for all lines.

    A shortcut is unique within a line; one for every line takes its shortcut from every line
    (the form checks that across the two kinds, the constraints hold each kind)."""

    dashboard = models.ForeignKey(
        Dashboard, on_delete=models.CASCADE, null=True, blank=True, related_name="saved_replies"
    )
    shortcut = models.SlugField(max_length=40)
    body = models.TextField(max_length=1600)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]
        verbose_name_plural = "saved replies"
        constraints = [
            models.UniqueConstraint(
                fields=["dashboard", "shortcut"], name="unique_reply_shortcut_per_line"
            ),
            models.UniqueConstraint(
                fields=["shortcut"],
                condition=models.Q(dashboard__isnull=True),
                name="unique_reply_shortcut_every_line",
            ),
        ]

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
    def progress_percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))


def line_of(change: Change) -> Dashboard:
    """The line an outbox change writes to, with its connection: the outbox keeps only the
    id. Loaded once per change (the outbox's client and the kind's handler both ask)."""
    line = getattr(change, "_line", None)
    if line is None or line.pk != change.dashboard_id:
        line = Dashboard.objects.select_related("connection").get(pk=change.dashboard_id)
        change._line = line
    return line
