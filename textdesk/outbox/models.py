from django.apps import apps
from django.conf import settings
from django.db import models

from textdesk.outbox import registry


def label_of(model_or_row) -> str:
    """The name a target is stored under: ``app_label.modelname``."""
    return model_or_row._meta.label_lower


class ChangeQuerySet(models.QuerySet):
    def of(self, row):
        """Changes whose target is ``row`` (any model instance)."""
        return self.filter(target_model=label_of(row), target_id=row.pk)

    def of_model(self, model, ids=None):
        """Changes whose target is a row of ``model`` (optionally one of ``ids``: a list or a
        subquery of primary keys)."""
        found = self.filter(target_model=label_of(model))
        return found if ids is None else found.filter(target_id__in=ids)

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

    # The line it writes to, by id: the outbox sits below ``dashboards``, so no foreign key up
    # the layers. The dashboards layer deletes a line's changes with the line (its
    # ``pre_delete`` receiver) and gives the outbox a line's client (``registry.register_client``).
    dashboard_id = models.BigIntegerField(db_index=True)
    # What the change writes, by name: the outbox sits below the domains, so it keeps a generic
    # pointer (``"contacts.contact"`` and the row's id) rather than a foreign key up the layers.
    # A conversation's changes target its contact (one conversation per contact); line-level
    # changes (rename a line, create a group, a bulk batch) have no target.
    target_model = models.CharField(max_length=60, blank=True, default="")
    target_id = models.BigIntegerField(null=True, blank=True)
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
        ordering = ["created_at", "id"]
        constraints = [
            # A payment gets one reminder, one cancel, one mark-paid (unless the attempt failed).
            models.UniqueConstraint(
                fields=["target_model", "target_id", "kind"],
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
            # A contact's, payment's or group's changes (the thread, the payment page, sync).
            models.Index(fields=["target_model", "target_id", "status"], name="change_target"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"

    @property
    def label(self) -> str:
        """What the change does, in words (from its kind's registration)."""
        return registry.label(self.kind)

    @property
    def target(self):
        """The row this change writes (None when it has none or it is gone), loaded by name:
        the outbox imports no domain."""
        if not hasattr(self, "_target"):
            row = None
            if self.target_model and self.target_id is not None:
                model = apps.get_model(self.target_model)
                row = model._default_manager.filter(pk=self.target_id).first()
            self._target = row
        return self._target

    @target.setter
    def target(self, row) -> None:
        self.target_model = label_of(row) if row is not None else ""
        self.target_id = row.pk if row is not None else None
        self._target = row

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE
