from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "textdesk.contacts"

    def ready(self):
        from textdesk.contacts import handlers

        handlers.register()
