from django.contrib import admin

from textdesk.conversations.models import Conversation, Draft, Message


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["contact", "dashboard", "last_message_at", "is_archived", "is_resolved"]
    list_filter = ["dashboard", "is_archived", "is_resolved"]
    raw_id_fields = ["contact", "assigned_to"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["message_id", "direction", "status", "delivery_status", "sent_at"]
    list_filter = ["direction", "status"]
    search_fields = ["message_id", "body"]
    raw_id_fields = ["conversation", "sent_by"]


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    list_display = ["user", "conversation", "updated_at"]
    raw_id_fields = ["conversation"]
