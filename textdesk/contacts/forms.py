import re

from django import forms

from textdesk.contacts.area_codes import valid_zone, zone_for_number
from textdesk.contacts.models import Contact, CustomField, Group, Tag

BIGINT_MAX = 2**63 - 1


def id_field() -> forms.IntegerField:
    # `int()` refuses "²" although `str.isdigit()` accepts it; the bound keeps a lookup inside
    # PostgreSQL's bigint.
    return forms.IntegerField(required=False, min_value=0, max_value=BIGINT_MAX)


def parse_cursor(value: str) -> int | None | bool:
    """A page link's ``after`` id: None when absent, False when it is not one of ours."""
    if not value:
        return None
    try:
        cursor = id_field().clean(value)
    except forms.ValidationError:
        return False
    return cursor


class GroupFilterForm(forms.Form):
    line = id_field()


def filter_errors(form: forms.Form) -> str:
    """The reason for a 400, naming each bad parameter."""
    return "Not a valid filter: " + "; ".join(
        f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()
    )


# What Text Request refuses (a 400 from its contact endpoint): each name and the display name
# over 100 characters, a note over 1000. The display name is "first last" (see
# services.update_contact), so the two names together must fit too.
NAME_MAX = 100
NOTE_MAX = 1000


def check_display_name(cleaned_data: dict) -> None:
    first = (cleaned_data.get("first_name") or "").strip()
    last = (cleaned_data.get("last_name") or "").strip()
    if len(f"{first} {last}".strip()) > NAME_MAX:
        raise forms.ValidationError(
            f"First and last name together must be at most {NAME_MAX} characters "
            "(Text Request refuses a longer name)."
        )


class ContactForm(forms.Form):
    first_name = forms.CharField(max_length=NAME_MAX, required=False)
    last_name = forms.CharField(max_length=NAME_MAX, required=False)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=NOTE_MAX
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    time_zone = forms.CharField(
        required=False,
        max_length=64,
        label="Time zone",
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )

    def __init__(self, *args, contact: Contact, custom_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = contact.dashboard.groups.order_by("name")
        area = zone_for_number(contact.phone_number)
        self.fields["time_zone"].help_text = (
            "An IANA zone such as America/Denver, for quiet hours and the contact's local time. "
            + (
                f"Empty: from the area code ({area})."
                if area
                else "Empty: the line's time zone (the area code names none)."
            )
        )
        self.initial.update(
            first_name=contact.first_name,
            last_name=contact.last_name,
            note=contact.note,
            groups=list(contact.groups.all()),
            time_zone=contact.time_zone,
        )
        # One text box per custom field of the line ("cf_<pk>"), after the note.
        self.custom_fields = {f"cf_{field.pk}": field for field in custom_fields}
        for name, field in self.custom_fields.items():
            self.fields[name] = forms.CharField(label=field.name, required=False, max_length=1000)
            self.initial[name] = contact.custom_fields.get(field.field_id, "")

    def custom_fields_changed(self) -> dict[str, str]:
        """{Text Request field id: new value} for the custom fields edited ('' clears one)."""
        return {
            field.field_id: self.cleaned_data[name].strip()
            for name, field in self.custom_fields.items()
            if self.cleaned_data[name].strip() != (self.initial[name] or "").strip()
        }

    def clean_time_zone(self) -> str:
        name = (self.cleaned_data.get("time_zone") or "").strip()
        if name and not valid_zone(name):
            raise forms.ValidationError(
                f"“{name}” is not a time zone. Use an IANA name such as America/Denver or "
                "America/New_York, or leave it empty to go by the area code."
            )
        return name

    def time_zone_changed(self) -> bool:
        return self.cleaned_data["time_zone"] != (self.initial.get("time_zone") or "")

    def clean(self):
        cleaned_data = super().clean()
        check_display_name(cleaned_data)
        return cleaned_data

    def groups_changed(self) -> bool:
        return {g.pk for g in self.cleaned_data["groups"]} != {g.pk for g in self.initial["groups"]}

    def details_changed(self) -> bool:
        return any(
            self.cleaned_data[name].strip() != (self.initial[name] or "").strip()
            for name in ("first_name", "last_name", "note")
        )


class GroupForm(forms.Form):
    name = forms.CharField(max_length=200)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class NewGroupForm(GroupForm):
    line = forms.ModelChoiceField(queryset=None, label="Phone line", empty_label=None)
    name = forms.CharField(max_length=100)  # Text Request's limit for a group name

    field_order = ["line", "name", "notes"]

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines

    def clean(self):
        cleaned = super().clean()
        line, name = cleaned.get("line"), (cleaned.get("name") or "").strip()
        if line and name and Group.objects.filter(dashboard=line, name__iexact=name).exists():
            self.add_error("name", f"{line.name} already has a group called “{name}”.")
        return cleaned


class NewContactForm(forms.Form):
    line = forms.ModelChoiceField(queryset=None, label="Phone line", empty_label=None)
    phone_number = forms.CharField(max_length=30, label="Phone number")
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines

    def clean_phone_number(self) -> str:
        from textdesk.phones import InvalidPhoneNumber, normalize_phone

        try:
            return normalize_phone(self.cleaned_data["phone_number"])
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(str(exc)) from exc


class ImportUploadForm(forms.Form):
    line = forms.ModelChoiceField(queryset=None, label="Import into the line", empty_label=None)
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 (with or without BOM) or Windows-1252, at most 50,000 rows and 10 MB. "
        "The first row names the columns.",
    )

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines


class ImportMappingForm(forms.Form):
    """One choice per column of the file: what it holds."""

    def __init__(self, *args, header: list[str], choices, initial_mapping: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        for i, name in enumerate(header):
            self.fields[f"col_{i}"] = forms.ChoiceField(
                label=name or f"Column {i + 1}", choices=choices, required=False,
                initial=initial_mapping[i] if i < len(initial_mapping) else "",
            )  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        targets = [cleaned.get(name) for name in self.fields]
        if "phone" not in targets:
            raise forms.ValidationError("Pick the column that holds the phone number.")
        chosen = [t for t in targets if t]
        if len(chosen) != len(set(chosen)):
            raise forms.ValidationError("Two columns are mapped to the same field.")
        return cleaned

    def mapping(self) -> list[str]:
        return [self.cleaned_data[name] or "" for name in self.fields]


# Text Request's limits for tag and field names are not documented; the stand-in's 50
# (standins/textrequest/COVERAGE.md) is kept here so a name we accept is never refused there.
LABEL_MAX = 50
COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")


class _LabelForm(forms.Form):
    """A tag's or custom field's name on one line: trimmed, at most 50 characters, not already
    used on the line (ignoring case)."""

    name = forms.CharField(max_length=LABEL_MAX, strip=True)
    model = None
    noun = ""

    def __init__(self, *args, line, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.line, self.instance = line, instance

    def clean_name(self):
        name = self.cleaned_data["name"]
        taken = self.model.objects.filter(dashboard=self.line, name__iexact=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                f"{self.line.name} already has a {self.noun} called “{name}”."
            )
        return name


class TagForm(_LabelForm):
    model = Tag
    noun = "tag"
    color = forms.CharField(
        label="Colour",
        max_length=7,
        initial="#64748b",
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text="A hex colour such as #1d4ed8.",
    )

    def clean_color(self):
        color = (self.cleaned_data["color"] or "").strip()
        if not COLOR_RE.fullmatch(color):
            raise forms.ValidationError("Pick a colour: a # and six hex digits, such as #1d4ed8.")
        return color.lower()


class FieldForm(_LabelForm):
    model = CustomField
    noun = "custom field"
