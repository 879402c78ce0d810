from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "textdesk.outbox"
    verbose_name = "Outbox"
