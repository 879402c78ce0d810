from django.urls import path

from textdesk.webhooks.views import receive_message, receive_status

app_name = "hooks"
urlpatterns = [
    path("<str:token>/messages", receive_message, name="messages"),
    path("<str:token>/status/<int:message_pk>", receive_status, name="status"),
]
