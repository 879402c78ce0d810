from django.db import models
from django.db.models import F, Q

from textdesk.contacts.area_codes import zone_for_number
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.models import Change
from textdesk.phones import format_phone


class Tag(models.Model):
    """A tag of a line (read-only through the API: managed in Text Request)."""

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="tags"
    )
    tag_id = models.CharField(max_length=64, help_text="Text Request's GUID.")
    name = models.CharField(max_length=100)
    color = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["dashboard", "tag_id"], name="unique_tag_per_dashboard")
        ]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="custom_fields"
    )
    field_id = models.CharField(max_length=64)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["dashboard", "field_id"], name="unique_field_per_dashboard"
            )
        ]

    def __str__(self) -> str:
        return self.name


class GroupQuerySet(models.QuerySet):
    def for_user(self, user):
        """Groups of the lines ``user`` may see."""
        return self.filter(dashboard__in=Dashboard.objects.for_user(user))


class Group(models.Model):
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="groups"
    )
    group_id = models.BigIntegerField()
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    is_keyword = models.BooleanField(default=False)
    member_count = models.PositiveIntegerField(default=0)
    last_message_sent_at = models.DateTimeField(null=True, blank=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["dashboard", "group_id"], name="unique_group_per_dashboard"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def changes(self):
        """Its outbox changes (the outbox points at the group by name, not by a key)."""
        return Change.objects.of(self)


class ContactQuerySet(models.QuerySet):
    def for_user(self, user):
        """Contacts still at Text Request on the lines ``user`` may see."""
        return self.filter(dashboard__in=Dashboard.objects.for_user(user), removed_at__isnull=True)

    def matching(self, query: str):
        """Partial match on name or number; every word must match. A word of digits and
        punctuation ("(423)", "555-98") is a number and looks at numbers only."""
        match = Q()
        # PostgreSQL text holds no NUL, so no stored name has one: dropping it loses no match.
        for term in query.replace("\x00", "").split():
            digits = "".join(ch for ch in term if ch.isdigit())
            if digits and not any(ch.isalpha() for ch in term):
                match &= Q(phone_number__contains=digits)
                continue
            # One expression over the three names (a word has no space, so it cannot match
            # across two of them): one trigram index (contact_names_trgm) answers it, where
            # three ORed columns made PostgreSQL scan the whole table for a common name.
            term_match = Q(search_names__icontains=term)
            if digits:
                term_match |= Q(phone_number__contains=digits)
            match &= term_match
        return self.alias(search_names=SearchNames()).filter(match)


class SearchNames(models.Func):
    """First, last and display name as one string, exactly as the index
    ``contact_names_trgm`` (migration 0003) is built: ``UPPER(<this>::text) LIKE`` uses it."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = models.TextField()

    def __init__(self):
        super().__init__(F("first_name"), F("last_name"), F("display_name"))


class Contact(models.Model):
    """A person texting one line, keyed by 10-digit phone number within the line."""

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="contacts"
    )
    phone_number = models.CharField(max_length=10)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    is_suppressed = models.BooleanField(default=False)
    suppressed_reason = models.CharField(max_length=200, blank=True)
    is_archived = models.BooleanField(default=False)
    is_blocked = models.BooleanField(default=False)
    is_resolved = models.BooleanField(default=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    last_message_sent_at = models.DateTimeField(null=True, blank=True)
    last_message_received_at = models.DateTimeField(null=True, blank=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    total_messages_sent = models.PositiveIntegerField(default=0)
    total_messages_received = models.PositiveIntegerField(default=0)
    response_count = models.PositiveIntegerField(default=0)
    textrequest_created_at = models.DateTimeField(null=True, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True, help_text="{field_id: value}")
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    groups = models.ManyToManyField(Group, blank=True, related_name="contacts")
    synced_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    # The contact's own IANA time zone when an agent set it; else their area code's (zone).
    time_zone = models.CharField(max_length=64, blank=True, default="", db_default="")

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dashboard", "phone_number"], name="unique_contact_per_dashboard"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def changes(self):
        """Its outbox changes (the outbox points at the contact by name, not by a key)."""
        return Change.objects.of(self)

    @property
    def has_opted_out(self) -> bool:
        return self.opted_out_at is not None

    @property
    def formatted_phone(self) -> str:
        return format_phone(self.phone_number)

    @property
    def name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return self.display_name or full or self.formatted_phone

    @property
    def zone_name(self) -> str | None:
        """Where the contact's clock is: their own zone if set, else their area code's
        (``area_codes.py``), else None (not a US or Canadian number)."""
        return self.time_zone or zone_for_number(self.phone_number)

    @property
    def cannot_text_reason(self) -> str:
        """Why nobody may text this contact now, or '' when texting is allowed."""
        if self.has_opted_out:
            return "This contact opted out (texted STOP). They must text START to receive texts."
        if self.is_blocked:
            return "This contact is blocked."
        return ""


class ConsentEvent(models.Model):
    """Append-only record of opt-outs and opt-ins: who, when, how (CTIA, FCC 24-18)."""

    class Kind(models.TextChoices):
        OPT_OUT = "opt_out", "Opted out"
        OPT_IN = "opt_in", "Opted back in"
        FLAGGED = "flagged", "Possible opt-out to confirm"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source = models.CharField(max_length=40, help_text="webhook, sync, agent…")
    body = models.TextField(blank=True, help_text="The text that caused it, if any.")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.source})"


class ContactImport(models.Model):
    """A CSV file on its way in: uploaded, mapped, checked (a dry run), then imported through
    the outbox in batches of at most 1,000 contacts (one BulkUpdateContacts call each)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        CHECKED = "checked", "Checked"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Imported"

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="imports"
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=200)
    encoding = models.CharField(max_length=20)
    # The decoded file (at most 10 MB), kept until the import is done.
    text = models.TextField()
    header = models.JSONField(default=list)
    mapping = models.JSONField(default=list, help_text="One target per column ('' ignores it).")
    rows_total = models.PositiveIntegerField(default=0)
    # The dry run: contacts to write (only those that differ from textdesk's copy) and errors.
    to_write = models.JSONField(default=list)
    unchanged = models.PositiveIntegerField(default=0)
    write_count = models.PositiveIntegerField(default=0, help_text="len(to_write), kept apart.")
    new_count = models.PositiveIntegerField(default=0, help_text="Of to_write, new contacts.")
    errors = models.JSONField(default=list, help_text="[[row number, value, reason], …]")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename
