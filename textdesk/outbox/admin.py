from django.contrib import admin

from textdesk.outbox.models import Change


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    """The outbox of writes other than texts: inspect, never edit (tasks own the state)."""

    list_display = [
        "kind",
        "dashboard_id",
        "target_model",
        "target_id",
        "status",
        "attempts",
        "created_at",
        "done_at",
    ]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in Change._meta.fields]

    def has_add_permission(self, request):
        return False
