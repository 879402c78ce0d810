from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.validators import MaxLengthValidator

from textdesk.accounts.models import User
from textdesk.accounts.roles import ROLE_PERMISSIONS


def line_choices():
    """Lines still at Text Request, reached through the relation (``dashboards`` sits above
    ``accounts`` and is not imported here)."""
    return User._meta.get_field("dashboards").related_model.objects.active()


class LoginForm(AuthenticationForm):
    """Django's sign-in form, refusing a username longer than any user's before it reaches
    `authenticate` (Django sets only the widget's maxlength; django-axes records failed
    usernames in a 255-character column)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class StaffForm(forms.ModelForm):
    role = forms.ChoiceField(choices=[(name, name) for name in ROLE_PERMISSIONS])
    dashboards = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Phone lines",
        help_text="Agents work only these lines. Admin and Finance see every line.",
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "is_active", "dashboards"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dashboards"].queryset = line_choices()
        if self.instance.pk:
            current = self.instance.groups.filter(name__in=ROLE_PERMISSIONS).first()
            self.initial.setdefault("role", current.name if current else "Agent")

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            self.save_role(user)
        return user

    def save_role(self, user):
        user.groups.remove(*Group.objects.filter(name__in=ROLE_PERMISSIONS))
        user.groups.add(Group.objects.get(name=self.cleaned_data["role"]))


class NewStaffForm(UserCreationForm):
    role = forms.ChoiceField(choices=[(name, name) for name in ROLE_PERMISSIONS], initial="Agent")
    dashboards = StaffForm.base_fields["dashboards"]

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "first_name", "last_name", "email", "dashboards"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dashboards"].queryset = line_choices()

    def save(self, commit=True):
        user = super().save(commit=True)
        user.dashboards.set(self.cleaned_data["dashboards"])
        StaffForm.save_role(self, user)
        return user


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "shortcuts_enabled", "notify_sound", "notify_desktop"]
        labels = {
            "shortcuts_enabled": "Single-key keyboard shortcuts in the inbox",
            "notify_sound": "Play a sound when a text arrives while the inbox tab is hidden",
            "notify_desktop": "Show a browser notification when a text arrives while the inbox "
            "tab is hidden",
        }
