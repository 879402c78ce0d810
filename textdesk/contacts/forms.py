from django import forms

from textdesk.contacts.models import Contact, Group


class ContactForm(forms.Form):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, contact: Contact, custom_fields=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = contact.dashboard.groups.order_by("name")
        self.initial.update(
            first_name=contact.first_name,
            last_name=contact.last_name,
            note=contact.note,
            groups=list(contact.groups.all()),
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
