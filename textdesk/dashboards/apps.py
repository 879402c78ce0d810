from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "textdesk.dashboards"

    def ready(self) -> None:
        from textdesk.dashboards.handlers import HANDLERS
        from textdesk.dashboards.outbox import HANDLERS as REGISTRY

        REGISTRY.update(HANDLERS)
