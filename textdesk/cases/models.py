"""Service-desk cases: the ASMS instance textdesk escalates to, each line's defaults for new
cases, the cases linked to conversations (each one also the outbox row that creates it) and
the notes added to them (outbox rows too)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from textdesk.asms import AsmsClient
from textdesk.dashboards.crypto import decrypt, encrypt
from textdesk.dashboards.models import Dashboard

# State names (ASMS's own or a translated instance's) that mean the work is done.
SOLVED_STATE_NAMES = {"solved", "resolved", "closed", "solucionado", "cerrado", "resuelto"}


class ServiceDesk(models.Model):
    """The ASMS instance and the technician token textdesk uses (one row; the token is
    encrypted at rest and never shown back, only its last four characters)."""

    instance_url = models.URLField(
        help_text="The instance's address, e.g. https://acme.arandasoft.com"
    )
    token_encrypted = models.TextField(editable=False)
    token_last4 = models.CharField(max_length=4, editable=False)
    calls_per_minute = models.PositiveSmallIntegerField(
        default=30, help_text="At most this many calls a minute to read open cases' progress."
    )
    transcript_texts = models.PositiveSmallIntegerField(
        default=10, help_text="Texts quoted in a new case's description."
    )
    tested_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    def __str__(self) -> str:
        return self.instance_url

    @classmethod
    def current(cls) -> ServiceDesk | None:
        return cls.objects.order_by("pk").first()

    @property
    def token(self) -> str:
        return decrypt(self.token_encrypted)

    def set_token(self, token: str) -> None:
        self.token_encrypted = encrypt(token)
        self.token_last4 = token[-4:]

    @property
    def masked_token(self) -> str:
        return f"••••{self.token_last4}"

    def client(self):
        return AsmsClient(
            self.instance_url,
            self.token,
            timeout=(settings.ASMS_CONNECT_TIMEOUT, settings.ASMS_READ_TIMEOUT),
        )


class LineDefaults(models.Model):
    """What a new case from a line's conversation is filed under, unless the agent changes it."""

    dashboard = models.OneToOneField(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="case_defaults"
    )
    project_id = models.PositiveIntegerField(null=True, blank=True)
    item_type_id = models.PositiveIntegerField(null=True, blank=True)
    service_id = models.PositiveIntegerField(null=True, blank=True)
    category_id = models.PositiveIntegerField(null=True, blank=True)
    group_id = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Case defaults of {self.dashboard}"


class CaseQuerySet(models.QuerySet):
    def for_user(self, user):
        """Cases of the lines the user may see (another line's case is a 404)."""
        return self.filter(dashboard__in=Dashboard.objects.for_user(user))


class Case(models.Model):
    """An ASMS case linked to a conversation.

    A case created from textdesk is also its own outbox row:
    ``pending → sending → created | failed | unknown``. ASMS takes no idempotency key, so the
    description carries a unique ``marker`` and an unknown outcome is settled by searching for
    it; nothing is created twice. A case linked by search starts ``created``."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        SENDING = "sending", "Creating"
        CREATED = "created", "Created"
        UNKNOWN = "unknown", "Checking"
        FAILED = "failed", "Failed"

    class Transcript(models.TextChoices):
        NONE = "none", "Not attached"
        PENDING = "pending", "Queued"
        SENDING = "sending", "Attaching"
        ATTACHED = "attached", "Attached"
        UNKNOWN = "unknown", "Not confirmed"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="cases"
    )
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="cases"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_linked = models.BooleanField(default=False, help_text="Linked to an existing case.")
    # The outbox.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    client_key = models.UUIDField(null=True, blank=True, unique=True)
    marker = models.CharField(max_length=40, null=True, blank=True, unique=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    # What was asked for (kept, so a refused request can be corrected without retyping).
    subject = models.CharField(max_length=250)
    description = models.TextField(blank=True)
    project_id = models.PositiveIntegerField(null=True, blank=True)
    item_type_id = models.PositiveIntegerField(null=True, blank=True)
    service_id = models.PositiveIntegerField(null=True, blank=True)
    category_id = models.PositiveIntegerField(null=True, blank=True)
    group_id = models.PositiveIntegerField(null=True, blank=True)
    # ASMS's case, as last read.
    case_id = models.IntegerField(null=True, blank=True, help_text="ASMS's id.")
    code = models.CharField(max_length=40, blank=True, help_text="ASMS's case code (idByProject).")
    state_name = models.CharField(max_length=100, blank=True)
    is_closed = models.BooleanField(default=False)
    responsible_name = models.CharField(max_length=200, blank=True)
    group_name = models.CharField(max_length=200, blank=True)
    commentary = models.TextField(blank=True, help_text="ASMS's solution.")
    opened_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(
        null=True, blank=True, help_text="When textdesk saw it solved."
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    check_error = models.CharField(max_length=500, blank=True)
    identity_error = models.CharField(
        max_length=500,
        blank=True,
        help_text="Why ASMS's last answer was not this case (its id or our marker differed); "
        "nothing was overwritten. Cleared by a read that matches.",
    )

    objects = CaseQuerySet.as_manager()

    IN_FLIGHT = (Status.PENDING, Status.SENDING, Status.UNKNOWN)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "case_id"],
                condition=Q(case_id__isnull=False),
                name="case_linked_once_per_conversation",
            ),
            # One creation in flight per conversation: a second tab cannot start another.
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(status__in=["pending", "sending", "unknown"]),
                name="case_one_creation_in_flight",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "not_before"],
                name="case_outbox",
                condition=Q(status__in=["pending", "sending", "unknown"]),
            ),
            models.Index(
                fields=["checked_at"],
                name="case_open_to_check",
                condition=Q(status="created", is_closed=False),
            ),
            models.Index(fields=["dashboard", "-created_at", "-id"], name="case_line_recent"),
            models.Index(fields=["conversation", "-created_at"], name="case_conversation"),
        ]

    def __str__(self) -> str:
        return self.code or f"Case request {self.pk}"

    @property
    def in_flight(self) -> bool:
        return self.status in self.IN_FLIGHT

    def _transcript(self) -> CaseTranscript | None:
        try:
            return self.transcript
        except CaseTranscript.DoesNotExist:
            return None

    @property
    def transcript_status(self) -> str:
        """The transcript file's status (``none`` until the case exists)."""
        row = self._transcript()
        return row.status if row else self.Transcript.NONE

    @property
    def transcript_status_display(self) -> str:
        return self.Transcript(self.transcript_status).label

    @property
    def transcript_error(self) -> str:
        row = self._transcript()
        return row.failure_reason if row else ""

    @property
    def is_solved(self) -> bool:
        return self.status == self.Status.CREATED and (
            self.is_closed or self.state_name.strip().casefold() in SOLVED_STATE_NAMES
        )


class CaseTranscript(models.Model):
    """The conversation as a text file attached to its case once the case exists: an outbox
    row ``pending → sending → attached | failed | unknown`` (ASMS cannot list a case's
    attachments, so an unknown outcome stays shown as such until a person tries again)."""

    Status = Case.Transcript

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="transcript")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["status", "not_before"],
                name="case_transcript_outbox",
                condition=Q(status__in=["pending", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"Transcript of {self.case}"

    @property
    def file_name(self) -> str:
        return f"textdesk-transcript-{self.case.code}.txt"


class CaseNote(models.Model):
    """A note added to a case from textdesk: an outbox row ``pending → sending → sent |
    failed | unknown`` (ASMS cannot list notes, so an unknown outcome stays shown as such)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Added"
        UNKNOWN = "unknown", "Not confirmed"
        FAILED = "failed", "Failed"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    text = models.CharField(max_length=254)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    client_key = models.UUIDField(null=True, blank=True, unique=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["status", "not_before"],
                name="case_note_outbox",
                condition=Q(status__in=["pending", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return self.text
