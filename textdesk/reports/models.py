"""Reports: rollups of textdesk's own mirror, kept by `rollups.py`, read by `metrics.py`.

Three levels, each derived only from the one below, so a rebuild from raw rows gives the same
numbers as the incremental path:

1. Facts per conversation, recomputed whole whenever a conversation is touched:
   `ConversationDay` (its texts per day and sender), `Reply` (each answered wait: first
   response time) and `Resolution` (each resolved episode).
2. Daily rollups per line (`LineDay`) and per line and agent (`AgentDay`): sums of the facts
   of one line and day, recomputed for the (line, day) pairs a run touched.
3. `RollupState`: the watermark of what has been processed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ConversationDay(models.Model):
    """One conversation's texts on one day (in TIME_ZONE); `agent` is who sent them, null for
    received texts and for sends by no textdesk user."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    received = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    sent_by_people = models.PositiveIntegerField(default=0)
    new_conversations = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["conversation"], name="convday_conversation"),
            models.Index(fields=["dashboard", "day"], name="convday_line_day"),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.conversation_id} on {self.day}"


class Reply(models.Model):
    """A wait answered by a person: from the first unanswered received text to the reply."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    waited_from = models.DateTimeField()
    replied_at = models.DateTimeField()
    day = models.DateField(help_text="Day of the reply, in TIME_ZONE.")
    seconds = models.PositiveIntegerField(help_text="Business seconds waited.")
    # The first wait of its episode (a first response) or a later one (a next response): the
    # SLA targets of the page's "Service-level targets" differ.
    is_first = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(fields=["conversation"], name="reply_conversation"),
            models.Index(fields=["dashboard", "day"], name="reply_line_day"),
            models.Index(fields=["agent", "day"], name="reply_agent_day"),
        ]

    def __str__(self) -> str:
        return f"Reply after {self.seconds}s on {self.day}"


class Resolution(models.Model):
    """An episode resolved in textdesk: from its first received text to the resolve."""

    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField()
    day = models.DateField(help_text="Day of the resolve, in TIME_ZONE.")
    seconds = models.PositiveIntegerField(help_text="Business seconds open.")

    class Meta:
        indexes = [
            models.Index(fields=["conversation"], name="resolution_conversation"),
            models.Index(fields=["dashboard", "day"], name="resolution_line_day"),
            models.Index(fields=["agent", "day"], name="resolution_agent_day"),
        ]

    def __str__(self) -> str:
        return f"Resolved after {self.seconds}s on {self.day}"


class DayTotals(models.Model):
    """What a line (or one agent on a line) did on one day: sums of the facts above."""

    dashboard = models.ForeignKey(
        "dashboards.Dashboard", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    received = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    sent_by_people = models.PositiveIntegerField(default=0)
    new_conversations = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    reply_seconds = models.PositiveBigIntegerField(default=0)
    resolutions = models.PositiveIntegerField(default=0)
    resolution_seconds = models.PositiveBigIntegerField(default=0)
    # {bucket: count} of the day's durations (see histograms.py): medians over any period.
    reply_histogram = models.JSONField(default=dict)
    resolution_histogram = models.JSONField(default=dict)

    COUNTERS = (
        "received",
        "sent",
        "sent_by_people",
        "new_conversations",
        "replies",
        "reply_seconds",
        "resolutions",
        "resolution_seconds",
    )

    class Meta:
        abstract = True


class LineDay(DayTotals):
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dashboard", "day"], name="one_lineday"),
        ]
        indexes = [models.Index(fields=["day", "dashboard"], name="lineday_day")]

    def __str__(self) -> str:
        return f"Line {self.dashboard_id} on {self.day}"


class AgentDay(DayTotals):
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dashboard", "day", "agent"], name="one_agentday"),
        ]
        indexes = [models.Index(fields=["agent", "day"], name="agentday_agent_day")]

    def __str__(self) -> str:
        return f"Agent {self.agent_id} on line {self.dashboard_id} on {self.day}"


class RollupState(models.Model):
    """The watermark: the newest message and change processed, and the conversations that had
    something in flight (a text being sent, a resolve not yet confirmed) at the last run, which
    the next run looks at again. One row (pk=1)."""

    last_message_id = models.BigIntegerField(default=0)
    last_change_id = models.BigIntegerField(default=0)
    in_flight = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="one_rollup_state")]

    def __str__(self) -> str:
        return f"Reports counted up to message {self.last_message_id}"
