from django.urls import path

from textdesk.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/disconnect/", views.disconnect, name="disconnect"),
    path("settings/lines/<int:line_pk>/", views.line_defaults, name="line_defaults"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/notes/", views.case_note, name="note"),
    path("<int:pk>/reply/", views.case_reply, name="reply"),
    path("<int:pk>/refresh/", views.case_refresh, name="refresh"),
    path("<int:pk>/transcript/", views.case_transcript, name="transcript"),
    path("<int:pk>/create-again/", views.case_create_again, name="create_again"),
    path("conversation/<int:conversation_pk>/", views.case_panel, name="panel"),
    path("conversation/<int:conversation_pk>/new/", views.case_new, name="new"),
    path("conversation/<int:conversation_pk>/link/", views.case_link, name="link"),
]
