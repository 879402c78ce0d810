from django.conf import settings
from django.db import models
from django.utils import timezone

from textdesk.outbox import registry

# The kinds of entry besides the outbox's change kinds (named by the domains that register
# them): texts and payment requests (rows with their own outcome), and what people do that
# never reaches Text Request.
OWN_KINDS = [
    ("text", "Send a text"),
    ("payment_request", "Request a payment"),
    ("sign_in", "Sign in"),
    ("sign_in_failed", "Failed sign-in"),
    ("sign_out", "Sign out"),
    ("sign_out_forced", "End a session"),
    ("two_factor", "Two-factor sign-in"),
    ("two_factor_failed", "Wrong two-factor code"),
    ("two_factor_reset", "Reset someone's two-factor"),
    ("security_policy", "Sign-in rules"),
    ("role_change", "Change a role"),
    ("staff", "Add or edit staff"),
    ("preferences", "Own preferences"),
    ("line_access", "Change who works a line"),
    ("saved_reply", "Saved reply"),
    ("connection", "Text Request connection"),
    ("line", "Add or delete a line"),
    ("contact_export", "Export contacts"),
    ("contact_import", "Import contacts"),
    ("payment_export", "Export payments"),
    ("assignment", "Assign a conversation"),
    ("assignment_auto", "Automatic assignment"),
    ("assignment_rule", "Assignment rule of a line"),
    ("availability", "Available or Away"),
    ("note", "Internal note"),
    ("service_desk", "Service desk settings"),
    ("case", "Service desk case"),
    ("text_scheduled", "Schedule a text"),
    ("text_schedule_edited", "Edit a scheduled text"),
    ("text_schedule_sent_now", "Send a scheduled text now"),
    ("text_schedule_cancelled", "Cancel a scheduled text"),
]
OWN_LABELS = dict(OWN_KINDS)

# The models of the rows an entry links by id (``"message"`` → ``message_id``), filled by
# ``registry.track`` as the domains above register them.
LINKED: dict[str, type] = {}


def kind_choices() -> list[tuple[str, str]]:
    """Every kind an entry may have, for the filter (change kinds from the registry)."""
    kinds = {kind: registry.label(kind) for kind in registry.kinds()}
    return sorted({**kinds, **OWN_LABELS}.items(), key=lambda kind: kind[1])


class Entry(models.Model):
    """One thing a person did: who, when, what, where, and how it ended.

    A write that goes through the outbox links its row (``change``, ``message_id`` or
    ``payment_id``): the outcome shown is that row's state, so it is always current (pending, then
    done, or failed with Text Request's reason) without the outbox knowing the audit log
    exists. Everything else (sign-ins, roles, saved replies, connections) carries its outcome
    in ``status`` and ``reason``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept when the person is deleted, so old entries still say who.
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=30)
    summary = models.CharField(max_length=300)
    # Where it happened, by id and by the name it had then: the audit log sits below the
    # domains (no foreign keys up the layers) and outlives what it describes (a deleted line
    # or contact still reads well here).
    dashboard_id = models.BigIntegerField(null=True, blank=True)
    dashboard_name = models.CharField(max_length=200, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    conversation_id = models.BigIntegerField(null=True, blank=True)
    # The outbox row whose state is the outcome: a change (the outbox is below the audit log),
    # or a text or a payment request by id (their models: ``LINKED``, from ``registry.track``).
    change = models.ForeignKey(
        "outbox.Change", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message_id = models.BigIntegerField(null=True, blank=True)
    payment_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DONE)
    reason = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "entries"
        # Keyset paging newest first, alone or by one filter (person, line, kind).
        indexes = [
            models.Index(fields=["-at", "-id"], name="audit_recent"),
            models.Index(fields=["actor", "-at", "-id"], name="audit_actor"),
            models.Index(fields=["dashboard_id", "-at", "-id"], name="audit_line"),
            models.Index(fields=["kind", "-at", "-id"], name="audit_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name}: {self.summary}"

    @property
    def kind_label(self) -> str:
        return OWN_LABELS.get(self.kind) or registry.label(self.kind)

    @property
    def row(self):
        """The outbox row whose state is the outcome (None when there is none or it is gone);
        the audit page loads a page's rows at once and sets them."""
        if not hasattr(self, "_row"):
            row = self.change if self.change_id else None
            for name, model in LINKED.items():
                pk = getattr(self, f"{name}_id")
                if row is None and pk is not None:
                    row = model._default_manager.filter(pk=pk).first()
            self._row = row
        return self._row

    @row.setter
    def row(self, row) -> None:
        self._row = row

    def refresh_from_db(self, *args, **kwargs) -> None:
        self.__dict__.pop("_row", None)  # like a cached relation: read the row again
        super().refresh_from_db(*args, **kwargs)

    @property
    def outcome(self) -> tuple[str, str]:
        """(state, reason) now: from the outbox row when there is one."""
        row = self.row
        if row is None:
            if self.status == self.Status.PENDING:  # its outbox row was deleted with its line
                return "unknown", "Its outbox record was removed with its line or contact."
            return self.status, self.reason
        status = row.status
        if status in {"sent", "done", "received"}:
            return "done", ""
        if status == "failed":
            return "failed", row.failure_reason
        if status == "superseded":
            return "superseded", "Replaced by a newer change before it was sent."
        if status == "unknown":
            return "pending", "Text Request has not confirmed it yet."
        return "pending", ""
