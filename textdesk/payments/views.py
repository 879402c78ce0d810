from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.shortcuts import render

from textdesk.accounts import access
from textdesk.accounts.decorators import permission_required

STATES = {
    "open": Q(textrequest_payment_status__in=["", "Sent"]) & ~Q(status="failed"),
    "past_due": Q(is_past_due=True, textrequest_payment_status__in=["", "Sent"]),
    "paid": Q(textrequest_payment_status="Paid"),
    "canceled": Q(textrequest_payment_status="Canceled"),
    "failed": Q(status="failed"),
}


@permission_required("request_payments")
def payment_list(request):
    payments = access.payments_for(request.user).select_related("dashboard", "contact")
    line_id = request.GET.get("line", "")
    if line_id.isdigit():
        payments = payments.filter(dashboard_id=int(line_id))
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
        "lines": access.lines_for(request.user),
        "line_id": line_id,
        "state": state,
        "states": [(key, key.replace("_", " ").capitalize()) for key in STATES],
    }
    return render(request, "payments/payment_list.html", context)
