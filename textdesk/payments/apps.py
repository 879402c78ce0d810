from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "textdesk.payments"

    def ready(self):
        from textdesk.payments import handlers

        handlers.register()
