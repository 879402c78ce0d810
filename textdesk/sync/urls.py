from django.urls import path

from textdesk.sync import views

app_name = "sync"
urlpatterns = [
    path("", views.status, name="status"),
    path("<int:pk>/now/", views.sync_now, name="now"),
    path("events/<int:pk>/<slug:action>/", views.dead_event, name="dead_event"),
]
