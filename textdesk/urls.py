from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import include, path, reverse

from textdesk.health import healthz

admin.site.site_header = "textdesk data admin"


def _superusers_only(request) -> bool:
    """The data admin is for superusers (operators); Admins work in the app's own pages."""
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _superusers_only


@login_not_required
def _data_admin_login(request):
    """The data admin signs in through textdesk's own sign-in, so two-factor applies there too;
    someone signed in who is not a superuser is refused rather than sent round in a loop."""
    if request.user.is_authenticated:
        raise PermissionDenied
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("accounts:login") + (f"?{query}" if query else ""))


def home(request):
    """Where signing in lands: the inbox for people who reply, Payments for Finance."""
    user = request.user
    if not user.has_perm("accounts.work_inbox") and user.has_perm("accounts.manage_payments"):
        return redirect("payments:list")
    return redirect("conversations:inbox")


urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("textdesk.accounts.urls")),
    path("inbox/", include("textdesk.conversations.urls")),
    path("contacts/", include("textdesk.contacts.urls")),
    path("payments/", include("textdesk.payments.urls")),
    path("reports/", include("textdesk.reports.urls")),
    path("search/", include("textdesk.search.urls")),
    path("lines/sync/", include("textdesk.sync.urls")),
    path("lines/replies/", include("textdesk.conversations.reply_urls")),
    path("cases/", include("textdesk.cases.urls")),
    path("lines/", include("textdesk.dashboards.urls")),
    path("audit/", include("textdesk.audit.urls")),
    path("hooks/", include("textdesk.webhooks.urls")),
    # The data admin signs in through our own sign-in, so two-factor applies there too.
    path("admin/login/", _data_admin_login, name="data_admin_login"),
    path("admin/", admin.site.urls),
]
