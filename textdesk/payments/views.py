from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.dashboards.models import Dashboard
from textdesk.payments import services
from textdesk.payments.forms import PaymentFilterForm, PaymentRequestForm
from textdesk.payments.models import Payment
from textdesk.phones import InvalidPhoneNumber

OPEN = Payment.OPEN
STATES = {
    "open": OPEN,
    "past_due": OPEN & Q(is_past_due=True),
    "paid": Q(textrequest_payment_status="Paid"),
    "canceled": Q(textrequest_payment_status="Canceled"),
    "failed": Q(status="failed") | Q(textrequest_payment_status="Failed"),
}
ACTIONS = {
    # action → (service, permission, what the flash says)
    "remind": (services.send_reminder, "request_payments", "Reminder queued."),
    "cancel": (services.cancel_payment, "request_payments", "Cancellation queued."),
    "mark_paid": (services.mark_paid, "manage_payments", "Marked paid; syncing to Text Request."),
    "again": (services.request_again, "request_payments", "Sending the request again."),
}


@permission_required("request_payments")
def payment_list(request):
    payments = Payment.objects.for_user(request.user).select_related("dashboard", "contact")
    filters = PaymentFilterForm(request.GET)
    if not filters.is_valid():
        return HttpResponseBadRequest("Not a valid line: " + " ".join(filters.errors["line"]))
    line_id = filters.cleaned_data["line"]
    if line_id is not None:
        payments = payments.filter(dashboard_id=line_id)
    totals = payments.aggregate(
        **{
            f"{state}_total": Sum("amount_requested", filter=condition, default=Decimal("0"))
            for state, condition in STATES.items()
        },
        **{f"{state}_count": Count("id", filter=condition) for state, condition in STATES.items()},
    )
    state = request.GET.get("state", "")
    if state in STATES:
        payments = payments.filter(STATES[state])
    context = {
        "payments": payments.order_by("-requested_at", "-id")[:100],
        "totals": totals,
        "lines": Dashboard.objects.for_user(request.user),
        "line_id": "" if line_id is None else str(line_id),
        "state": state,
        "states": [(key, key.replace("_", " ").capitalize()) for key in STATES],
    }
    return render(request, "payments/payment_list.html", context)


@permission_required("request_payments")
@require_http_methods(["GET", "POST"])
def payment_new(request):
    lines = Dashboard.objects.for_user(request.user)
    form = PaymentRequestForm(request.POST or None, lines=lines)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payment = services.request_payment(
                dashboard=data["dashboard"],
                phone_number=data["phone_number"],
                user=request.user,
                amount=data["amount"],
                message=data["message"],
                description=data["description"],
                reference_number=data["reference_number"],
                client_key=data["client_key"],
            )
        except (services.PaymentActionRefused, InvalidPhoneNumber) as exc:
            form.add_error(None, getattr(exc, "reason", str(exc)))
        else:
            messages.success(request, f"Payment request for ${payment.amount_requested} queued.")
            return redirect("payments:detail", pk=payment.pk)
    return render(request, "payments/payment_new.html", {"form": form})


def _payment_or_404(request, pk):
    return get_object_or_404(
        Payment.objects.for_user(request.user).select_related("dashboard", "contact", "created_by"),
        pk=pk,
    )


def _card_context(payment) -> dict:
    in_flight = payment.status in {
        payment.Status.PENDING,
        payment.Status.SENDING,
        payment.Status.UNKNOWN,
    }
    changes = list(services.payment_changes(payment))
    return {"payment": payment, "changes": changes, "in_flight": in_flight}


@permission_required("request_payments")
def payment_detail(request, pk):
    template = "payments/payment_detail.html"
    if request.htmx:
        template += "#payment-card"
    return render(request, template, _card_context(_payment_or_404(request, pk)))


@permission_required("request_payments")
@require_POST
def payment_action(request, pk, action):
    payment = _payment_or_404(request, pk)
    if action not in ACTIONS:
        raise Http404("No such payment action.")
    service, permission, done = ACTIONS[action]
    if not request.user.has_perm(f"accounts.{permission}"):
        raise PermissionDenied
    try:
        service(payment=payment, user=request.user)
    except services.PaymentActionRefused as exc:
        messages.error(request, exc.reason)
        status = 400
    else:
        messages.success(request, done)
        status = 200
    if request.htmx:
        # Read again: the service changed the payment and queued its change.
        context = _card_context(_payment_or_404(request, pk))
        return render(request, "payments/payment_detail.html#payment-card", context, status=status)
    return redirect("payments:detail", pk=pk)
