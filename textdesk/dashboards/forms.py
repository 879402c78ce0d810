from django import forms

from textdesk.accounts.models import User
from textdesk.dashboards.models import Connection, Dashboard
from textdesk.phones import format_phone


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


class LineNameForm(forms.Form):
    name = forms.CharField(max_length=200, label="Line name", help_text="Staff see this name.")


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
