from django.urls import path

from textdesk.payments import views

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="list"),
    path("new/", views.payment_new, name="new"),
    path("<int:pk>/", views.payment_detail, name="detail"),
    path("<int:pk>/<slug:action>/", views.payment_action, name="action"),
]
