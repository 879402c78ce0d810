from django.urls import path

from textdesk.conversations import replies

app_name = "replies"
urlpatterns = [
    path("", replies.reply_list, name="list"),
    path("new/", replies.reply_new, name="new"),
    path("preview/", replies.reply_preview, name="preview"),
    path("<int:pk>/", replies.reply_edit, name="edit"),
    path("<int:pk>/delete/", replies.reply_delete, name="delete"),
]
