from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "textdesk.webhooks"
    verbose_name = "Webhooks"
