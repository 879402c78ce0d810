"""Forms of the inbox: list filters, the composer, the stale-state guard and the actions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django import forms

from textdesk.contacts.forms import NAME_MAX, NOTE_MAX, check_display_name
from textdesk.conversations import scheduled
from textdesk.phones import InvalidPhoneNumber, normalize_phone
from textdesk.textrequest import mms

VIEWS = [
    ("unresolved", "Unresolved"),
    ("all", "All"),
    ("mine", "Mine"),
    ("unassigned", "Unassigned"),
    ("archived", "Archived"),
    ("mentions", "Mentions"),
    ("breached", "Breached"),
]
SORTS = [("recent", "Newest activity"), ("waiting", "Longest waiting"), ("sla", "SLA due")]
BODY_MAX = 1600
BIGINT_MAX = 2**63 - 1


def parse_id(raw: str) -> int | None:
    """A row id or a stamp from a URL or a hidden field, or None when it is not one.

    ASCII digits only: `str.isdigit()` also accepts digits such as "²" that `int()` refuses.
    Nothing larger than a PostgreSQL bigint, so a lookup never overflows the column."""
    if not raw or len(raw) > 19 or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= BIGINT_MAX else None


def moment_of(stamp: int) -> datetime | None:
    """Epoch microseconds as an aware datetime, or None outside what `datetime` can hold."""
    try:
        return datetime.fromtimestamp(stamp / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


class ListFilterForm(forms.Form):
    """What the conversation list shows. Everything lives in the query string, so a reload or a
    shared link shows the same list."""

    view = forms.ChoiceField(choices=VIEWS, required=False)
    sort = forms.ChoiceField(choices=SORTS, required=False)
    tag = forms.IntegerField(required=False, min_value=1, label="Tag")
    q = forms.CharField(required=False, max_length=100, label="Search")
    after = forms.CharField(required=False, max_length=80)

    def __init__(self, data=None, *, line=None):
        super().__init__(data)
        self.line = line
        self.fields["q"].widget.attrs.update(
            {"type": "search", "placeholder": "Name or number", "autocomplete": "off"}
        )

    def clean_tag(self):
        """A tag of this line (read only when a tag is asked for: most requests have none)."""
        pk = self.cleaned_data["tag"]
        if pk and not (self.line and self.line.tags.filter(pk=pk).exists()):
            raise forms.ValidationError("That tag is not one of this line's tags.")
        return pk

    def clean_view(self) -> str:
        return self.cleaned_data["view"] or "unresolved"

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or "recent"

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())

    def clean_after(self):
        """The keyset cursor: `<epoch microseconds>.<id>` of the last row already shown."""
        raw = self.cleaned_data["after"]
        if not raw:
            return None
        stamp, _, pk = raw.partition(".")
        stamp, pk = parse_id(stamp), parse_id(pk)
        moment = moment_of(stamp) if stamp is not None else None
        if moment is None or pk is None:
            raise forms.ValidationError("This page link is not valid; start from the top.")
        return moment, pk

    def query_string(self, **override) -> str:
        from django.http import QueryDict

        query = QueryDict(mutable=True)
        values = {
            "view": self.cleaned_data.get("view"),
            "sort": self.cleaned_data.get("sort"),
            "tag": self.cleaned_data.get("tag"),
            "q": self.cleaned_data.get("q"),
        } | override
        defaults = {"view": "unresolved", "sort": "recent"}
        for key, value in values.items():
            if value not in (None, "") and defaults.get(key) != value:
                query[key] = value
        return query.urlencode()


def cursor_for(moment: datetime, pk: int) -> str:
    return f"{int(moment.timestamp() * 1_000_000)}.{pk}"


class SeenForm(forms.Form):
    """What the agent saw when the thread was drawn (see `views.snapshot`).

    Carried by every guarded form (reply, resolve, reminder). The guard's "go ahead anyway"
    resubmits the same form with a fresh `seen`, so only changes after that pause it again.
    """

    seen = forms.CharField(max_length=2000, widget=forms.HiddenInput)

    def clean_seen(self) -> dict:
        return parse_seen(self.cleaned_data["seen"])


def parse_seen(raw: str) -> dict:
    """`m=<newest message id>;t=<its epoch µs>;r=<0|1>;p=<payment id>:<state>,...`"""
    out_of_date = forms.ValidationError("The page you sent this from is out of date; reload it.")
    parts = dict(item.partition("=")[::2] for item in raw.split(";") if item)
    message_id = parse_id(parts.get("m", "0"))
    stamp = parse_id(parts.get("t", "0"))
    # The guard reads texts since this moment, so it must be one `datetime` can hold.
    if message_id is None or stamp is None or moment_of(stamp) is None:
        raise out_of_date
    if parts.get("r") not in ("0", "1"):
        raise out_of_date
    resolved = parts["r"] == "1"
    payments = {}
    for item in filter(None, parts.get("p", "").split(",")):
        pk, _, state = item.partition(":")
        if parse_id(pk) is None:
            raise out_of_date
        payments[parse_id(pk)] = state
    return {"message_id": message_id, "stamp": stamp, "resolved": resolved, "payments": payments}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True
    template_name = "django/forms/widgets/file.html"  # no "clear" checkbox: nothing is stored


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); answers a list."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ReplyForm(SeenForm):
    body = forms.CharField(
        max_length=BODY_MAX,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reply",
    )
    attachments = MultipleFileField(
        required=False,
        label="Attach files",
        help_text=f"Up to {mms.MAX_ATTACHMENTS}: pictures, PDF (1 MB at most), CSV, TXT, XLSX, "
        "MP4 or vCard (5 MB at most).",
        widget=MultipleFileInput(attrs={"accept": mms.ACCEPT}),
    )
    client_key = forms.UUIDField(widget=forms.HiddenInput)
    # The agent answered "Send anyway" to the quiet-hours question (quiet.py).
    quiet_ok = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_body(self) -> str:
        return self.cleaned_data["body"].strip()

    def clean_attachments(self) -> list:
        files = self.cleaned_data["attachments"]
        if len(files) > mms.MAX_ATTACHMENTS:
            raise forms.ValidationError(
                f"A text can carry at most {mms.MAX_ATTACHMENTS} files; you chose {len(files)}."
            )
        problems = [p for f in files if (p := mms.problem(f.name, f.size))]
        if problems:
            raise forms.ValidationError(problems)
        return files

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("body") == "" and cleaned.get("attachments") == []:
            self.add_error("body", "Write something to send.")
        return cleaned


class NoteForm(forms.Form):
    note = forms.CharField(
        max_length=4000,
        # A combobox: typing @ offers the line's colleagues (static/js/inbox.js, "Pickers").
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "role": "combobox",
                "aria-autocomplete": "list",
                "aria-controls": "mention-people",
                "aria-expanded": "false",
                "data-picker": "mention-people",
            }
        ),
        label="Internal note",
        help_text="Only staff see notes. Type @ and a name to mention a colleague.",
    )
    client_key = forms.UUIDField(widget=forms.HiddenInput)

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError("Write a note first.")
        return note


class ResolveForm(SeenForm):
    resolved = forms.TypedChoiceField(
        choices=[("1", "Resolve"), ("0", "Reopen")], coerce=lambda v: v == "1"
    )


class ArchiveForm(forms.Form):
    archived = forms.TypedChoiceField(
        choices=[("1", "Archive"), ("0", "Unarchive")], coerce=lambda v: v == "1"
    )


class AssignForm(forms.Form):
    assign = forms.ChoiceField(choices=[("me", "Assign to me"), ("nobody", "Unassign")])


class TagsForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, data=None, *, line, initial=None, auto_id="id_%s"):
        super().__init__(data, initial=initial, auto_id=auto_id)
        self.fields["tags"].queryset = line.tags.all()


class ContactForm(forms.Form):
    first_name = forms.CharField(max_length=NAME_MAX, required=False)
    last_name = forms.CharField(max_length=NAME_MAX, required=False)
    note = forms.CharField(
        required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self):
        cleaned_data = super().clean()
        check_display_name(cleaned_data)
        return cleaned_data


class DraftForm(forms.Form):
    body = forms.CharField(max_length=BODY_MAX, required=False, strip=False)


class PaymentRequestForm(forms.Form):
    amount = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_value=Decimal("99999999.99"),
        decimal_places=2,
        label="Amount ($)",
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    message = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Texted to the customer with the payment link.",
    )
    description = forms.CharField(
        max_length=500, required=False, help_text="Internal; the customer never sees it."
    )
    reference_number = forms.CharField(max_length=100, required=False, label="Reference")
    client_key = forms.UUIDField(widget=forms.HiddenInput)


class NewConversationForm(forms.Form):
    phone_number = forms.CharField(
        max_length=40,
        label="To",
        help_text="A US number in any common format, e.g. (423) 987-6543.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    body = forms.CharField(
        max_length=BODY_MAX, strip=False, widget=forms.Textarea(attrs={"rows": 4}), label="Text"
    )
    client_key = forms.UUIDField(widget=forms.HiddenInput)
    # The agent answered "Send anyway" to the quiet-hours question (quiet.py).
    quiet_ok = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_phone_number(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone_number"])
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something to send.")
        return body


def new_client_key() -> uuid.UUID:
    return uuid.uuid4()


class BulkForm(forms.Form):
    """A bulk action: the selected conversations (``ids``), or every conversation matching
    the list's filter (``all`` with ``filter``, the list's query string)."""

    action = forms.ChoiceField(
        choices=[
            ("resolve", "Resolve"),
            ("reopen", "Reopen"),
            ("archive", "Archive"),
            ("unarchive", "Unarchive"),
            ("tag", "Add tag"),
            ("untag", "Remove tag"),
            ("assign", "Assign"),
        ]
    )
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    all = forms.BooleanField(required=False)
    filter = forms.CharField(required=False, max_length=400)
    tag = forms.IntegerField(required=False, min_value=1)
    assignee = forms.CharField(required=False, max_length=20)
    client_key = forms.UUIDField()

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        # Any ids: the view keeps only those the user may see on the line.
        self.fields["ids"].valid_value = lambda value: True

    def clean_assignee(self):
        raw = self.cleaned_data["assignee"]
        if raw in ("", "nobody"):
            return None
        if not (raw.isascii() and raw.isdigit()):
            raise forms.ValidationError("Pick a colleague.")
        return int(raw)

    def clean(self):
        data = super().clean()
        if not data.get("all") and not data.get("ids"):
            raise forms.ValidationError("Select at least one conversation.")
        if data.get("action") in ("tag", "untag") and not data.get("tag"):
            self.add_error("tag", "Pick a tag.")
        return data


class ScheduleForm(forms.Form):
    """A text to send later: its body and a wall-clock time in the line's time zone (``zone``).

    ``fold`` answers the question a time that happens twice (clocks go back) asks; the form
    offers it (``ambiguous`` holds the two choices) only then. ``due_at`` is the moment, in
    UTC, once valid."""

    body = forms.CharField(
        max_length=BODY_MAX, required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    send_at = forms.CharField(
        label="Send at",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    fold = forms.ChoiceField(
        choices=[("", "—"), ("0", "The first"), ("1", "The second")],
        required=False,
        widget=forms.RadioSelect,
    )
    attachments = MultipleFileField(
        required=False,
        label="Attach files",
        widget=MultipleFileInput(attrs={"accept": mms.ACCEPT}),
    )
    client_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, zone: str, kept_files: int = 0, **kwargs):
        """``kept_files``: how many files the text already carries and keeps (Edit)."""
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.kept_files = kept_files
        self.ambiguous: list[tuple[str, str]] = []

    def clean_body(self) -> str:
        # Empty is decided in clean(), where the files are known.
        try:
            return scheduled.check_body(self.cleaned_data["body"], has_files=True)
        except scheduled.CannotSchedule as exc:
            raise forms.ValidationError(exc.reason) from None

    def clean_attachments(self) -> list:
        try:
            return scheduled.check_files(self.cleaned_data["attachments"], kept=self.kept_files)
        except scheduled.CannotSchedule as exc:
            raise forms.ValidationError(exc.reason) from None

    def clean_send_at(self) -> datetime:
        raw = (self.cleaned_data["send_at"] or "").strip()
        if not raw:
            raise forms.ValidationError("Choose the date and time to send it.")
        try:
            return datetime.fromisoformat(raw.replace(" ", "T")).replace(tzinfo=None)
        except ValueError:
            raise forms.ValidationError("Enter a date and time, like 2026-12-08 09:30.") from None

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("body") == "" and not cleaned.get("attachments") and not self.kept_files:
            self.add_error("body", "Write the text to send later.")
        local = cleaned.get("send_at")
        if local is None:
            return cleaned
        fold = cleaned.get("fold")
        try:
            due_at = scheduled.local_to_utc(local, self.zone, int(fold) if fold else None)
            scheduled.check_due(due_at, self.zone)
        except scheduled.AmbiguousTime as exc:
            self.ambiguous = exc.choices
            self.add_error("send_at", exc.reason)
            return cleaned
        except scheduled.CannotSchedule as exc:
            self.add_error("send_at", exc.reason)
            return cleaned
        except OverflowError:  # year 1 or 9999: outside what a moment in UTC can hold
            self.add_error("send_at", "Choose a time within the next year.")
            return cleaned
        cleaned["due_at"] = due_at
        return cleaned
