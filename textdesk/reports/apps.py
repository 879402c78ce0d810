from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "textdesk.reports"

    def ready(self) -> None:
        from textdesk.conversations import scheduled
        from textdesk.reports.models import BusinessHours

        def zone_of(dashboard_pk: int) -> str | None:
            # The zone business hours are kept in is the line's time zone, also for texts
            # scheduled on it.
            return (
                BusinessHours.objects.filter(dashboard_id=dashboard_pk)
                .values_list("time_zone", flat=True)
                .first()
            )

        scheduled.register_zone(zone_of)
