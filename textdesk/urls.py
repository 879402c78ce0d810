from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from textdesk.health import healthz

admin.site.site_header = "textdesk data admin"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="conversations:inbox"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("textdesk.accounts.urls")),
    path("inbox/", include("textdesk.conversations.urls")),
    path("contacts/", include("textdesk.contacts.urls")),
    path("payments/", include("textdesk.payments.urls")),
    path("lines/sync/", include("textdesk.sync.urls")),
    path("cases/", include("textdesk.cases.urls")),
    path("lines/", include("textdesk.dashboards.urls")),
    path("hooks/", include("textdesk.webhooks.urls")),
    path("admin/", admin.site.urls),
]
