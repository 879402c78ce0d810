from django import forms

from textdesk.contacts.models import Contact, Group

BIGINT_MAX = 2**63 - 1


def id_field() -> forms.IntegerField:
    # `int()` refuses "²" although `str.isdigit()` accepts it; the bound keeps a lookup inside
    # PostgreSQL's bigint.
    return forms.IntegerField(required=False, min_value=0, max_value=BIGINT_MAX)


class ContactFilterForm(forms.Form):
    """The contact list's query string: a value no link of ours makes is a 400 with a reason."""

    q = forms.CharField(required=False, max_length=100)
    line = id_field()
    group = id_field()
    after = id_field()

    def clean_q(self) -> str:
        return self.cleaned_data["q"].strip()


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

    def __init__(self, *args, contact: Contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = contact.dashboard.groups.order_by("name")
        self.initial.update(
            first_name=contact.first_name,
            last_name=contact.last_name,
            note=contact.note,
            groups=list(contact.groups.all()),
        )

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
