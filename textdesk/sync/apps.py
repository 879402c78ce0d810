from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "textdesk.sync"
    verbose_name = "Sync"
