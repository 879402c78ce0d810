from django.urls import path

from textdesk.sync import views

app_name = "sync"
urlpatterns = [
    path("", views.status, name="status"),
    path("<int:pk>/now/", views.sync_now, name="now"),
]
