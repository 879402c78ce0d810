import uuid
from decimal import Decimal

from django import forms

from textdesk.phones import InvalidPhoneNumber, normalize_phone


class PaymentFilterForm(forms.Form):
    """The payment list's line filter; `int()` refuses "²" although `str.isdigit()` takes it."""

    line = forms.IntegerField(required=False, min_value=0, max_value=2**63 - 1)


class PaymentRequestForm(forms.Form):
    dashboard = forms.ModelChoiceField(queryset=None, label="Phone line", empty_label=None)
    phone_number = forms.CharField(
        label="Customer's mobile number", max_length=30, help_text="Any US format: 423-987-6543."
    )
    amount = forms.DecimalField(
        label="Amount (USD)",
        min_value=Decimal("0.01"),
        max_value=Decimal("100000"),
        decimal_places=2,
        max_digits=10,
    )
    message = forms.CharField(
        label="Text to the customer",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="Sent with the payment link.",
    )
    description = forms.CharField(
        label="Internal description", max_length=500, required=False, help_text="Staff only."
    )
    reference_number = forms.CharField(
        label="Reference (invoice no.)", max_length=100, required=False
    )
    client_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dashboard"].queryset = lines

    def clean_phone_number(self):
        try:
            return normalize_phone(self.cleaned_data["phone_number"])
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(str(exc)) from None
