from django import forms
from django.contrib import admin

from textdesk.dashboards.models import Connection, Dashboard, SavedReply, SyncState


class ConnectionForm(forms.ModelForm):
    api_url = forms.URLField(
        assume_scheme="https", initial="https://api.textrequest.com/api/v3", label="API URL"
    )
    api_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted. Leave empty to keep the current key.",
    )

    class Meta:
        model = Connection
        fields = ["name", "api_url", "api_key", "rate_limit", "rate_window", "is_active"]

    def clean_api_key(self):
        key = self.cleaned_data["api_key"].strip()
        if not key and not self.instance.pk:
            raise forms.ValidationError("An API key is required for a new connection.")
        return key

    def save(self, commit=True):
        if self.cleaned_data["api_key"]:
            self.instance.set_api_key(self.cleaned_data["api_key"])
        return super().save(commit=commit)


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["name", "api_url", "masked_api_key", "rate_limit", "rate_window", "is_active"]


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "connection", "dashboard_id", "removed_at", "synced_at"]
    list_filter = ["connection"]
    search_fields = ["name", "phone"]


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    list_display = ["shortcut", "dashboard", "body"]
    search_fields = ["shortcut", "body"]


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = ["dashboard", "resource", "last_success_at", "last_full_at", "last_error"]
    list_filter = ["resource", "dashboard__connection"]
    readonly_fields = ["cursor"]
