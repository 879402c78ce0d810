from django.urls import path

from textdesk.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.line_list, name="list"),
    path("new/", views.line_new, name="new"),
    path("<int:pk>/agents/", views.line_agents, name="agents"),
    path("<int:pk>/rename/", views.line_rename, name="rename"),
    path("sync/", views.sync_status, name="sync_status"),
    path("sync/<int:pk>/now/", views.sync_now, name="sync_now"),
]
urlpatterns += [
    path("replies/", views.reply_list, name="replies"),
    path("replies/new/", views.reply_new, name="reply_new"),
    path("replies/preview/", views.reply_preview, name="reply_preview"),
    path("replies/<int:pk>/", views.reply_edit, name="reply_edit"),
    path("replies/<int:pk>/delete/", views.reply_delete, name="reply_delete"),
]
