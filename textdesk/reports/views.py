import csv
from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from textdesk.accounts.decorators import permission_required
from textdesk.accounts.models import User
from textdesk.audit import services as audit
from textdesk.charts import bar_chart, grouped_bar_chart
from textdesk.conversations.tasks import recount_sla
from textdesk.dashboards import connections
from textdesk.dashboards.hours import DAYS
from textdesk.dashboards.models import BusinessHours, Dashboard
from textdesk.reports import assignments, metrics
from textdesk.reports.forms import BusinessHoursForm, ReportFilterForm
from textdesk.reports.tasks import apply_business_hours, refresh_reports
from textdesk.reports.templatetags.reports import duration

# Admins see every person's figures; everyone else who works the inbox sees only their own.
TEAM_PERMISSION = "accounts.manage_staff"


def _filter_form(request) -> ReportFilterForm:
    user = request.user
    team = user.has_perm(TEAM_PERMISSION)
    if team:
        agents = list(
            User.objects.filter(is_active=True, groups__name__in=["Agent", "Admin"])
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
    else:
        agents = [user]
    data = request.GET.copy()
    data.setdefault("period", "30")
    return ReportFilterForm(
        data, lines=list(Dashboard.objects.for_user(user)), agents=agents, agent_locked=not team
    )


def _report(form: ReportFilterForm):
    lines, agent, start, end = form.scope()
    report = metrics.build(lines=lines, agent=agent, start=start, end=end)
    report.given = assignments.distribution(lines=lines, agent=agent, start=start, end=end)
    return report


def _count(value: float) -> str:
    # Axis ticks between whole numbers (0.5 of a small count) keep their decimal.
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _charts(report) -> list:
    labels = [day.strftime("%b %-d") for day, _ in report.days]
    days = [figures for _, figures in report.days]
    charts = [
        grouped_bar_chart(
            title="Texts per day",
            labels=labels,
            series=[
                ("Received", [f.received for f in days]),
                ("Sent", [f.sent for f in days]),
            ],
            value_format=_count,
            x_label="Day",
            y_label="Texts",
            chart_id="chart-texts",
        ),
        grouped_bar_chart(
            title="New conversations and resolutions per day",
            labels=labels,
            series=[
                ("New conversations", [f.new_conversations for f in days]),
                ("Resolved", [f.resolutions for f in days]),
            ],
            value_format=_count,
            x_label="Day",
            y_label="Conversations",
            chart_id="chart-conversations",
        ),
        bar_chart(
            title="Average first response time per day",
            labels=labels,
            values=[(f.reply_mean or 0) / 60 for f in days],
            value_format=lambda minutes: duration(minutes * 60),
            x_label="Day",
            y_label="Waited (business hours)",
            series_name="Average (mean) first response",
            chart_id="chart-response",
        ),
    ]
    if report.given:
        charts.append(
            grouped_bar_chart(
                title="Conversations assigned per agent",
                labels=[g.person.display_name for g in report.given],
                series=[
                    ("Automatically", [g.automatic for g in report.given]),
                    ("By a person", [g.manual for g in report.given]),
                ],
                value_format=_count,
                x_label="Agent",
                y_label="Conversations",
                chart_id="chart-assignments",
            )
        )
    if report.total.sla:
        # Only where a line in view has targets: the same chart helper, one more chart.
        charts.append(
            grouped_bar_chart(
                title="Service-level breaches per day",
                labels=labels,
                series=[
                    (name, [f.sla.get(key, (0, 0))[1] - f.sla.get(key, (0, 0))[0] for f in days])
                    for key, name in SLA_SERIES
                    if key in report.total.sla
                ],
                value_format=_count,
                x_label="Day",
                y_label="Breaches",
                chart_id="chart-sla",
            )
        )
    return charts


SLA_SERIES = (("first", "First response"), ("next", "Next response"), ("resolution", "Resolution"))


@permission_required("work_inbox")
@require_GET
def report(request):
    form = _filter_form(request)
    context = {
        "form": form,
        "report": None,
        "charts": [],
        "query": request.GET.urlencode(),
        "time_zone": settings.TIME_ZONE,
    }
    if form.is_valid():
        context["report"] = _report(form)
        context["charts"] = _charts(context["report"])
        if context["report"].as_of is None:
            # Never counted (a fresh start): count now, not at beat's first tick a minute
            # later; the region polls until the count is in (a second run finds it locked).
            refresh_reports.delay()
        # Lines still on their first sync: their texts are not all in yet, and it says so.
        context["first_sync"] = connections.first_sync_context(request.user, "conversations")
    template = "reports/report.html#report" if request.htmx else "reports/report.html"
    return render(request, template, context, status=200 if form.is_valid() else 400)


# --- CSV -------------------------------------------------------------------------------------

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


COLUMNS = [
    "table",
    "row",
    "texts received",
    "texts sent",
    "sent by people",
    "new conversations",
    "replies",
    "first response median (s)",
    "first response p90 (s)",
    "first response mean (s)",
    "resolved",
    "resolution median (s)",
    "resolution p90 (s)",
    "opt-outs",
    "payments requested",
    "amount requested",
    "payments collected",
    "amount collected",
    "unresolved now",
    "waiting for a reply now",
    "oldest wait now (s)",
    "assigned automatically",
    "assigned by a person",
    "time to assignment mean (s)",
    "time to assignment longest (s)",
    "first response within target (%)",
    "next response within target (%)",
    "resolution within target (%)",
    "breaches",
]


def _seconds(value):
    return None if value is None else round(value)


def _csv_row(table: str, name: str, f: metrics.Figures) -> list:
    return [
        table,
        name,
        f.received,
        f.sent,
        f.sent_by_people,
        f.new_conversations,
        f.replies,
        _seconds(f.reply_median),
        _seconds(f.reply_p90),
        _seconds(f.reply_mean),
        f.resolutions,
        _seconds(f.resolution_median),
        _seconds(f.resolution_p90),
        f.opt_outs,
        f.payments_requested,
        f.amount_requested,
        f.payments_collected,
        f.amount_collected,
        f.backlog,
        f.waiting,
        f.oldest_wait_seconds,
        None,  # the assignment columns: rows of their own (table "assignment")
        None,
        None,
        None,
        _percent(f.first_within),
        _percent(f.next_within),
        _percent(f.resolution_within),
        f.breaches if f.sla else None,
    ]


def _percent(value):
    return None if value is None else round(value, 1)


def _csv_rows(report) -> Iterator[list]:
    yield COLUMNS
    yield _csv_row("total", f"{report.start} to {report.end}", report.total)
    for day, figures in report.days:
        yield _csv_row("day", day.isoformat(), figures)
    for line, figures in report.lines:
        yield _csv_row("line", line.name, figures)
    for person, figures in report.agents:
        yield _csv_row("agent", person.display_name, figures)
    at = COLUMNS.index("assigned automatically")
    for given in report.given:
        row = ["assignment", given.person.display_name] + [None] * (len(COLUMNS) - 2)
        row[at : at + 4] = [
            given.automatic,
            given.manual,
            _seconds(given.wait_mean),
            _seconds(given.wait_longest),
        ]
        yield row


@permission_required("work_inbox")
@require_GET
def export(request):
    """The figures shown on the page with the same filters, as CSV (streamed)."""
    form = _filter_form(request)
    if not form.is_valid():
        return render(
            request, "reports/report.html", {"form": form, "report": None, "charts": []}, status=400
        )
    report = _report(form)
    writer = csv.writer(_Echo())
    rows = ([safe_cell(cell) for cell in row] for row in _csv_rows(report))
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    name = f"textdesk-report-{report.start}-{report.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Business hours --------------------------------------------------------------------------


@permission_required("manage_lines")
@require_GET
def hours_list(request):
    lines = list(Dashboard.objects.for_user(request.user).select_related("business_hours"))
    rows = []
    for line in lines:
        row = getattr(line, "business_hours", None)
        rows.append((line, _describe_hours(row)))
    return render(request, "reports/hours_list.html", {"rows": rows})


def _describe_hours(row) -> str:
    if row is None or row.is_always_open:
        return "24 hours, 7 days"
    parts = [
        f"{name[:3]} {entry[0]}–{entry[1]}"
        for name, entry in zip(DAYS, row.weekly, strict=False)
        if entry
    ]
    holidays = f"; holidays {', '.join(row.holidays)}" if row.holidays else ""
    return f"{', '.join(parts)} ({row.time_zone}){holidays}"


@permission_required("manage_lines")
@require_http_methods(["GET", "POST"])
def hours_edit(request, pk):
    line = get_object_or_404(Dashboard.objects.for_user(request.user), pk=pk)
    row = BusinessHours.objects.filter(dashboard=line).first()
    form = BusinessHoursForm(request.POST or None, initial=BusinessHoursForm.initial_for(row))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved, _ = BusinessHours.objects.update_or_create(
            dashboard=line,
            defaults={
                "is_always_open": data["is_always_open"],
                "time_zone": data["time_zone"],
                "weekly": data["weekly"],
                "holidays": data["holidays"],
            },
        )
        audit.record(
            actor=request.user,
            kind="business_hours",
            dashboard=line,
            summary=f"Hours of {line.name}: {_describe_hours(saved)}",
        )
        apply_business_hours.delay_on_commit(line.pk)
        recount_sla.delay_on_commit(line.pk)  # the SLA clocks count the same hours
        messages.success(
            request, f"Saved the hours of {line.name}; its response times are being recounted."
        )
        return redirect("reports:hours")
    return render(request, "reports/hours_edit.html", {"form": form, "line": line})
