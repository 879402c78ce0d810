from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "textdesk.conversations"

    def ready(self):
        from textdesk.conversations import handlers, routing

        handlers.register()
        routing.connect()
