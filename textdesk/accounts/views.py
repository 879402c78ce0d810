from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from textdesk.accounts.decorators import permission_required
from textdesk.accounts.forms import LoginForm, NewStaffForm, PreferencesForm, StaffForm
from textdesk.accounts.models import User
from textdesk.audit import services as audit

login = login_not_required(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
    )
)
logout = auth_views.LogoutView.as_view()
password_change = auth_views.PasswordChangeView.as_view(
    template_name="accounts/password_change.html",
    success_url=reverse_lazy("accounts:password_change_done"),
)
password_change_done = auth_views.PasswordChangeDoneView.as_view(
    template_name="accounts/password_change_done.html"
)


@require_http_methods(["GET", "POST"])
def preferences(request):
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Preferences saved.")
        return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form})


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
    roles, was_active, lines = before
    person = User.objects.prefetch_related("groups", "dashboards").get(pk=person.pk)
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
    before = (person.role_names, person.is_active, set(person.dashboards.all()))
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
    return render(request, "accounts/staff_form.html", {"form": form, "person": person})
