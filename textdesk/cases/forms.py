"""Forms of the service desk: its settings, each line's defaults, a new case, a note, a link.

Where the instance offers its catalogue (the sandbox does) ids are chosen from pick lists and
checked against each other (a service of the project, a category of the service); otherwise
they are typed as numbers and ASMS checks them."""

from __future__ import annotations

import uuid

from django import forms

from textdesk.asms import NOTE_MAX_LENGTH
from textdesk.cases.services import DESCRIPTION_MAX, TOKEN_FOR_NEW_URL, same_instance
from textdesk.transport import service_url_error

ID_FIELDS = (
    ("project_id", "Project", "projects"),
    ("item_type_id", "Case type", "item_types"),
    ("service_id", "Service", "services"),
    ("category_id", "Category", "categories"),
    ("group_id", "Group", "groups"),
)


def _id_field(label: str, options, required: bool, parents: dict | None = None):
    if options is None:
        return forms.IntegerField(
            label=f"{label} id", required=required, min_value=1, max_value=2**31 - 1
        )
    choices = []
    for choice in options:
        parent = (parents or {}).get(choice.parent_id)
        choices.append((choice.id, f"{choice.name} ({parent})" if parent else choice.name))
    return forms.TypedChoiceField(
        label=label,
        required=required,
        coerce=int,
        empty_value=None,
        choices=[("", "—")] + choices,
    )


class CaseFieldsMixin:
    """Adds the five id fields, from the catalogue when there is one."""

    required_ids = ("project_id", "item_type_id", "service_id", "category_id")

    def add_id_fields(self, catalogue) -> None:
        self.catalogue = catalogue
        parents = {}
        if catalogue is not None:
            projects = {p.id: p.name for p in catalogue.projects}
            parents = {
                "services": projects,
                "groups": projects,
                "categories": {s.id: s.name for s in catalogue.services},
            }
        for name, label, key in ID_FIELDS:
            options = getattr(catalogue, key) if catalogue is not None else None
            self.fields[name] = _id_field(
                label, options, name in self.required_ids, parents.get(key)
            )

    def check_ids(self, data: dict) -> None:
        """With a catalogue: the service must be the project's, the category the service's,
        the group the project's."""
        catalogue = self.catalogue
        if catalogue is None:
            return
        project, service = data.get("project_id"), data.get("service_id")
        services = {s.id: s.parent_id for s in catalogue.services}
        categories = {c.id: c.parent_id for c in catalogue.categories}
        groups = {g.id: g.parent_id for g in catalogue.groups}
        if project and service and services.get(service) != project:
            self.add_error("service_id", "This service is not offered by the chosen project.")
        category = data.get("category_id")
        if service and category and categories.get(category) != service:
            self.add_error("category_id", "This category does not belong to the chosen service.")
        group = data.get("group_id")
        if project and group and groups.get(group) != project:
            self.add_error("group_id", "This group is not in the chosen project.")


class ServiceDeskForm(forms.Form):
    instance_url = forms.URLField(
        label="Instance URL",
        max_length=200,
        assume_scheme="https",
        help_text="Your ASMS address, e.g. https://acme.arandasoft.com (the connector's "
        "/asmsadapter/api/asms path is added).",
    )
    token = forms.CharField(
        label="Technician API token",
        required=False,
        max_length=1000,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. A named technician account is "
        "recommended: every case is created as that technician.",
    )
    calls_per_minute = forms.IntegerField(
        label="Progress reads per minute",
        min_value=1,
        max_value=600,
        initial=30,
        help_text="Open cases are read at most this many times a minute.",
    )
    transcript_texts = forms.IntegerField(
        label="Texts in a new case's description", min_value=1, max_value=100, initial=10
    )

    def __init__(self, *args, has_token: bool = False, current_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.has_token = has_token
        self.current_url = current_url
        if has_token:
            self.fields["token"].help_text = (
                "Leave blank to keep the stored token (only while the address stays the "
                "same). " + self.fields["token"].help_text
            )

    def clean_instance_url(self) -> str:
        url = self.cleaned_data["instance_url"]
        error = service_url_error(url)
        if error:
            raise forms.ValidationError(error)
        return url

    def clean(self):
        data = super().clean()
        if data.get("token"):
            return data
        if not self.has_token:
            self.add_error("token", "Enter the technician's API token.")
        elif data.get("instance_url") and not same_instance(data["instance_url"], self.current_url):
            self.add_error("token", TOKEN_FOR_NEW_URL)
        return data


class LineDefaultsForm(CaseFieldsMixin, forms.Form):
    required_ids = ()

    def __init__(self, *args, catalogue=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_id_fields(catalogue)

    def clean(self):
        data = super().clean()
        self.check_ids(data)
        return data


class CaseForm(CaseFieldsMixin, forms.Form):
    subject = forms.CharField(max_length=250, strip=True)
    description = forms.CharField(
        max_length=DESCRIPTION_MAX, required=False, widget=forms.Textarea(attrs={"rows": 12})
    )
    client_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, catalogue=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_id_fields(catalogue)
        self.order_fields(["subject", "description"])
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4())

    def clean(self):
        data = super().clean()
        self.check_ids(data)
        return data


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=NOTE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "data-maxcount": NOTE_MAX_LENGTH}),
        help_text=f"Added to the case in ASMS; at most {NOTE_MAX_LENGTH} characters.",
    )
    client_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_key", uuid.uuid4())


class CaseSearchForm(forms.Form):
    q = forms.CharField(label="Case code or subject", max_length=200, strip=True)


class LinkForm(forms.Form):
    ticket = forms.CharField(max_length=40, strip=True)
