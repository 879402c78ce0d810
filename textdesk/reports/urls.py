from django.urls import path

from textdesk.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report, name="show"),
    path("export.csv", views.export, name="export"),
    path("hours/", views.hours_list, name="hours"),
    path("hours/<int:pk>/", views.hours_edit, name="hours_edit"),
]
