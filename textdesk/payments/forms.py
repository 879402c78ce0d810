import uuid
from decimal import Decimal

from django import forms

from textdesk.phones import InvalidPhoneNumber, normalize_phone


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


class PaymentFilterForm(forms.Form):
    """The finance list's filter, read from the query string (so a filter is a link)."""

    STATES = [
        ("", "Every state"),
        ("open", "Open"),
        ("past_due", "Past due"),
        ("paid", "Paid"),
        ("canceled", "Canceled"),
        ("failed", "Failed"),
    ]
    SORTS = [("date", "Date"), ("amount", "Amount"), ("customer", "Customer"), ("state", "State")]
    DIRECTIONS = [("desc", "Descending"), ("asc", "Ascending")]
    # "Requested by" for payments made in Text Request itself (no textdesk user).
    IN_TEXT_REQUEST = "textrequest"

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        help_text="Customer name, phone or reference",
    )
    state = forms.ChoiceField(label="State", choices=STATES, required=False)
    line = forms.TypedChoiceField(label="Phone line", coerce=int, required=False)
    requester = forms.ChoiceField(label="Requested by", required=False)
    requested_from = forms.DateField(
        label="Requested from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    requested_to = forms.DateField(
        label="Requested to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    amount_min = forms.DecimalField(
        label="Amount from", required=False, min_value=0, max_digits=10, decimal_places=2
    )
    amount_max = forms.DecimalField(
        label="Amount to", required=False, min_value=0, max_digits=10, decimal_places=2
    )
    sort = forms.ChoiceField(label="Sort by", choices=SORTS, required=False)
    dir = forms.ChoiceField(label="Order", choices=DIRECTIONS, required=False)

    def __init__(self, data, *, lines, requesters):
        super().__init__(data)
        # Choices from lists evaluated once: checking and drawing them costs no more queries.
        self.fields["line"].choices = [("", "All lines")] + [
            (str(line.pk), line.name) for line in lines
        ]
        self.fields["requester"].choices = [
            ("", "Anyone"),
            (self.IN_TEXT_REQUEST, "In Text Request"),
            *[(str(user.pk), user.display_name) for user in requesters],
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("requested_from"), data.get("requested_to")
        if start and end and start > end:
            self.add_error("requested_to", "The end date is before the start date.")
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            self.add_error("amount_max", "The highest amount is below the lowest.")
        return data

    @property
    def filters(self) -> dict:
        """The valid filters (an invalid field is left out and shown as an error)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class FollowUpForm(forms.Form):
    """The payments picked in the follow-up queue, or all of it. Ids are checked against the
    queue by the caller (a payment that left the queue is skipped, not an error)."""

    everything = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        raw = self.data.getlist("payment") if hasattr(self.data, "getlist") else []
        if not all(str(value).isdigit() for value in raw):
            raise forms.ValidationError("The selection is not valid; reload the queue.")
        data["payments"] = sorted({int(value) for value in raw})[:5000]
        if not data.get("everything") and not data["payments"]:
            raise forms.ValidationError("Pick at least one payment, or send to all of them.")
        return data
