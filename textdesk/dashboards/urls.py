from django.urls import path

from textdesk.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.line_list, name="list"),
    path("new/", views.line_new, name="new"),
    path("<int:pk>/agents/", views.line_agents, name="agents"),
    path("<int:pk>/rename/", views.line_rename, name="rename"),
]
