"""The search form: the query string and the chips, checked against what the user may see.

A filter typed in the query (``line:``, ``tag:``…) and the same filter chosen as a chip mean
the same thing; an unknown value (another line's id included) is a form error, never a
wider search."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from textdesk.accounts.models import User
from textdesk.contacts.models import Tag
from textdesk.dashboards.models import Dashboard
from textdesk.search.engine import Filters, decode_cursor
from textdesk.search.query import MAX_LENGTH, QueryError, parse

KINDS = [
    ("", "Texts, notes and contacts"),
    ("received", "Received texts"),
    ("sent", "Sent texts"),
    ("note", "Internal notes"),
]
STATUSES = [("", "Open or resolved"), ("open", "Open"), ("resolved", "Resolved")]
SORTS = [("newest", "Newest first"), ("best", "Best match")]


class SearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        max_length=MAX_LENGTH,
        error_messages={"max_length": f"A search can be at most {MAX_LENGTH:,} characters long."},
    )
    line = forms.ModelChoiceField(
        queryset=Dashboard.objects.none(),
        required=False,
        empty_label="All lines",
        error_messages={"invalid_choice": "That line is not one you can see."},
    )
    start = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    kind = forms.ChoiceField(choices=KINDS, required=False, label="What")
    agent = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Anyone",
        label="Sent by",
        error_messages={"invalid_choice": "Nobody by that name can be chosen."},
    )
    tag = forms.ChoiceField(required=False, label="Tag")
    status = forms.ChoiceField(choices=STATUSES, required=False, label="Status")
    attachment = forms.BooleanField(required=False, label="Has attachment")
    sort = forms.ChoiceField(choices=SORTS, required=False, label="Order")
    after = forms.CharField(required=False, max_length=80)

    def __init__(self, data=None, *, user):
        super().__init__(data)
        self.user = user
        self.lines = Dashboard.objects.for_user(user).order_by("name")
        self.fields["line"].queryset = self.lines
        self.fields["agent"].queryset = User.objects.filter(is_active=True).order_by(
            "first_name", "username"
        )
        self.tags = Tag.objects.filter(dashboard__in=self.lines)
        self.fields["tag"].choices = [("", "Any tag")] + [
            (name, name)
            for name in self.tags.order_by("name").values_list("name", flat=True).distinct()
        ]
        self.fields["q"].widget.attrs.update(
            {"type": "search", "autocomplete": "off", "placeholder": "Words, “a phrase”, -word, OR"}
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            query = parse(data.get("q", ""))
        except QueryError as exc:
            raise forms.ValidationError(str(exc)) from exc
        data["query"] = query
        for key, value in query.filters:
            self._apply(data, key, value)
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The “from” date is after the “to” date.")
        sort = data.get("sort") or "newest"
        data["sort"] = sort
        raw = data.get("after") or ""
        data["after"] = decode_cursor(sort, raw) if raw else None
        if raw and data["after"] is None:
            raise forms.ValidationError("This “Load more” link is not valid; search again.")
        return data

    def _apply(self, data: dict, key: str, value: str) -> None:
        """A filter typed in the query; the chip, when also chosen, wins."""
        if key == "line" and not data.get("line"):
            lines = self.lines.filter(name__iexact=value)
            if value.isascii() and value.isdigit() and len(value) <= 18:
                lines = self.lines.filter(pk=int(value)) | lines
            line = lines.first()
            if line is None:
                raise forms.ValidationError(f"No line “{value}” that you can see.")
            data["line"] = line
        elif key in ("from", "to"):
            field = "start" if key == "from" else "end"
            if not data.get(field):
                try:
                    data[field] = forms.DateField().clean(value)
                except forms.ValidationError as exc:
                    raise forms.ValidationError(
                        f"“{key}:{value}” is not a date; write it as 2026-03-31."
                    ) from exc
        elif key == "is":
            value = value.lower()
            if value in ("received", "sent", "note", "notes"):
                data["kind"] = data.get("kind") or ("note" if value == "notes" else value)
            elif value in ("open", "resolved"):
                data["status"] = data.get("status") or value
            else:
                raise forms.ValidationError(
                    f"“is:{value}” is not a filter: use is:received, is:sent, is:note, "
                    "is:open or is:resolved."
                )
        elif key == "by" and not data.get("agent"):
            agents = self.fields["agent"].queryset
            agent = (
                agents.filter(username__iexact=value).first()
                or agents.filter(first_name__iexact=value).first()
            )
            if agent is None:
                raise forms.ValidationError(f"Nobody called “{value}” to filter by.")
            data["agent"] = agent
        elif key == "has":
            if value.lower() not in ("attachment", "attachments", "file", "picture"):
                raise forms.ValidationError(f"“has:{value}” is not a filter: use has:attachment.")
            data["attachment"] = True
        elif key == "tag" and not data.get("tag"):
            name = self.tags.filter(name__iexact=value).values_list("name", flat=True).first()
            if name is None:
                raise forms.ValidationError(f"No tag “{value}” on your lines.")
            data["tag"] = name

    def filters(self) -> Filters:
        data = self.cleaned_data
        zone = timezone.get_current_timezone()
        start = end = None
        if data.get("start"):
            start = timezone.make_aware(datetime.combine(data["start"], time.min), zone)
        if data.get("end"):
            end = timezone.make_aware(
                datetime.combine(data["end"] + timedelta(days=1), time.min), zone
            )
        tag = data.get("tag")
        return Filters(
            lines=[data["line"].pk] if data.get("line") else None,
            start=start,
            end=end,
            kind=data.get("kind") or "",
            agent_id=data["agent"].pk if data.get("agent") else None,
            tag_names=[tag] if tag else None,
            status=data.get("status") or "",
            has_attachment=bool(data.get("attachment")),
        )

    def chips(self, params) -> list[tuple[str, str]]:
        """(label, URL without it) for each active filter."""
        data = self.cleaned_data
        query = data["query"]
        chips = []
        labels = {
            "line": lambda: f"Line: {data['line'].name}",
            "start": lambda: f"From {data['start']:%b %-d, %Y}",
            "end": lambda: f"To {data['end']:%b %-d, %Y}",
            "kind": lambda: dict(KINDS)[data["kind"]],
            "agent": lambda: f"By {data['agent'].display_name}",
            "tag": lambda: f"Tag: {data['tag']}",
            "status": lambda: dict(STATUSES)[data["status"]],
            "attachment": lambda: "Has attachment",
        }
        typed = {
            "line": "line",
            "start": "from",
            "end": "to",
            "agent": "by",
            "tag": "tag",
            "attachment": "has",
        }
        for name, label in labels.items():
            if not data.get(name):
                continue
            rest = params.copy()
            rest.pop(name, None)
            rest.pop("after", None)
            q = query.without_filter(typed.get(name, "is"))
            if name in ("kind", "status"):
                # Both come from is:…; keep the one not being removed.
                other = "status" if name == "kind" else "kind"
                keep = [(k, v) for k, v in query.filters if k != "is"]
                if data.get(other):
                    keep.append(("is", data[other]))
                q = " ".join([query.text, *(f"{k}:{v}" for k, v in keep)]).strip()
            rest["q"] = q
            chips.append((label(), rest.urlencode()))
        return chips
