from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "textdesk.audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from textdesk.audit import signals

        signals.connect()
