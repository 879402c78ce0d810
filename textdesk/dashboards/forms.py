from django import forms
from django.db.models import Q

from textdesk.dashboards.models import Dashboard, SavedReply


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
        from textdesk.dashboards.models import Connection

        self.fields["connection"].queryset = Connection.objects.filter(is_active=True)


class NewLineForm(NumberSearchForm):
    phone = forms.ChoiceField(widget=forms.RadioSelect, label="Number")
    name = forms.CharField(max_length=200, label="Line name", help_text="e.g. Front Desk")

    def __init__(self, *args, numbers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        from textdesk.contacts.phones import format_phone

        self.fields["phone"].choices = [(n, format_phone(n)) for n in numbers]
        self.fields["connection"].widget = forms.HiddenInput()
        self.fields["area_code"].widget = forms.HiddenInput()


class SavedReplyForm(forms.ModelForm):
    """A saved reply; its shortcut may not clash with another reply the same composer shows."""

    class Meta:
        model = SavedReply
        fields = ["dashboard", "shortcut", "body"]
        labels = {"dashboard": "Phone line", "shortcut": "Shortcut", "body": "Text"}
        help_texts = {
            "dashboard": "Leave on “Every line” to offer it in every line's composer.",
            "shortcut": "Agents type / and this word in the composer: letters, digits, - and _.",
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 5, "maxlength": 1600})}

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dashboard"].queryset = lines
        self.fields["dashboard"].empty_label = "Every line"
        self.fields["dashboard"].required = False

    def clean_shortcut(self) -> str:
        return self.cleaned_data["shortcut"].lower()

    def clean(self):
        cleaned = super().clean()
        shortcut, line = cleaned.get("shortcut"), cleaned.get("dashboard")
        if not shortcut:
            return cleaned
        clashes = SavedReply.objects.filter(shortcut=shortcut).exclude(pk=self.instance.pk)
        if line is not None:
            # Shown with this line's replies: its own and those for every line.
            clashes = clashes.filter(Q(dashboard=line) | Q(dashboard__isnull=True))
        clash = clashes.select_related("dashboard").first()
        if clash is not None:
            where = clash.dashboard.name if clash.dashboard else "every line"
            self.add_error("shortcut", f"/{shortcut} is already a saved reply for {where}.")
        return cleaned
