from django.urls import path

from textdesk.webhooks.views import (
    receive_event,
    receive_location,
    receive_message,
    receive_status,
)

app_name = "hooks"
urlpatterns = [
    path("<str:token>/messages", receive_message, name="messages"),
    path("<str:token>/lines/<int:dashboard_id>/<str:event>", receive_event, name="event"),
    path("<str:token>/status/<int:message_pk>", receive_status, name="status"),
    path("<str:token>/location/<int:message_pk>", receive_location, name="location"),
]
