from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone

from textdesk.contacts.models import Contact
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.delivery import is_unconfirmed
from textdesk.outbox.models import Change


class ConversationQuerySet(models.QuerySet):
    def for_user(self, user):
        """Conversations on the lines ``user`` may see (anything else is a 404)."""
        return self.filter(dashboard__in=Dashboard.objects.for_user(user))

    def for_contact(self, contact):
        """The contact's conversation, created if missing (race-safe: one per contact)."""
        conversation = self.filter(contact=contact).first()
        if conversation is not None:
            return conversation
        try:
            with transaction.atomic():
                return self.create(dashboard_id=contact.dashboard_id, contact=contact)
        except IntegrityError:
            return self.get(contact=contact)

    def touch(self, conversation_pk: int, message, *, is_new: bool) -> None:
        """Keep what the inbox sorts and shows in step with the newest message (conditional
        update, so a late or replayed older message never rolls it back)."""
        preview = message.body[:200] if message.body else ("[picture]" if message.mms_media else "")
        updates = {
            "last_message_at": message.sent_at,
            "last_message_preview": preview,
            "last_message_direction": message.direction,
        }
        if message.direction == Message.Direction.RECEIVED:
            if is_new:
                updates.update(is_unread=True, is_resolved=False, is_archived=False)
        else:
            # An automatic text (an away reply) answers nobody: the customer still waits.
            if not getattr(message, "is_automatic", False):
                updates["waiting_since"] = None
            if is_new:
                updates["is_archived"] = False
        newer = Q(last_message_at__isnull=True) | Q(last_message_at__lte=message.sent_at)
        qs = self.filter(newer, pk=conversation_pk)
        if message.direction == Message.Direction.RECEIVED:
            # Waiting since the first unanswered received text (a sent text clears it).
            qs.filter(waiting_since__isnull=True).update(waiting_since=message.sent_at)
        qs.update(**updates)


class Conversation(models.Model):
    """The thread between one line and one contact.

    What the inbox sorts and shows (last message time, preview, waiting state) is denormalised
    here, in the same transaction as the message that changes it.
    """

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="conversations"
    )
    contact = models.OneToOneField(
        "contacts.Contact", on_delete=models.CASCADE, related_name="conversation"
    )
    is_archived = models.BooleanField(default=False)
    is_resolved = models.BooleanField(default=False)
    is_unread = models.BooleanField(default=False)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=200, blank=True)
    last_message_direction = models.CharField(max_length=1, blank=True)
    waiting_since = models.DateTimeField(
        null=True, blank=True, help_text="First received text not yet answered."
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
    )
    # Waiting for automatic assignment since (its line assigns automatically and nobody had
    # room when it arrived): the drain takes the oldest first (textdesk/conversations/routing.py).
    queued_at = models.DateTimeField(null=True, blank=True)
    # SLA clocks, kept by sla.py whenever a text arrives or is sent, on resolve, reopen and
    # archive, and when the line's policy or hours change: the reply clock (first or next
    # response, running since `sla_reply_from`), the resolution clock (since `sla_opened_at`)
    # and the earlier of the two, which the list sorts and filters on without computing.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_target = models.CharField(max_length=10, blank=True)
    sla_reply_due_at = models.DateTimeField(null=True, blank=True)
    sla_reply_target = models.CharField(max_length=10, blank=True)
    sla_reply_from = models.DateTimeField(null=True, blank=True)
    sla_resolve_due_at = models.DateTimeField(null=True, blank=True)
    sla_opened_at = models.DateTimeField(null=True, blank=True)
    history_synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the full message history was last read."
    )
    history_cursor_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Newest message read from the history: the next read stops there.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(
                fields=["dashboard", "-last_message_at", "-id"],
                name="conv_unresolved_recent",
                condition=Q(is_archived=False, is_resolved=False),
            ),
            models.Index(
                fields=["dashboard", "is_archived", "-last_message_at", "-id"],
                name="conv_recent",
            ),
            models.Index(fields=["dashboard", "waiting_since", "id"], name="conv_waiting"),
            # The drain's question: waiting for an agent, oldest first.
            models.Index(
                fields=["queued_at", "id"],
                name="conv_queued",
                condition=Q(
                    queued_at__isnull=False,
                    assigned_to__isnull=True,
                    is_archived=False,
                    is_resolved=False,
                ),
            ),
            # An agent's load: the unresolved conversations they hold.
            models.Index(
                fields=["assigned_to"],
                name="conv_held",
                condition=Q(is_archived=False, is_resolved=False),
            ),
            # The list's "SLA due" sort and "Breached" view (keyset on sla_due_at, id).
            models.Index(
                fields=["dashboard", "sla_due_at", "id"],
                name="conv_sla_due",
                condition=Q(sla_due_at__isnull=False),
            ),
            # Beat's alerts: clocks about to run out or just run out.
            models.Index(
                fields=["sla_reply_due_at"],
                name="conv_sla_reply",
                condition=Q(sla_reply_due_at__isnull=False),
            ),
            models.Index(
                fields=["sla_resolve_due_at"],
                name="conv_sla_resolve",
                condition=Q(sla_resolve_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact} on {self.dashboard}"

    @property
    def changes(self):
        """Its outbox changes: those of its contact (archive, resolve and tags are fields of
        the contact in Text Request; one conversation per contact)."""
        return Change.objects.of_model(Contact).filter(target_id=self.contact_id)


class Assignment(models.Model):
    """Someone was given a conversation: automatically (``assigned_by`` empty, ``rule`` says
    which) or by a person. Reports read the distribution and the wait (``queued_at`` →
    ``assigned_at``)."""

    class Rule(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round-robin"
        LEAST_BUSY = "least_busy", "Least busy"
        MANUAL = "manual", "By a person"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="assignments"
    )
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="assignments"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule = models.CharField(max_length=12, choices=Rule.choices)
    reason = models.CharField(max_length=300, blank=True)
    # When it started waiting for an agent (None: it was not waiting, e.g. taken over by hand).
    queued_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField()

    class Meta:
        ordering = ["assigned_at", "id"]
        indexes = [
            models.Index(fields=["assigned_at", "id"], name="assign_at"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} → {self.assignee_id} ({self.rule})"


class Message(models.Model):
    """One text. Outbound texts are created here first (the outbox row) and then sent."""

    class Direction(models.TextChoices):
        RECEIVED = "R", "Received"
        SENT = "S", "Sent"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PENDING = "pending", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        UNKNOWN = "unknown", "Checking"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    message_id = models.CharField(
        max_length=64, null=True, blank=True, unique=True, help_text="Text Request's id."
    )
    direction = models.CharField(max_length=1, choices=Direction.choices)
    body = models.TextField(blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    sent_at = models.DateTimeField(help_text="Text Request's message timestamp, or when queued.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    delivery_status = models.CharField(max_length=20, blank=True)
    delivery_error = models.CharField(max_length=500, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    mms_media = models.JSONField(default=list, blank=True)
    # Where the customer said they are, in answer to this text's location request.
    location = models.JSONField(null=True, blank=True)
    # Redacted (a card number, a password): the body is blanked here and hidden in Text
    # Request; sync and webhooks never write a body back while this is set.
    redacted_at = models.DateTimeField(null=True, blank=True)
    redacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    client_key = models.UUIDField(
        null=True, blank=True, unique=True, help_text="From the compose form: dedupes submits."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The outbox: attempts made, when the last one started, and the earliest next step.
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    # The limiter priority of its send: "interactive" (an agent's reply, may use the whole
    # limit) or "sync" (sent by textdesk itself, e.g. a scheduled text: keeps the reserve).
    priority = models.CharField(max_length=12, default="interactive")
    # Sent by textdesk itself with nobody writing it (an away reply): "automatic" in the
    # thread, and no agent's response in Reports.
    is_automatic = models.BooleanField(default=False, db_default=False)
    # Why a text textdesk sends by itself is waiting (quiet hours), shown in the thread.
    waiting_note = models.CharField(max_length=200, blank=True, default="", db_default="")

    ACTIVE = (Status.PENDING, Status.SENDING, Status.UNKNOWN)

    class Meta:
        ordering = ["sent_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "-sent_at", "-id"], name="msg_thread"),
            # Search reads the texts that match newest first across conversations and stops
            # at a page of conversations (textdesk/search/engine.py).
            models.Index(fields=["-sent_at", "-id"], name="msg_newest"),
            models.Index(
                fields=["status", "not_before"],
                name="msg_outbox",
                condition=Q(status__in=["pending", "sending", "unknown"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()}: {self.body[:40]}"

    @property
    def is_unconfirmed(self) -> bool:
        """Text Request has not confirmed the text for a while: the agent may send it again."""
        return is_unconfirmed(self)

    def mark_failed(self, reason: str) -> None:
        self.status = self.Status.FAILED
        self.failure_reason = reason[:500]
        self.not_before = None
        self.save(update_fields=["status", "failure_reason", "not_before"])


class ScheduledTextQuerySet(models.QuerySet):
    def for_user(self, user):
        """Scheduled texts on the lines ``user`` may see (anything else is a 404)."""
        return self.filter(dashboard__in=Dashboard.objects.for_user(user))


class ScheduledText(models.Model):
    """A text an agent wrote to leave later (``scheduled.py``).

    It waits here, outside the thread's messages, until it is due; then one conditional update
    (by the database's clock) releases it: it becomes an outbound ``Message`` (the outbox row,
    sent at sync priority) in the same transaction, or is skipped with the reason why it may
    not leave. Until then it may be edited, sent now or cancelled."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RELEASED = "released", "Handed to the outbox"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="scheduled_texts"
    )
    # Kept when the conversation goes (the Scheduled view then says why the text was skipped).
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scheduled_texts",
    )
    contact_name = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    due_at = models.DateTimeField()
    # The zone the agent chose the time in (the line's), to show it as they typed it.
    time_zone = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    skip_reason = models.CharField(max_length=500, blank=True)
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="schedule"
    )
    client_key = models.UUIDField(unique=True, help_text="From the compose form: dedupes submits.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    objects = ScheduledTextQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # Beat's question, and a line's Scheduled view (keyset on due_at, id).
            models.Index(
                fields=["due_at", "id"], name="sched_due", condition=Q(status="scheduled")
            ),
            models.Index(fields=["dashboard", "status", "due_at", "id"], name="sched_line"),
            models.Index(fields=["conversation", "status"], name="sched_thread"),
            # The Scheduled view's "Not sent": released texts Text Request then refused (few,
            # among every text ever released).
            models.Index(
                fields=["dashboard", "due_at", "id"],
                name="sched_refused",
                condition=Q(status="released") & ~Q(skip_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"Scheduled for {self.due_at:%Y-%m-%d %H:%M}: {self.body[:40]}"

    @property
    def local_due(self):
        return self.due_at.astimezone(ZoneInfo(self.time_zone))

    @property
    def due_label(self) -> str:
        """When it leaves, as the agent chose it: the line's wall clock and zone."""
        local = self.local_due
        return f"{local:%a %b %-d, %Y, %-I:%M %p} {local.tzname()}"

    @property
    def due_input(self) -> str:
        """The local time as a ``datetime-local`` field shows it."""
        return f"{self.local_due:%Y-%m-%dT%H:%M}"


class AwayReply(models.Model):
    """The away reply sent in answer to one received text (``away.py``).

    Two unique constraints make it once: per received text (the webhook and a sync may both
    see it) and per conversation per closed period (``closed_until``: when the line next
    opens). The reply itself is ``message``, an outbox row at sync priority."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="away_replies"
    )
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE, related_name="+")
    trigger = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="away_reply")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="away_reply_of")
    closed_until = models.DateTimeField(help_text="When the line opens again.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "closed_until"], name="one_away_reply_per_closed_period"
            )
        ]
        indexes = [models.Index(fields=["contact", "-created_at"], name="away_contact_recent")]

    def __str__(self) -> str:
        return f"Away reply in {self.conversation_id} until {self.closed_until:%Y-%m-%d %H:%M}"


class Attachment(models.Model):
    """A file an agent attached to an outbound text (MMS), kept with its outbox row.

    The send task uploads each file that has no ``url`` yet (``POST /mms``), stores the URL the
    moment Text Request answers and empties ``content``, then sends the text once with every
    URL. Repeating an upload whose answer was lost only leaves an unused file at Text Request;
    the text itself follows the outbox rule (an unknown send is never repeated by itself).

    A scheduled text's files wait here with ``scheduled`` set and no ``message``, bytes and
    all, until the text is released: the release hands them to its ``Message`` in the same
    transaction (``scheduled`` stays, naming where they came from)."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    scheduled = models.ForeignKey(
        ScheduledText,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    content = models.BinaryField(blank=True)
    url = models.CharField(max_length=1000, blank=True, help_text="Text Request's MMS URL.")

    class Meta:
        ordering = ["message", "position"]
        constraints = [
            models.UniqueConstraint(fields=["message", "position"], name="one_file_per_slot"),
            models.UniqueConstraint(
                fields=["scheduled", "position"],
                condition=Q(message__isnull=True),
                name="one_waiting_file_per_slot",
            ),
            models.CheckConstraint(
                condition=Q(message__isnull=False) | Q(scheduled__isnull=False),
                name="file_belongs_to_a_text",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Draft(models.Model):
    """What an agent was typing in a conversation, kept across switching and reloading."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE)
    body = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"], name="one_draft_per_agent")
        ]

    def __str__(self) -> str:
        return f"Draft by {self.user} in {self.conversation}"


class Note(models.Model):
    """A staff-only note in a thread: never sent to Text Request or the customer. ``@username``
    mentions a colleague, who finds it in the Mentions view."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField()
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in_notes"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # From the note form, so a double submit makes one note (None: notes from before it).
    client_key = models.UUIDField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "-created_at"], name="note_thread"),
            # Search reads matching notes newest first (textdesk/search/engine.py).
            models.Index(fields=["-created_at", "-id"], name="note_newest"),
        ]

    def __str__(self) -> str:
        return f"Note by {self.author}: {self.body[:40]}"


class Bulk(models.Model):
    """One bulk action over many conversations (resolve, archive, tag...): each conversation
    becomes one ``BulkItem`` and, through the usual service, one outbox write at sync priority
    (the limiter keeps its reserve for people)."""

    class Action(models.TextChoices):
        RESOLVE = "resolve", "Resolve"
        REOPEN = "reopen", "Reopen"
        ARCHIVE = "archive", "Archive"
        UNARCHIVE = "unarchive", "Unarchive"
        TAG = "tag", "Add tag"
        UNTAG = "untag", "Remove tag"
        ASSIGN = "assign", "Assign"

    dashboard = models.ForeignKey("dashboards.Dashboard", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    # The tag (TAG/UNTAG) or the assignee (ASSIGN; None unassigns).
    tag = models.ForeignKey("contacts.Tag", on_delete=models.SET_NULL, null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    undo_of = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="undone_by"
    )
    client_key = models.UUIDField(unique=True, help_text="From the bulk form: dedupes submits.")
    total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="Every item queued.")

    def __str__(self) -> str:
        return f"{self.get_action_display()} × {self.total}"


class BulkItem(models.Model):
    """One conversation of a bulk action: queued once (``queued_at`` set in the transaction that
    queued its change), so a worker that dies mid-batch never writes it twice."""

    bulk = models.ForeignKey(Bulk, on_delete=models.CASCADE, related_name="items")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    change = models.ForeignKey(
        "outbox.Change", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the conversation was before (for undo): assignee id, archived/resolved flags.
    before = models.JSONField(default=dict, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True, help_text="Why nothing was queued.")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["bulk", "conversation"], name="one_item_per_bulk")
        ]
        indexes = [
            models.Index(
                fields=["bulk", "id"], name="bulk_todo", condition=Q(queued_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.bulk}: conversation {self.conversation_id}"


def has_location_request(body: str) -> bool:
    """The body asks the customer for their location (either spelling of Text Request's tag)."""
    return "[LocationRequest]" in body or "[Location Request]" in body


class SlaAlert(models.Model):
    """A clock about to run out ("due soon") or run out ("breached"): made once per
    conversation, target, stage and episode (the clock's start), held by the unique constraint,
    so beat may run its check any number of times (sla_alerts.py)."""

    class Stage(models.TextChoices):
        SOON = "soon", "Due soon"
        BREACHED = "breached", "Breached"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="sla_alerts"
    )
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="+"
    )
    target = models.CharField(max_length=10)
    stage = models.CharField(max_length=10, choices=Stage.choices)
    started_at = models.DateTimeField(help_text="When the clock started: its episode.")
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "target", "stage", "started_at"], name="one_sla_alert"
            )
        ]
        indexes = [models.Index(fields=["stage", "created_at"], name="sla_alert_day")]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.target} of conversation {self.conversation_id}"


class Notification(models.Model):
    """An in-app notification to one person: the top bar's count and the Notifications list."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    alert = models.ForeignKey(SlaAlert, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "alert"], name="one_notification_per_alert")
        ]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_list"),
            models.Index(
                fields=["user"], name="notification_unread", condition=Q(read_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"To {self.user}: {self.alert}"
