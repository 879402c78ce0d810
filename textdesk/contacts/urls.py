from django.urls import path

from textdesk.contacts import import_views, label_views, views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("export/", views.contact_export, name="export"),
    path("new/", views.contact_new, name="new"),
    path("import/", import_views.import_upload, name="import"),
    path("import/<int:pk>/", import_views.import_map, name="import_map"),
    path("import/<int:pk>/preview/", import_views.import_preview, name="import_preview"),
    path("import/<int:pk>/start/", import_views.import_start, name="import_start"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
    path("groups/new/", views.group_new, name="group_new"),
    path("groups/<int:pk>/members/", views.group_members, name="group_members"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("groups/", views.group_list, name="groups"),
    path("groups/<int:pk>/", views.group_edit, name="group_edit"),
    path("groups/<int:pk>/delete/", views.group_delete, name="group_delete"),
    path("tags/", label_views.labels, name="labels"),
    path("tags/<int:line_pk>/new/", label_views.tag_new, name="tag_new"),
    path("tags/<int:line_pk>/<int:pk>/", label_views.tag_edit, name="tag_edit"),
    path("tags/<int:line_pk>/<int:pk>/delete/", label_views.tag_delete, name="tag_delete"),
    path("fields/<int:line_pk>/new/", label_views.field_new, name="field_new"),
    path("fields/<int:line_pk>/<int:pk>/", label_views.field_edit, name="field_edit"),
    path("fields/<int:line_pk>/<int:pk>/delete/", label_views.field_delete, name="field_delete"),
]
