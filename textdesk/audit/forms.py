from django import forms

from textdesk.accounts.models import User
from textdesk.audit.models import KIND_CHOICES
from textdesk.dashboards.models import Dashboard


class EntryFilterForm(forms.Form):
    person = forms.ModelChoiceField(
        queryset=User.objects.order_by("first_name", "username"),
        required=False,
        empty_label="Everyone",
    )
    line = forms.ModelChoiceField(
        queryset=Dashboard.objects.order_by("name"), required=False, empty_label="Any line"
    )
    kind = forms.ChoiceField(choices=[("", "Anything"), *KIND_CHOICES], required=False)
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned
