from django.urls import path

from textdesk.contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
    path("export/", views.contact_export, name="export"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("groups/", views.group_list, name="groups"),
    path("groups/<int:pk>/", views.group_edit, name="group_edit"),
    path("groups/<int:pk>/delete/", views.group_delete, name="group_delete"),
]
