from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "textdesk.conversations"
