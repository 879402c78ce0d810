from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.accounts.models import User
from textdesk.audit import services as audit
from textdesk.charts import bar_chart, grouped_bar_chart
from textdesk.dashboards import connections
from textdesk.dashboards.models import Dashboard
from textdesk.payments import export, followup, listing, services, summary, timeline
from textdesk.payments import sync as payments_sync
from textdesk.payments.forms import FollowUpForm, PaymentFilterForm, PaymentRequestForm
from textdesk.payments.models import Payment
from textdesk.phones import InvalidPhoneNumber

ACTIONS = {
    # action → (service, permission, what the flash says)
    "remind": (services.send_reminder, "request_payments", "Reminder queued."),
    "cancel": (services.cancel_payment, "request_payments", "Cancellation queued."),
    "mark_paid": (services.mark_paid, "manage_payments", "Marked paid; syncing to Text Request."),
    "again": (services.request_again, "request_payments", "Sending the request again."),
}
# Filter fields kept in links (the cursor and the page are not).
FILTER_FIELDS = [
    "q", "state", "line", "requester", "requested_from", "requested_to",
    "amount_min", "amount_max", "sort", "dir",
]  # fmt: skip


def money(value) -> str:
    return f"${value:,.2f}"


@dataclass
class Filtered:
    form: PaymentFilterForm
    payments: QuerySet
    filters: dict
    lines: list
    requesters: list
    sort: str
    direction: str

    def rollup(self) -> dict | None:
        return summary.rollup_filter(self.filters, [line.pk for line in self.lines])

    def names(self) -> dict:
        return {
            "line_names": {line.pk: line.name for line in self.lines},
            "people": {user.pk: user.display_name for user in self.requesters},
        }


def _filtered(request) -> Filtered:
    """The user's payments under the query string's filter.

    Agents see their lines' payments; Finance and Admin every line's."""
    lines = list(Dashboard.objects.for_user(request.user).order_by("name"))
    requesters = list(
        User.objects.filter(is_active=True)
        .only("pk", "username", "first_name", "last_name")
        .order_by("first_name", "username")
    )
    form = PaymentFilterForm(
        request.GET if request.GET else None, lines=lines, requesters=requesters
    )
    filters = form.filters
    payments = listing.apply_filters(Payment.objects.for_user(request.user), filters)
    return Filtered(
        form, payments, filters, lines, requesters,
        filters.get("sort", "date"), filters.get("dir", "desc"),
    )  # fmt: skip


def _sort_links(request, sort: str, direction: str) -> dict:
    """Per column: the link that sorts by it (again: the other way) and its aria-sort."""
    links = {}
    for key, _ in PaymentFilterForm.SORTS:
        params = request.GET.copy()
        params.pop("after", None)
        params["sort"] = key
        params["dir"] = "asc" if key == sort and direction == "desc" else "desc"
        current = {"desc": "descending", "asc": "ascending"}[direction] if key == sort else "none"
        links[key] = {"url": f"?{params.urlencode()}", "aria": current}
    return links


def _query(request) -> str:
    keep = request.GET.copy()
    for key in list(keep):
        if key not in FILTER_FIELDS or not keep.get(key):
            del keep[key]
    return keep.urlencode()


@permission_required("request_payments")
def payment_list(request):
    found = _filtered(request)
    form, payments, sort, direction = found.form, found.payments, found.sort, found.direction
    cursor = request.GET.get("after", "")
    try:
        rows, next_cursor = listing.page(
            payments.select_related("dashboard", "contact", "created_by"),
            sort=sort,
            direction=direction,
            cursor=cursor,
        )
    except listing.BadCursor as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain")
    query = _query(request)
    context = {
        "form": form,
        "sorts": _sort_links(request, sort, direction),
        "payments": rows,
        "rows": listing.rows(rows),
        "next_url": f"?{query}&after={next_cursor}" if next_cursor else "",
        "query": query,
        "sort": sort,
        "direction": direction,
        "is_finance": request.user.has_perm("accounts.manage_payments"),
        "follow_up_days": followup.follow_up_days(),
        # An empty list while a line has never read its payments is "not in yet".
        "first_sync": None
        if rows or cursor
        else connections.first_sync_context(request.user, "payments"),
    }
    if request.htmx and cursor:
        return render(request, "payments/payment_list.html#payment-rows", context)
    return render(request, "payments/payment_list.html", context)


@permission_required("manage_payments")
def payment_summary(request):
    found = _filtered(request)
    totals = summary.summarize(found.payments, rollup=found.rollup(), **found.names())
    context = {"totals": totals, "query": _query(request), "form": found.form}
    if not totals["requested_count"]:
        # Nothing at all: maybe nothing read yet, rather than nothing requested.
        context["first_sync"] = connections.first_sync_context(request.user, "payments")
    template = "payments/payment_summary.html"
    if request.htmx:
        template += "#payment-summary"
    return render(request, template, context)


@permission_required("manage_payments")
def payment_charts(request):
    payments = _filtered(request).payments
    weeks = summary.weekly(payments)
    buckets = summary.aging(payments)
    context = {
        "weekly": grouped_bar_chart(
            title="Requested and collected per week",
            description=_weekly_description(weeks),
            labels=[day.strftime("%b %-d") for day, _, _ in weeks],
            series=[
                ("Requested", [requested for _, requested, _ in weeks]),
                ("Collected", [collected for _, _, collected in weeks]),
            ],
            value_format=_short_money,
            x_label="Week starting",
            y_label="Amount",
            chart_id="chart-weekly",
        ),
        "aging": bar_chart(
            title="Open amount by age",
            labels=[bucket.label for bucket in buckets],
            values=[bucket.amount for bucket in buckets],
            value_format=_short_money,
            x_label="Days since the request",
            y_label="Open amount",
            series_name="Open amount",
            chart_id="chart-aging",
        ),
        "query": _query(request),
    }
    template = "payments/payment_charts.html"
    if request.htmx:
        template += "#payment-charts"
    return render(request, template, context)


def _short_money(value) -> str:
    return f"${value:,.0f}"


def _weekly_description(weeks) -> str:
    requested = sum(r for _, r, _ in weeks)
    collected = sum(c for _, _, c in weeks)
    return (
        f"Over the last {len(weeks)} weeks, {money(requested)} was requested and "
        f"{money(collected)} collected."
    )


@permission_required("manage_payments")
def payment_export(request):
    found = _filtered(request)
    form, payments, sort, direction = found.form, found.payments, found.sort, found.direction
    if form.is_bound and not form.is_valid():
        reasons = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return HttpResponse(f"Fix the filter first: {reasons}", status=400,
                            content_type="text/plain")  # fmt: skip
    chosen = [
        f"{form[name].label.lower()}: {value}"
        for name, value in (form.cleaned_data.items() if form.is_bound else [])
        if value not in (None, "", [])
    ]
    described = f"payments ({'; '.join(chosen)})" if chosen else "every payment"
    audit.record(actor=request.user, kind="payment_export", summary=f"Exported {described}"[:300])
    response = StreamingHttpResponse(
        export.lines(payments, sort=sort, direction=direction), content_type="text/csv"
    )
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="payments-{stamp}.csv"'
    return response


def _batch_since(request) -> datetime:
    """Progress counts this user's batches since the first one still running (or the last
    hour's)."""
    since = request.session.get("reminders_since")
    return datetime.fromisoformat(since) if since else timezone.now() - timedelta(hours=1)


def _batch_active(request) -> bool:
    since = request.session.get("reminders_since")
    if not since:
        return False
    mine = Payment.objects.for_user(request.user)
    return followup.progress(mine, since=datetime.fromisoformat(since)).active


@permission_required("manage_payments")
@require_http_methods(["GET", "POST"])
def follow_up(request):
    payments = followup.queue(Payment.objects.for_user(request.user))
    form = FollowUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            chosen = payments
            if not form.cleaned_data.get("everything"):
                chosen = payments.filter(pk__in=form.cleaned_data["payments"])
            started = timezone.now()
            outcome = followup.send_reminders(chosen, user=request.user)
            if outcome.queued:
                if not _batch_active(request):
                    request.session["reminders_since"] = started.isoformat()
                plural = "s" if outcome.queued != 1 else ""
                skipped = (
                    f"; {outcome.skipped} already reminded or closed" if outcome.skipped else ""
                )
                messages.success(request, f"{outcome.queued} reminder{plural} queued{skipped}.")
            else:
                messages.info(
                    request, "No reminder queued: those payments were already reminded or closed."
                )
        else:
            messages.error(request, " ".join(form.non_field_errors()))
        if not request.htmx:
            return redirect("payments:follow_up")
    since_at = _batch_since(request)
    context = {
        "rows": list(
            payments.select_related("dashboard", "contact").order_by("requested_at", "id")[
                : followup.SHOWN
            ]
        ),
        "progress": followup.progress(Payment.objects.for_user(request.user), since=since_at),
        "days": followup.follow_up_days(),
        "per_minute": round(60 / followup.pace().total_seconds()),
        "shown": followup.SHOWN,
    }
    template = "payments/payment_follow_up.html"
    if request.htmx:
        template += "#follow-up"
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, template, context, status=status)


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
        Payment.objects.for_user(request.user).select_related(
            "dashboard__connection", "contact__conversation", "created_by"
        ),
        pk=pk,
    )


def _card_context(payment) -> dict:
    in_flight = payment.status in {
        payment.Status.PENDING,
        payment.Status.SENDING,
        payment.Status.UNKNOWN,
    }
    changes = list(services.payment_changes(payment))
    conversation = getattr(payment.contact, "conversation", None) if payment.contact else None
    return {
        "payment": payment,
        "changes": changes,
        "in_flight": in_flight,
        "events": timeline.events(payment),
        "conversation": conversation,
    }


@permission_required("request_payments")
def payment_detail(request, pk):
    payment = _payment_or_404(request, pk)
    # A state older than a minute is read again (one interactive call; open payments only).
    if payments_sync.refresh_payment(payment):
        payment = _payment_or_404(request, pk)
    template = "payments/payment_detail.html"
    if request.htmx:
        template += "#payment-card"
    return render(request, template, _card_context(payment))


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
