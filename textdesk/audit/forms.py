from django import forms
from django.contrib.auth import get_user_model

from textdesk.audit import registry
from textdesk.audit.models import kind_choices


class EntryFilterForm(forms.Form):
    person = forms.ModelChoiceField(queryset=None, required=False, empty_label="Everyone")
    line = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(required=False)
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = get_user_model().objects.order_by("first_name", "username")
        # Every line, removed ones too: their history stays. Named by the dashboards domain
        # (``registry.name_lines``): the audit log sits below the domains and names none.
        lines = registry.lines().items()
        self.fields["line"].choices = [("", "Any line"), *lines]
        self.fields["kind"].choices = [("", "Anything"), *kind_choices()]

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned
