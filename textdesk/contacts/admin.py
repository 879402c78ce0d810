from django.contrib import admin

from textdesk.contacts.models import ConsentEvent, Contact, CustomField, Group, Tag


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["phone_number", "first_name", "last_name", "dashboard", "opted_out_at"]
    list_filter = ["dashboard", "is_blocked", "is_archived"]
    search_fields = ["phone_number", "first_name", "last_name", "display_name"]
    raw_id_fields = ["dashboard"]
    filter_horizontal = ["tags", "groups"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "color", "dashboard"]


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["name", "field_id", "dashboard"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "is_keyword", "member_count", "dashboard"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    list_display = ["contact", "kind", "source", "occurred_at"]
    raw_id_fields = ["contact"]

    def has_change_permission(self, request, obj=None):
        return False  # append-only record

    def has_delete_permission(self, request, obj=None):
        return False
