"""The contact list's filters, shared by the list, the CSV export and group membership.

One form reads the query string (``q``, ``line``, ``tag``, ``group``, ``opted_out``,
``blocked``, ``field`` + ``value``); an unknown id or a bad value is a form error shown above the
list, never a 500, and never silently widens the result to every contact.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.choices import BaseChoiceIterator

from textdesk.contacts.models import Contact, CustomField, Group, Tag
from textdesk.dashboards.models import Dashboard

YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]


class _GroupedByLine(BaseChoiceIterator):
    """The options in one <optgroup> per line, read when the select is drawn (lazily)."""

    def __init__(self, field):
        self.field = field

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups: dict[str, list] = {}
        for obj in self.field.queryset.order_by("dashboard__name", "name", "pk"):
            groups.setdefault(obj.dashboard.name, []).append((obj.pk, obj.name))
        yield from groups.items()


class LineChoiceField(forms.ModelChoiceField):
    """Options grouped by line, so "VIP" of two lines can be told apart without repeating it."""

    @property
    def choices(self):
        return _GroupedByLine(self)

    @choices.setter
    def choices(self, value):
        forms.ChoiceField.choices.fset(self, value)


class ContactFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    line = forms.ModelChoiceField(queryset=None, required=False, empty_label="All lines")
    tag = LineChoiceField(queryset=None, required=False, empty_label="Any tag")
    group = LineChoiceField(queryset=None, required=False, empty_label="Any group")
    opted_out = forms.ChoiceField(choices=YES_NO, required=False, label="Opted out")
    blocked = forms.ChoiceField(choices=YES_NO, required=False, label="Blocked")
    field = LineChoiceField(
        queryset=None, required=False, empty_label="Any field", label="Custom field"
    )
    value = forms.CharField(required=False, max_length=1000, label="has a value containing")

    def __init__(self, data, *, lines: QuerySet):
        super().__init__(data)
        self.fields["line"].queryset = lines
        self.fields["line"].label = "Phone line"
        self.fields["tag"].queryset = Tag.objects.filter(dashboard__in=lines).select_related(
            "dashboard"
        )
        self.fields["group"].queryset = Group.objects.filter(dashboard__in=lines).select_related(
            "dashboard"
        )
        self.fields["field"].queryset = CustomField.objects.filter(
            dashboard__in=lines
        ).select_related("dashboard")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("value") and not cleaned.get("field"):
            self.add_error("field", "Pick the custom field whose value you are looking for.")
        return cleaned

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and any(self.cleaned_data.get(name) for name in self.fields)

    def filter(self, contacts: QuerySet) -> QuerySet:
        """``contacts`` narrowed by the valid filters (call after ``is_valid()``)."""
        data = self.cleaned_data
        if data.get("q"):
            contacts = contacts.matching(data["q"])
        if data.get("line"):
            contacts = contacts.filter(dashboard=data["line"])
        if data.get("tag"):
            contacts = contacts.filter(tags=data["tag"])
        if data.get("group"):
            contacts = contacts.filter(groups=data["group"])
        if data.get("opted_out"):
            contacts = contacts.filter(opted_out_at__isnull=data["opted_out"] == "no")
        if data.get("blocked"):
            contacts = contacts.filter(is_blocked=data["blocked"] == "yes")
        field = data.get("field")
        if field:
            # A field id is a key of the JSON object; KeyTextTransform quotes it whatever it
            # holds, where a ``custom_fields__<id>`` lookup would parse it.
            # Cast to text, so the lookups below are plain text ones on every database (a
            # JSON key's own "exact" compares JSON values).
            contacts = contacts.filter(dashboard_id=field.dashboard_id).alias(
                field_value=Cast(KeyTextTransform(field.field_id, "custom_fields"), TextField())
            )
            if data.get("value"):
                contacts = contacts.filter(field_value__icontains=data["value"])
            else:  # "has any value for this field"
                contacts = contacts.filter(~Q(field_value="") & Q(field_value__isnull=False))
        return contacts


def filtered_contacts(user, data) -> tuple[ContactFilterForm, QuerySet[Contact]]:
    """The user's contacts narrowed by the query string; with errors, no contacts at all."""

    lines = Dashboard.objects.for_user(user)
    form = ContactFilterForm(data, lines=lines)
    contacts = Contact.objects.for_user(user)
    if not form.is_valid():
        return form, contacts.none()
    return form, form.filter(contacts)
