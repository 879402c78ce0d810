from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "textdesk.dashboards"

    def ready(self):
        from textdesk.dashboards import handlers

        handlers.register()
