from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "textdesk.sync"
    verbose_name = "Sync"

    def ready(self) -> None:
        from textdesk.dashboards.signals import connection_added
        from textdesk.sync.tasks import start_first_sync

        connection_added.connect(start_first_sync, dispatch_uid="sync-first-sync")
