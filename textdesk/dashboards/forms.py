from django import forms

from textdesk.dashboards.models import Dashboard


class LineAgentsForm(forms.Form):
    """Who may work one line."""

    agents = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="Agents"
    )

    def __init__(self, *args, line: Dashboard, **kwargs):
        super().__init__(*args, **kwargs)
        from textdesk.accounts.models import User

        self.fields["agents"].queryset = User.objects.filter(
            is_active=True, groups__name="Agent"
        ).order_by("first_name", "username")
        self.initial.setdefault("agents", list(line.agents.all()))


class LineNameForm(forms.Form):
    name = forms.CharField(max_length=200, label="Line name", help_text="Staff see this name.")
