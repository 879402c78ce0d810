from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts import services
from textdesk.accounts.availability import set_availability
from textdesk.accounts.decorators import permission_required
from textdesk.accounts.forms import (
    EnrolForm,
    LoginForm,
    NewStaffForm,
    PasswordAndCodeForm,
    PreferencesForm,
    SecurityPolicyForm,
    SignInCodeForm,
    StaffForm,
)
from textdesk.accounts.models import SecurityPolicy, SignedInSession, User
from textdesk.audit import services as audit


class _SignInView(auth_views.LoginView):
    """The password step; a person with two-factor on (in a browser not remembered) goes on to
    the code step before they are signed in."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if services.needs_code(self.request, user):
            services.begin_code_step(self.request, user, self.get_success_url())
            return redirect("accounts:two_factor_verify")
        return super().form_valid(form)


class _PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        old_key = self.request.session.session_key
        response = super().form_valid(form)  # keeps this browser signed in, under a new key
        services.rekey_session(self.request, old_key=old_key)
        services.end_other_sessions(self.request, user=form.user, reason="Changed their password")
        return response


login = login_not_required(_SignInView.as_view())
logout = auth_views.LogoutView.as_view()
password_change = _PasswordChangeView.as_view()
password_change_done = auth_views.PasswordChangeDoneView.as_view(
    template_name="accounts/password_change_done.html"
)


def _own_path(request, target: str) -> str:
    """``target`` when it is a path on this site, else "": a ``next`` that came with a form
    may be anything (another site, or a word ``redirect`` would take for a view's name)."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@login_not_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """The code step: the password was right; a code from the app or a recovery code signs in."""
    pending = services.pending_user(request)
    if pending is None:
        messages.info(request, "Sign in again: the code step waits five minutes at most.")
        return redirect("accounts:login")
    user, backend, next_url = pending
    if services.is_locked(request, user):
        return render(request, "accounts/locked_out.html", status=429)
    form = SignInCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.check_code(request, user, form.cleaned_data["code"])
        except services.CodeRefused as refused:
            if services.is_locked(request, user):
                return render(request, "accounts/locked_out.html", status=429)
            form.add_error("code", str(refused))
        else:
            services.finish_sign_in(request, user, backend)
            response = redirect(_own_path(request, next_url) or settings.LOGIN_REDIRECT_URL)
            if device.persistent_id.startswith("otp_static"):
                left = services.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. If your phone is lost, "
                    "turn two-factor off and set it up again in Preferences.",
                )
            elif form.cleaned_data["remember"]:
                services.remember_browser(response, user, device)
            return response
    return render(request, "accounts/two_factor_verify.html", {"form": form, "person": user})


@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Set up an authenticator app: QR code and typed key, on only once a first code matches."""
    if services.authenticator(request.user) is not None:
        messages.info(request, "Two-factor sign-in is already on.")
        return redirect("accounts:preferences")
    device = services.pending_authenticator(request.user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.enrol(request, user=request.user, code=form.cleaned_data["code"])
        except services.CodeRefused as refused:
            form.add_error("code", str(refused))
        else:
            # Shown once, in this response: recovery codes are never stored where they could
            # be read back (django-otp keeps them, we never show them again).
            return _show_recovery_codes(request, codes, first=True)
    context = {
        "form": form,
        "qr_svg": services.qr_svg(device),
        "typed_key": services.typed_key(device),
        "required": request.session.get(services.ENROL_KEY, False),
    }
    return render(request, "accounts/two_factor_setup.html", context)


def _show_recovery_codes(request, codes: list[str], *, first: bool):
    response = render(request, "accounts/recovery_codes.html", {"codes": codes, "first": first})
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    """New recovery codes, with the password and a current code."""
    if services.authenticator(request.user) is None:
        return redirect("accounts:two_factor_setup")
    form = PasswordAndCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.regenerate_recovery_codes(
                request,
                user=request.user,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
            )
        except services.CodeRefused as refused:
            form.add_error(None, str(refused))
        else:
            return _show_recovery_codes(request, codes, first=False)
    return render(
        request,
        "accounts/two_factor_confirm.html",
        {"form": form, "action": "codes", "left": services.recovery_codes_left(request.user)},
    )


@require_http_methods(["GET", "POST"])
def two_factor_off(request):
    """Turn one's own two-factor off (a new phone): the password and a code or recovery code."""
    if services.authenticator(request.user) is None:
        return redirect("accounts:preferences")
    form = PasswordAndCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.turn_off(
                request,
                user=request.user,
                password=form.cleaned_data["password"],
                code=form.cleaned_data["code"],
            )
        except services.CodeRefused as refused:
            form.add_error(None, str(refused))
        else:
            if request.session.get(services.ENROL_KEY):
                messages.info(request, "Two-factor is required here: set up your new app now.")
                return redirect("accounts:two_factor_setup")
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("accounts:preferences")
    return render(request, "accounts/two_factor_confirm.html", {"form": form, "action": "off"})


@require_POST
@permission_required("work_inbox")
def availability(request):
    """Available / Away, from the top bar (an htmx swap of the control, or a post and back)."""
    choice = request.POST.get("available", "")
    if choice not in ("0", "1"):
        return HttpResponseBadRequest("Say available=1 (Available) or available=0 (Away).")
    set_availability(user=request.user, is_available=choice == "1", actor=request.user)
    if request.htmx:
        return render(request, "accounts/availability.html#availability")
    target = _own_path(request, request.POST.get("next", "")) or reverse("home")
    messages.success(
        request,
        "You are Available: new conversations may be assigned to you."
        if request.user.is_available
        else "You are Away: nothing new is assigned to you; your conversations stay yours.",
    )
    return redirect(target)


@require_http_methods(["GET", "POST"])
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            if form.changed_data:
                changed = ", ".join(
                    str(form.fields[name].label).lower() for name in form.changed_data
                )
                audit.record(
                    actor=request.user,
                    kind="preferences",
                    summary=f"Changed own preferences: {changed}"[:300],
                    request=request,
                )
        messages.success(request, "Preferences saved.")
        return redirect("accounts:preferences")
    status = 400 if form.is_bound else 200  # bound and not saved: the form says what is wrong
    return render(
        request, "accounts/preferences.html", {"form": form, **_security(request)}, status=status
    )


def _security(request) -> dict:
    sessions = [
        {
            "row": row,
            "browser": services.describe_browser(row.user_agent),
            "is_current": services.is_current(request, row),
        }
        for row in services.active_sessions(request.user)
    ]
    device = services.authenticator(request.user)
    return {
        "sessions": sessions,
        "two_factor": device,
        "codes_left": services.recovery_codes_left(request.user) if device else 0,
        "two_factor_required": SecurityPolicy.current().requires_two_factor(request.user),
    }


@require_POST
def session_end(request, pk):
    row = get_object_or_404(SignedInSession, pk=pk, user=request.user)
    if services.is_current(request, row):
        messages.info(request, "That is this browser: use Sign out at the top instead.")
    else:
        services.end_session(request, row=row)
        messages.success(request, "That browser is signed out.")
    return redirect(reverse("accounts:preferences") + "#sessions")


@require_POST
def sessions_end_others(request):
    count = services.end_other_sessions(
        request, user=request.user, reason="Signed out everywhere else"
    )
    messages.success(request, f"Signed out {count} other session{'s' if count != 1 else ''}.")
    return redirect(reverse("accounts:preferences") + "#sessions")


@permission_required("manage_staff")
def staff(request):
    people = User.objects.order_by("username").prefetch_related("groups", "dashboards")
    return render(request, "accounts/staff_list.html", {"people": people})


@permission_required("manage_staff")
@require_http_methods(["GET", "POST"])
def staff_new(request):
    form = NewStaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            person = form.save()
            audit.record(
                actor=request.user,
                kind="staff",
                summary=f"Added {person.display_name} ({person.username}) as "
                f"{form.cleaned_data['role']}",
            )
        messages.success(request, f"{person.display_name} can now sign in.")
        return redirect("accounts:staff")
    return render(request, "accounts/staff_form.html", {"form": form, "person": None})


def _record_staff_edit(actor, person: User, before: tuple) -> None:
    """Audit what changed about a person's access: role, active, lines."""
    roles, was_active, lines, capacity = before
    person = User.objects.prefetch_related("groups", "dashboards").get(pk=person.pk)
    if person.assignment_capacity != capacity:
        audit.record(
            actor=actor,
            kind="staff",
            summary=f"Capacity of {person.display_name}: "
            f"{person.assignment_capacity or 'each line’s'} (was {capacity or 'each line’s'})",
        )
    if person.role_names != roles:
        audit.record(
            actor=actor,
            kind="role_change",
            summary=f"Changed {person.display_name}'s role from {', '.join(roles) or 'none'} "
            f"to {', '.join(person.role_names) or 'none'}",
        )
    if person.is_active != was_active:
        state = "Reactivated" if person.is_active else "Deactivated"
        audit.record(actor=actor, kind="staff", summary=f"{state} {person.display_name}")
    now = set(person.dashboards.all())
    if now != lines:
        added = ", ".join(sorted(line.name for line in now - lines)) or "none"
        removed = ", ".join(sorted(line.name for line in lines - now)) or "none"
        audit.record(
            actor=actor,
            kind="line_access",
            summary=f"Lines of {person.display_name}: added {added}; removed {removed}",
        )


@permission_required("manage_staff")
@require_http_methods(["GET", "POST"])
def staff_edit(request, pk):
    person = get_object_or_404(User, pk=pk)
    # Before the form touches the instance: what the audit entry compares against.
    before = (
        person.role_names,
        person.is_active,
        set(person.dashboards.all()),
        person.assignment_capacity,
    )
    form = StaffForm(request.POST or None, instance=person)
    if request.method == "POST" and form.is_valid():
        if person == request.user and not form.cleaned_data["is_active"]:
            form.add_error("is_active", "You cannot deactivate your own account.")
        else:
            with transaction.atomic():
                form.save()
                _record_staff_edit(request.user, person, before)
            messages.success(request, f"Saved {person.display_name}.")
            return redirect("accounts:staff")
    context = {"form": form, "person": person}
    if person.pk:
        context["two_factor"] = services.authenticator(person)
        context["session_count"] = services.active_sessions(person).count()
    return render(request, "accounts/staff_form.html", context)


@permission_required("manage_staff")
@require_http_methods(["GET", "POST"])
def security(request):
    """The sign-in rules: whether two-factor is optional, required for Admins or for everyone."""
    policy = SecurityPolicy.current()
    form = SecurityPolicyForm(request.POST or None, initial={"two_factor": policy.two_factor})
    if request.method == "POST" and form.is_valid():
        services.set_policy(request, two_factor=form.cleaned_data["two_factor"])
        messages.success(request, "Saved. It applies from each person's next sign-in.")
        return redirect("accounts:security")
    people = User.objects.filter(is_active=True).order_by("username").prefetch_related("groups")
    with_two_factor = services.people_with_two_factor()
    return render(
        request,
        "accounts/security.html",
        {"form": form, "policy": policy, "people": people, "with_two_factor": with_two_factor},
    )


@permission_required("manage_staff")
@require_http_methods(["GET", "POST"])
def staff_two_factor_reset(request, pk):
    """Reset a person's second factor (a lost phone), after a confirmation page."""
    person = get_object_or_404(User, pk=pk)
    if person == request.user:
        messages.error(
            request,
            "You cannot reset your own two-factor here. Turn it off in Preferences with your "
            "password and a recovery code, or ask another Admin.",
        )
        return redirect("accounts:staff_edit", pk=pk)
    if request.method == "POST":
        services.reset(request, person=person)
        messages.success(
            request,
            f"Two-factor is reset for {person.display_name}: they set it up again at "
            "their next sign-in if it is required, or from Preferences.",
        )
        return redirect("accounts:staff_edit", pk=pk)
    return render(
        request,
        "accounts/staff_two_factor_reset.html",
        {"person": person, "has_two_factor": services.authenticator(person) is not None},
    )


@permission_required("manage_staff")
@require_POST
def staff_sign_out(request, pk):
    """Sign a person out of every browser (e.g. when they leave)."""
    person = get_object_or_404(User, pk=pk)
    if person == request.user:
        messages.error(request, "Use “Sign out everywhere else” in your Preferences.")
        return redirect("accounts:staff_edit", pk=pk)
    count = services.end_all_sessions(request, person=person)
    messages.success(
        request,
        f"Signed {person.display_name} out of {count} session{'s' if count != 1 else ''}.",
    )
    return redirect("accounts:staff_edit", pk=pk)
