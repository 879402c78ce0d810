from django.urls import path

from textdesk.conversations import views
from textdesk.conversations.views import bulk, notifications, redaction, scheduling

app_name = "conversations"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.mark_read, name="notifications_read"),
    path("notifications/badge/", notifications.badge, name="notification_badge"),
    path("<int:line_pk>/", views.line_inbox, name="line"),
    path("<int:line_pk>/live/", views.live, name="live"),
    path("<int:line_pk>/people/", views.people, name="people"),
    path("<int:line_pk>/new/", views.new_conversation, name="new"),
    path("<int:line_pk>/scheduled/", scheduling.scheduled_list, name="scheduled"),
    path(
        "<int:line_pk>/scheduled/<int:pk>/edit/",
        scheduling.scheduled_edit,
        name="scheduled_edit",
    ),
    path(
        "<int:line_pk>/scheduled/<int:pk>/send/",
        scheduling.scheduled_send_now,
        name="scheduled_send_now",
    ),
    path(
        "<int:line_pk>/scheduled/<int:pk>/cancel/",
        scheduling.scheduled_cancel,
        name="scheduled_cancel",
    ),
    path("<int:line_pk>/bulk/", bulk.bulk_start, name="bulk"),
    path("<int:line_pk>/bulk/count/", bulk.bulk_count, name="bulk_count"),
    path("<int:line_pk>/bulk/<int:bulk_pk>/", bulk.bulk_progress, name="bulk_progress"),
    path("<int:line_pk>/bulk/<int:bulk_pk>/undo/", bulk.bulk_undo, name="bulk_undo"),
    path("<int:line_pk>/c/<int:pk>/", views.conversation_page, name="conversation"),
    path("<int:line_pk>/c/<int:pk>/earlier/", views.earlier_messages, name="earlier"),
    path("<int:line_pk>/c/<int:pk>/send/", views.send, name="send"),
    path("<int:line_pk>/c/<int:pk>/retry/<int:message_pk>/", views.retry, name="retry"),
    path("<int:line_pk>/c/<int:pk>/m/<int:message_pk>/redact/", redaction.redact, name="redact"),
    path(
        "<int:line_pk>/c/<int:pk>/m/<int:message_pk>/unredact/",
        redaction.unredact,
        name="unredact",
    ),
    path("<int:line_pk>/c/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("<int:line_pk>/c/<int:pk>/archive/", views.archive, name="archive"),
    path("<int:line_pk>/c/<int:pk>/assign/", views.assign, name="assign"),
    path("<int:line_pk>/c/<int:pk>/tags/", views.tags, name="tags"),
    path("<int:line_pk>/c/<int:pk>/contact/", views.edit_contact, name="contact"),
    path("<int:line_pk>/c/<int:pk>/draft/", views.save_draft, name="draft"),
    path("<int:line_pk>/c/<int:pk>/note/", views.note, name="note"),
    path(
        "<int:line_pk>/c/<int:pk>/changes/<int:change_pk>/<slug:action>/",
        views.change,
        name="change",
    ),
    path("<int:line_pk>/c/<int:pk>/payments/", views.request_payment, name="request_payment"),
    path(
        "<int:line_pk>/c/<int:pk>/payments/<int:payment_pk>/remind/",
        views.remind,
        name="remind",
    ),
    path(
        "<int:line_pk>/c/<int:pk>/payments/<int:payment_pk>/cancel/",
        views.cancel_payment,
        name="cancel_payment",
    ),
]
