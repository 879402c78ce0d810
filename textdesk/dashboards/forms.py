import uuid
from datetime import time

from django import forms
from django.db.models import Q
from django.utils import timezone

from textdesk.accounts.models import MAX_CAPACITY, User
from textdesk.dashboards.hours import hours_of
from textdesk.dashboards.models import (
    AWAY_TEXT_MAX,
    SLA_MAX_MINUTES,
    BusinessHours,
    Connection,
    Dashboard,
    SavedReply,
    SlaPolicy,
)
from textdesk.phones import format_phone
from textdesk.transport import service_url_error


class LineAgentsForm(forms.Form):
    """Who may work one line."""

    agents = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Agents"
    )

    def __init__(self, *args, line: Dashboard, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agents"].queryset = User.objects.filter(
            is_active=True, groups__name="Agent"
        ).order_by("first_name", "username")
        self.initial.setdefault("agents", list(line.agents.all()))


class LineAssignmentForm(forms.ModelForm):
    """A line's automatic assignment: the rule and the capacity per agent."""

    assignment_capacity = forms.IntegerField(
        label="Capacity per agent",
        min_value=1,
        max_value=MAX_CAPACITY,
        help_text="Most unresolved conversations an agent holds before automatic assignment "
        "passes them by. A person's own capacity (Admin → Staff) wins.",
        error_messages={
            "min_value": "Capacity must be at least 1. To stop automatic assignment choose "
            "Off; an agent who should get nothing goes Away.",
            "max_value": f"Capacity can be at most {MAX_CAPACITY}.",
            "invalid": "Capacity is a whole number, e.g. 10.",
            "required": "Say how many unresolved conversations an agent may hold, e.g. 10.",
        },
    )

    class Meta:
        model = Dashboard
        fields = ["assignment_rule", "assignment_capacity"]
        widgets = {"assignment_rule": forms.RadioSelect}
        labels = {"assignment_rule": "Assign new and reopened conversations"}


class LineNameForm(forms.Form):
    name = forms.CharField(max_length=200, label="Line name", help_text="Staff see this name.")


class TextingRulesForm(forms.Form):
    """A line's away reply and quiet hours (Admin → the line → Away reply and quiet hours)."""

    away_reply_enabled = forms.BooleanField(
        required=False,
        label="Send an away reply",
        help_text="Sent by itself to a customer who texts while the line is closed (its "
        "business hours and holidays): once per conversation per closed time, at most once "
        "per contact in 12 hours, never to STOP, HELP, an opted-out or blocked contact or an "
        "auto-responder.",
    )
    away_reply_text = forms.CharField(
        required=False,
        label="Away reply",
        # No maxlength attribute: a longer text gets the error below and is kept to edit.
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"At most {AWAY_TEXT_MAX} characters.",
    )
    quiet_start = forms.TimeField(
        label="Texts may leave from",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In the customer's time zone (their own, else their area code's).",
    )
    quiet_end = forms.TimeField(
        label="until",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Scheduled texts and away replies wait for the next allowed minute; an "
        "agent replying outside these hours is asked once. 00:00 as the end means midnight "
        "(00:00 until 00:00: no quiet hours).",
    )

    def clean_away_reply_text(self) -> str:
        text = (self.cleaned_data.get("away_reply_text") or "").strip()
        if len(text) > AWAY_TEXT_MAX:
            raise forms.ValidationError(
                f"An away reply can be at most {AWAY_TEXT_MAX} characters; this one has "
                f"{len(text)}."
            )
        return text

    def clean(self):
        data = super().clean()
        if (
            data.get("away_reply_enabled")
            and not data.get("away_reply_text")
            and ("away_reply_text" not in self.errors)
        ):
            self.add_error("away_reply_text", "Write the away reply, or turn it off.")
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if start is not None and end is not None and start >= end and end != time(0):
            self.add_error(
                "quiet_end",
                f"Texts must be allowed for some time each day: the end ({end:%H:%M}) must "
                f"come after the start ({start:%H:%M}) on the same day.",
            )
        return data


class NumberSearchForm(forms.Form):
    connection = forms.ModelChoiceField(
        queryset=None, empty_label=None, label="Text Request account"
    )
    area_code = forms.RegexField(
        regex=r"^[2-9]\d{2}$",
        max_length=3,
        label="Area code",
        error_messages={"invalid": "Enter a 3-digit US area code, like 423."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = Connection.objects.filter(is_active=True)


class NewLineForm(NumberSearchForm):
    phone = forms.ChoiceField(widget=forms.RadioSelect, label="Number")
    name = forms.CharField(max_length=200, label="Line name", help_text="e.g. Front Desk")

    def __init__(self, *args, numbers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].choices = [(n, format_phone(n)) for n in numbers]
        self.fields["connection"].widget = forms.HiddenInput()
        self.fields["area_code"].widget = forms.HiddenInput()


class SavedReplyForm(forms.ModelForm):
    """A saved reply; its shortcut may not clash with another reply the same composer shows."""

    class Meta:
        model = SavedReply
        fields = ["dashboard", "shortcut", "body"]
        labels = {"dashboard": "Phone line", "shortcut": "Shortcut", "body": "Text"}
        help_texts = {
            "dashboard": "Leave on “Every line” to offer it in every line's composer.",
            "shortcut": "Agents type / and this word in the composer: letters, digits, - and _.",
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 5, "maxlength": 1600})}

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dashboard"].queryset = lines
        self.fields["dashboard"].empty_label = "Every line"
        self.fields["dashboard"].required = False

    def clean_shortcut(self) -> str:
        return self.cleaned_data["shortcut"].lower()

    def clean(self):
        cleaned = super().clean()
        shortcut, line = cleaned.get("shortcut"), cleaned.get("dashboard")
        if not shortcut:
            return cleaned
        clashes = SavedReply.objects.filter(shortcut=shortcut).exclude(pk=self.instance.pk)
        if line is not None:
            # Shown with this line's replies: its own and those for every line.
            clashes = clashes.filter(Q(dashboard=line) | Q(dashboard__isnull=True))
        clash = clashes.select_related("dashboard").first()
        if clash is not None:
            where = clash.dashboard.name if clash.dashboard else "every line"
            self.add_error("shortcut", f"/{shortcut} is already a saved reply for {where}.")
        return cleaned


class ConnectionForm(forms.Form):
    # One per form shown: a double submit is one connection (connections.AlreadyConnected).
    # A plain Field: nothing it holds can make the (hidden) field invalid.
    client_key = forms.Field(widget=forms.HiddenInput, initial=uuid.uuid4, required=False)
    name = forms.CharField(max_length=100, help_text="How staff tell accounts apart.")
    api_url = forms.URLField(
        label="API URL",
        initial="https://api.textrequest.com/api/v3",
        help_text="Text Request's API. Change it only for a test server.",
        assume_scheme="https",
    )
    api_key = forms.CharField(
        label="API key",
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="From Text Request: Settings → API. Stored encrypted, never shown again.",
    )
    rate_limit = forms.IntegerField(
        label="Calls per minute",
        min_value=1,
        max_value=10_000,
        initial=100,
        help_text="Text Request allows 100 per minute per key unless they gave you another limit.",
    )

    def clean_api_key(self) -> str:
        return self.cleaned_data["api_key"].strip()

    def clean_client_key(self) -> uuid.UUID | None:
        # Only a double-submit guard: a missing or mangled one just means no guard.
        try:
            return uuid.UUID(str(self.cleaned_data["client_key"] or ""))
        except ValueError:
            return None

    def clean_api_url(self) -> str:
        url = self.cleaned_data["api_url"]
        error = service_url_error(url)
        if error:
            raise forms.ValidationError(error)
        return url


class ApiKeyForm(forms.Form):
    api_key = forms.CharField(
        label="New API key",
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Tested before it replaces the current key; if the test fails, nothing changes.",
    )

    def clean_api_key(self) -> str:
        return self.cleaned_data["api_key"].strip()


class RateLimitForm(forms.Form):
    rate_limit = forms.IntegerField(label="Calls", min_value=1, max_value=10_000)
    rate_window = forms.IntegerField(label="per seconds", min_value=1, max_value=3600)


class DisconnectForm(forms.Form):
    mirror = forms.ChoiceField(
        label="textdesk's copy of this account",
        widget=forms.RadioSelect,
        choices=[
            ("keep", "Keep it, read-only: staff can still read conversations, nothing is sent"),
            ("delete", "Delete it: every line, contact, conversation and payment of this account"),
        ],
    )
    confirm = forms.CharField(label="Type the account's name to confirm", max_length=100)

    def __init__(self, *args, connection, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.connection.name:
            raise forms.ValidationError(f"Type “{self.connection.name}” exactly to confirm.")
        return typed


class DeleteLineForm(forms.Form):
    confirm = forms.CharField(label="Type the line's name to confirm", max_length=200)

    def __init__(self, *args, line: Dashboard, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.line.name:
            raise forms.ValidationError(f"Type “{self.line.name}” exactly to confirm.")
        return typed


def _target_field(label: str, help_text: str) -> forms.IntegerField:
    return forms.IntegerField(
        required=False,
        min_value=1,
        max_value=SLA_MAX_MINUTES,
        label=label,
        help_text=help_text,
        error_messages={
            "min_value": "A target is at least 1 minute (leave it empty for no target).",
            "max_value": f"A target is at most {SLA_MAX_MINUTES:,} minutes (30 days).",
            "invalid": "Enter whole minutes, like 15 or 240.",
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "placeholder": "No target"}),
    )


class SlaPolicyForm(forms.ModelForm):
    """A line's targets in minutes of its business hours; each optional."""

    first_response_minutes = _target_field(
        "First response (minutes)",
        "From a customer's first text (of a new or reopened conversation) to a person's reply.",
    )
    next_response_minutes = _target_field(
        "Next response (minutes)", "From each later customer text after a reply to the next reply."
    )
    resolution_minutes = _target_field(
        "Resolution (minutes)", "From the customer's first text to the conversation's resolve."
    )

    class Meta:
        model = SlaPolicy
        fields = ["first_response_minutes", "next_response_minutes", "resolution_minutes"]

    def __init__(self, *args, line: Dashboard, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = line

    def clean(self):
        """Refuse targets the line's hours can never meet (say, closed every day)."""
        data = super().clean()
        hours = hours_of(BusinessHours.objects.filter(dashboard=self.line).first())
        if hours.always_open:
            return data
        now = timezone.now()
        for name in self.Meta.fields:
            minutes = data.get(name)
            if minutes and hours.moment_after(now, minutes * 60) is None:
                self.add_error(
                    name,
                    "This line's business hours never hold that much open time within a year "
                    "(is it closed every day?). Change its hours first, or leave this empty.",
                )
        return data
