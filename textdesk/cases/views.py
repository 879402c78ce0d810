"""Views of service-desk cases: the admin settings page, the Cases list and page, and the
conversation's case panel (create, link, note, solution and the prefilled reply).

Order inside each view: load (scoped to the user's lines; another line's ids are a 404) →
validate (a form) → act (one service call) → respond. The conversation page loads the panel
by its own URL, so the inbox needs no knowledge of cases."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.audit import services as audit
from textdesk.cases import services
from textdesk.cases.forms import (
    CaseForm,
    CaseSearchForm,
    LineDefaultsForm,
    LinkForm,
    NoteForm,
    ServiceDeskForm,
)
from textdesk.cases.models import Case, LineDefaults, ServiceDesk
from textdesk.conversations.models import Conversation
from textdesk.dashboards.models import Dashboard
from textdesk.outbox.delivery import is_unconfirmed

PAGE_SIZE = 50
STATES = {
    "open": ("Open", {"status": Case.Status.CREATED, "solved_at__isnull": True}),
    "solved": ("Solved", {"status": Case.Status.CREATED, "solved_at__isnull": False}),
    "closed": ("Closed", {"status": Case.Status.CREATED, "is_closed": True}),
    "creating": ("Being created", {"status__in": Case.IN_FLIGHT}),
    "failed": ("Failed", {"status": Case.Status.FAILED}),
}
ID_FIELDS = ("project_id", "item_type_id", "service_id", "category_id", "group_id")


def _conversation_url(case_or_conversation) -> str:
    conversation = getattr(case_or_conversation, "conversation", case_or_conversation)
    return reverse("conversations:conversation", args=[conversation.dashboard_id, conversation.pk])


def _conversation_or_404(request, pk):
    return get_object_or_404(
        Conversation.objects.for_user(request.user).select_related("contact", "dashboard"),
        pk=pk,
    )


def _case_or_404(request, pk) -> Case:
    return get_object_or_404(
        Case.objects.for_user(request.user).select_related(
            "conversation__contact",
            "conversation__dashboard",
            "dashboard",
            "created_by",
            "transcript",
        ),
        pk=pk,
    )


def _back(request, case_or_conversation):
    """After an action: the panel when htmx asked, else the page the form was on (``next``,
    this site's own path: the case page sends its own), else the conversation page."""
    if request.htmx:
        conversation = getattr(case_or_conversation, "conversation", case_or_conversation)
        return case_panel(request, conversation.pk)
    back = request.POST.get("next", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect(_conversation_url(case_or_conversation))


# --- Admin -> Service desk --------------------------------------------------------------------


@permission_required("manage_connections")
@require_http_methods(["GET", "POST"])
def settings_page(request):
    desk = ServiceDesk.current()
    initial = {}
    if desk is not None:
        initial = {
            "instance_url": desk.instance_url,
            "calls_per_minute": desk.calls_per_minute,
            "transcript_texts": desk.transcript_texts,
        }
    form = ServiceDeskForm(
        request.POST or None,
        initial=initial,
        has_token=desk is not None,
        current_url=desk.instance_url if desk else "",
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        what = "Connected the service desk" if desk is None else "Changed the service desk"
        summary = f"{what} {data['instance_url']}" + (" with a new token" if data["token"] else "")
        try:
            saved = services.save_service_desk(
                instance_url=data["instance_url"],
                token=data["token"] or None,
                user=request.user,
                calls_per_minute=data["calls_per_minute"],
                transcript_texts=data["transcript_texts"],
            )
        except services.CaseRefused as exc:
            form.add_error(None, exc.reason)
            audit.record(
                actor=request.user,
                kind="service_desk",
                summary=summary,
                status="failed",
                reason=exc.reason,
                request=request,
            )
        else:
            audit.record(
                actor=request.user,
                kind="service_desk",
                summary=f"{summary} (token {saved.masked_token} tested)",
                request=request,
            )
            messages.success(request, "Connection tested and saved.")
            return redirect("cases:settings")
    return render(request, "cases/settings.html", _settings_context(request, desk, form))


@permission_required("manage_connections")
@require_http_methods(["GET", "POST"])
def disconnect(request):
    desk = ServiceDesk.current()
    if desk is None:
        messages.info(request, "No service desk is connected.")
        return redirect("cases:settings")
    if request.method == "POST":
        address = services.disconnect_service_desk()
        audit.record(
            actor=request.user,
            kind="service_desk",
            summary=f"Disconnected the service desk {address} (its token was deleted)",
            request=request,
        )
        messages.success(request, "Service desk disconnected; its token is deleted.")
        return redirect("cases:settings")
    followed = Case.objects.filter(status=Case.Status.CREATED, is_closed=False).count()
    in_flight = Case.objects.filter(status__in=Case.IN_FLIGHT).count()
    context = {"desk": desk, "followed": followed, "in_flight": in_flight,
               "admin_tab": "service_desk"}  # fmt: skip
    return render(request, "cases/disconnect.html", context)


def _settings_context(request, desk, form, bound_line=None, bound_form=None) -> dict:
    catalogue = services.catalogue(desk)
    lines = []
    defaults = {d.dashboard_id: d for d in LineDefaults.objects.all()}
    for line in Dashboard.objects.for_user(request.user):
        if bound_line is not None and line.pk == bound_line.pk:
            line_form = bound_form
        else:
            saved = defaults.get(line.pk)
            initial = {name: getattr(saved, name) for name in ID_FIELDS} if saved else {}
            line_form = LineDefaultsForm(
                initial=initial, catalogue=catalogue, prefix=f"line{line.pk}"
            )
        lines.append((line, line_form))
    return {
        "desk": desk,
        "form": form,
        "catalogue": catalogue,
        "lines": lines,
        "admin_tab": "service_desk",
    }


@permission_required("manage_connections")
@require_POST
def line_defaults(request, line_pk):
    line = get_object_or_404(Dashboard.objects.for_user(request.user), pk=line_pk)
    desk = ServiceDesk.current()
    form = LineDefaultsForm(
        request.POST, catalogue=services.catalogue(desk), prefix=f"line{line.pk}"
    )
    if form.is_valid():
        LineDefaults.objects.update_or_create(
            dashboard=line, defaults={name: form.cleaned_data[name] for name in ID_FIELDS}
        )
        ids = ", ".join(f"{name} {form.cleaned_data[name] or '—'}" for name in ID_FIELDS)
        audit.record(
            actor=request.user,
            kind="service_desk",
            summary=f"Saved the case defaults of {line.name}: {ids}",
            dashboard=line,
            request=request,
        )
        messages.success(request, f"Case defaults of {line.name} saved.")
        return redirect("cases:settings")
    initial = {
        "instance_url": desk.instance_url if desk else "",
        "calls_per_minute": desk.calls_per_minute if desk else 30,
        "transcript_texts": desk.transcript_texts if desk else 10,
    }
    settings_form = ServiceDeskForm(
        initial=initial, has_token=desk is not None, current_url=desk.instance_url if desk else ""
    )
    context = _settings_context(request, desk, settings_form, line, form)
    return render(request, "cases/settings.html", context, status=400)


# --- The Cases list and a case's page ---------------------------------------------------------


def _cursor(value: str):
    """``after`` = ``<created_at ISO>|<id>`` of the last row shown."""
    try:
        when, pk = value.rsplit("|", 1)
        return datetime.fromisoformat(when), int(pk)
    except (ValueError, OverflowError):
        return None


@permission_required("work_inbox")
def case_list(request):
    cases = Case.objects.for_user(request.user).select_related("dashboard", "conversation__contact")
    state = request.GET.get("state", "")
    if state in STATES:
        cases = cases.filter(**STATES[state][1])
    line_id = request.GET.get("line", "")
    if line_id.isascii() and line_id.isdigit():  # isdigit() alone takes "²", int() does not
        cases = cases.filter(dashboard_id=int(line_id))
    cursor = _cursor(request.GET.get("after", ""))
    if cursor:
        when, pk = cursor
        cases = cases.filter(Q(created_at__lt=when) | Q(created_at=when, id__lt=pk))
    rows = list(cases.order_by("-created_at", "-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_query = None
    if more:
        query = request.GET.copy()
        query["after"] = f"{rows[-1].created_at.isoformat()}|{rows[-1].pk}"
        next_query = query.urlencode()
    context = {
        "cases": rows,
        "next_query": next_query,
        "state": state,
        "states": [(key, label) for key, (label, _) in STATES.items()],
        "lines": Dashboard.objects.for_user(request.user),
        "line_id": line_id,
        "now": timezone.now(),
    }
    template = "cases/case_list.html"
    if request.htmx and request.GET.get("after"):
        template += "#case-rows"
    return render(request, template, context)


@permission_required("work_inbox")
def case_detail(request, pk):
    case = _case_or_404(request, pk)
    notes = list(case.notes.select_related("created_by"))
    context = {
        "case": case,
        "notes": notes,
        "note_form": NoteForm(),
        "conversation_url": _conversation_url(case),
    }
    return render(request, "cases/case_detail.html", context)


# --- The conversation's case panel ------------------------------------------------------------


def _panel_context(request, conversation, **extra) -> dict:
    cases = list(
        Case.objects.filter(conversation=conversation)
        .select_related("created_by", "transcript")
        .order_by("-created_at", "-id")[:5]
    )
    case = cases[0] if cases else None
    notes = list(case.notes.order_by("-created_at", "-id")[:5])[::-1] if case else []
    return {
        "conversation": conversation,
        "case": case,
        "earlier_cases": cases[1:],
        "notes": notes,
        "note_form": extra.pop("note_form", None) or NoteForm(),
        "can_work": request.user.has_perm("accounts.work_inbox"),
        "unconfirmed": case is not None and is_unconfirmed(case),
        "desk_ready": ServiceDesk.objects.exists(),
        **extra,
    }


@permission_required("view_conversations")
def case_panel(request, conversation_pk, status: int = 200, **extra):
    conversation = _conversation_or_404(request, conversation_pk)
    return render(
        request,
        "cases/panel.html#case-panel",
        _panel_context(request, conversation, **extra),
        status=status,
    )


def _form_initial(conversation, desk) -> dict:
    draft = services.draft_case(conversation, texts=desk.transcript_texts if desk else 10)
    defaults = services.line_defaults(conversation.dashboard)
    return {**draft, **{name: getattr(defaults, name) for name in ID_FIELDS}}


@permission_required("work_inbox")
@require_http_methods(["GET", "POST"])
def case_new(request, conversation_pk):
    conversation = _conversation_or_404(request, conversation_pk)
    desk = ServiceDesk.current()
    catalogue = services.catalogue(desk)
    refused = None
    if request.method == "POST":
        form = CaseForm(request.POST, catalogue=catalogue)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.request_case(
                    conversation=conversation,
                    user=request.user,
                    **{name: data[name] for name in ("subject", "description", *ID_FIELDS)},
                    client_key=data["client_key"],
                )
            except services.CaseRefused as exc:
                form.add_error(None, exc.reason)
            else:
                messages.success(request, "Case requested; it appears in ASMS in a moment.")
                return redirect(_conversation_url(conversation) + f"#case-{case.pk}")
    else:
        refused = _refused_case(request, conversation)
        if refused is not None:
            # Correct a refused request: the typed values come back with ASMS's message.
            initial = {n: getattr(refused, n) for n in ("subject", "description", *ID_FIELDS)}
            form = CaseForm(initial=initial, catalogue=catalogue)
        else:
            form = CaseForm(initial=_form_initial(conversation, desk), catalogue=catalogue)
    context = {
        "conversation": conversation,
        "form": form,
        "desk": desk,
        "catalogue": catalogue,
        "refused": refused,
        "conversation_url": _conversation_url(conversation),
    }
    status = 400 if request.method == "POST" else 200  # a valid POST has redirected
    return render(request, "cases/case_new.html", context, status=status)


def _refused_case(request, conversation):
    retry = request.GET.get("retry", "")
    if not (retry.isascii() and retry.isdigit()):
        return None
    return Case.objects.filter(
        pk=int(retry), conversation=conversation, status=Case.Status.FAILED
    ).first()


@permission_required("work_inbox")
@require_http_methods(["GET", "POST"])
def case_link(request, conversation_pk):
    conversation = _conversation_or_404(request, conversation_pk)
    found, error = [], None
    search = CaseSearchForm(request.GET or None)
    if request.method == "POST":
        form = LinkForm(request.POST)
        if form.is_valid():
            try:
                ticket = form.cleaned_data["ticket"]
                services.link_case(conversation=conversation, user=request.user, ticket=ticket)
            except services.CaseRefused as exc:
                error = exc.reason
            else:
                messages.success(request, f"Linked to {form.cleaned_data['ticket']}.")
                return redirect(_conversation_url(conversation))
        else:
            error = "Choose a case to link."
    elif search.is_valid():
        try:
            found = services.find_cases(search.cleaned_data["q"])
        except services.CaseRefused as exc:
            error = exc.reason
    context = {
        "conversation": conversation,
        "search": search,
        "found": found,
        "error": error,
        "conversation_url": _conversation_url(conversation),
    }
    return render(request, "cases/case_link.html", context, status=400 if error else 200)


@permission_required("work_inbox")
@require_POST
def case_note(request, pk):
    case = _case_or_404(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.add_note(
                case=case,
                user=request.user,
                text=form.cleaned_data["text"],
                client_key=form.cleaned_data["client_key"],
            )
        except services.CaseRefused as exc:
            form.add_error("text", exc.reason)
    if form.errors:
        if request.htmx:
            return case_panel(request, case.conversation_id, status=400, note_form=form)
        notes = list(case.notes.select_related("created_by"))
        context = {
            "case": case,
            "notes": notes,
            "note_form": form,
            "conversation_url": _conversation_url(case),
        }
        return render(request, "cases/case_detail.html", context, status=400)
    if not request.htmx:
        messages.success(request, "Note queued for the case.")
    return _back(request, case)


@permission_required("work_inbox")
@require_POST
def case_reply(request, pk):
    case = _case_or_404(request, pk)
    if not case.is_solved:
        raise PermissionDenied
    services.offer_reply(case=case, user=request.user)
    url = _conversation_url(case)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    messages.success(request, "The reply is in the composer: read it, edit it, then send it.")
    return redirect(url)


@permission_required("work_inbox")
@require_POST
def case_refresh(request, pk):
    case = _case_or_404(request, pk)
    try:
        services.refresh_case(case)
    except services.CaseRefused as exc:
        messages.error(request, exc.reason)
    return _back(request, case)


@permission_required("work_inbox")
@require_POST
def case_create_again(request, pk):
    case = _case_or_404(request, pk)
    try:
        services.create_again(case)
    except services.CaseRefused as exc:
        messages.error(request, exc.reason)
    return _back(request, case)


@permission_required("work_inbox")
@require_POST
def case_transcript(request, pk):
    case = _case_or_404(request, pk)
    services.retry_transcript(case)
    return _back(request, case)
