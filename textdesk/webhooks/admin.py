from django.contrib import admin

from textdesk.webhooks.models import WebhookEvent


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["kind", "key", "connection", "received_at", "processed_at", "error"]
    list_filter = ["kind", "connection"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]

    def has_add_permission(self, request):
        return False
