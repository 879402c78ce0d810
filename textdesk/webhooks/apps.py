from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "textdesk.webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from textdesk.conversations.signals import message_redacted
        from textdesk.webhooks.services import scrub_events

        message_redacted.connect(scrub_events, dispatch_uid="webhooks.scrub_events")
