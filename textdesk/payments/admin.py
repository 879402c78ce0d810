from django.contrib import admin

from textdesk.payments.models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["payment_id", "customer_phone", "amount_requested", "status", "requested_at"]
    list_filter = ["dashboard", "status", "textrequest_payment_status"]
    search_fields = ["customer_phone", "reference_number"]
    raw_id_fields = ["contact", "created_by"]
