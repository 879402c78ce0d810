from django.urls import path

from textdesk.payments import views

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="list"),
    path("summary/", views.payment_summary, name="summary"),
    path("charts/", views.payment_charts, name="charts"),
    path("export.csv", views.payment_export, name="export"),
    path("follow-up/", views.follow_up, name="follow_up"),
    path("new/", views.payment_new, name="new"),
    path("<int:pk>/", views.payment_detail, name="detail"),
    path("<int:pk>/<slug:action>/", views.payment_action, name="action"),
]
