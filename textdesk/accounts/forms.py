import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.validators import MaxLengthValidator

from textdesk.accounts.models import SecurityPolicy, User
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
        fields = [
            "first_name",
            "last_name",
            "email",
            "is_active",
            "dashboards",
            "assignment_capacity",
        ]
        error_messages = {
            "assignment_capacity": {
                "min_value": "Capacity must be at least 1, or empty for each line's own. "
                "Someone who should get nothing automatically goes Away.",
                "max_value": "Capacity can be at most %(limit_value)s.",
                "invalid": "Capacity is a whole number, e.g. 10, or empty.",
            }
        }

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
        fields = [
            "first_name",
            "last_name",
            "theme",
            "shortcuts_enabled",
            "notify_sound",
            "notify_desktop",
        ]
        widgets = {"theme": forms.RadioSelect}
        labels = {
            "theme": "Colours",
            "shortcuts_enabled": "Single-key keyboard shortcuts in the inbox",
            "notify_sound": "Play a sound when a text arrives while the inbox tab is hidden",
            "notify_desktop": "Show a browser notification when a text arrives while the inbox "
            "tab is hidden",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A page opened before the choice existed sends none: the colours stay as they are.
        self.fields["theme"].required = False

    def clean_theme(self) -> str:
        return self.cleaned_data["theme"] or self.instance.theme


class CodeForm(forms.Form):
    """A code from the authenticator app (6 digits) or a recovery code (8 letters and digits).
    Spaces and dashes are ignored; anything longer is refused before any check."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app.",
            "max_length": "That is too long for a code: a code is 6 digits, or a recovery code "
            "of 8 letters and digits.",
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )

    def __init__(self, *args, recovery: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.recovery = recovery
        if recovery:
            self.fields["code"].help_text = "Or one of your recovery codes."

    def clean_code(self):
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"]).lower()
        if len(code) == 6 and code.isdigit():
            return code
        if self.recovery and len(code) == 8 and code.isalnum():
            return code
        if not self.recovery:
            raise forms.ValidationError("A code is the 6 digits your authenticator app shows.")
        raise forms.ValidationError(
            "A code is 6 digits from your app, or a recovery code of 8 letters and digits."
        )


class SignInCodeForm(CodeForm):
    remember = forms.BooleanField(
        required=False, label="Remember this browser for 30 days (not on a shared computer)"
    )


class EnrolForm(CodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, recovery=False, **kwargs)
        self.fields["code"].label = "Code from the app"


class PasswordAndCodeForm(CodeForm):
    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password."},
    )

    field_order = ["password", "code"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.pop("autofocus", None)
        self.fields["code"].label = "Code from your app, or a recovery code"
        self.fields["code"].help_text = ""
        self.fields["code"].error_messages["required"] = (
            "Enter a code from your app or one of your recovery codes."
        )


class SecurityPolicyForm(forms.Form):
    two_factor = forms.ChoiceField(
        label="Two-factor sign-in",
        choices=SecurityPolicy.TwoFactor.choices,
        widget=forms.RadioSelect,
        help_text="People who must use it and have not set it up are taken to the set-up page "
        "at their next sign-in and can do nothing else until it is done.",
    )
