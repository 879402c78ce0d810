from django.urls import path

from textdesk.dashboards import connection_views, views

app_name = "dashboards"
urlpatterns = [
    path("", views.line_list, name="list"),
    path("new/", views.line_new, name="new"),
    path("<int:pk>/", views.line_detail, name="line"),
    path("<int:pk>/delete/", views.line_delete, name="line_delete"),
    path("<int:pk>/agents/", views.line_agents, name="agents"),
    path("<int:pk>/rename/", views.line_rename, name="rename"),
    path("<int:pk>/assignment/", views.line_assignment, name="assignment"),
    path("<int:pk>/sla/", views.line_sla, name="sla"),
    path("<int:pk>/texting/", views.line_texting, name="texting"),
    path("first-sync/", views.first_sync, name="first_sync"),
]

urlpatterns += [
    path("connections/", connection_views.connection_list, name="connections"),
    path("connections/new/", connection_views.connection_new, name="connection_new"),
    path("connections/<int:pk>/", connection_views.connection_detail, name="connection"),
    path(
        "connections/<int:pk>/progress/",
        connection_views.connection_progress,
        name="connection_progress",
    ),
    path(
        "connections/<int:pk>/webhooks/",
        connection_views.connection_webhooks,
        name="connection_webhooks",
    ),
    path(
        "connections/<int:pk>/webhooks/register/",
        connection_views.connection_register,
        name="connection_register",
    ),
    path("connections/<int:pk>/key/", connection_views.connection_key, name="connection_key"),
    path(
        "connections/<int:pk>/signatures/reset/",
        connection_views.connection_signatures_reset,
        name="connection_signatures_reset",
    ),
    path("connections/<int:pk>/limit/", connection_views.connection_limit, name="connection_limit"),
    path(
        "connections/<int:pk>/disconnect/",
        connection_views.connection_disconnect,
        name="connection_disconnect",
    ),
]
