from django.urls import path

from textdesk.contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list, name="list"),
]
