from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "textdesk.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from textdesk.search import index

        # A later migration that rebuilds a table on SQLite (add a column, change a field)
        # drops its triggers with the old table: put them back after every migrate.
        post_migrate.connect(index.repair_after_migrate, sender=self)
