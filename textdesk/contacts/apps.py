from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "textdesk.contacts"

    def ready(self) -> None:
        # The outbox's registry of writes: this domain's newer kinds (see contacts/handlers.py).
        from textdesk.contacts.handlers import HANDLERS
        from textdesk.dashboards.outbox import HANDLERS as REGISTRY

        REGISTRY.update(HANDLERS)
