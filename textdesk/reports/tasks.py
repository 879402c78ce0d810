from celery import shared_task

from textdesk.reports import rollups


@shared_task(acks_late=True)
def refresh_reports() -> dict | None:
    """Beat's incremental step: safe to run twice (a second run finds the state locked or
    nothing new); when a backlog is left it goes on at once."""
    done = rollups.refresh()
    if done and done["more"]:
        refresh_reports.delay()
    return done


@shared_task(acks_late=True)
def apply_business_hours(dashboard_id: int) -> int:
    """Recount a line's response and resolution times after its business hours changed."""
    return rollups.apply_hours(dashboard_id)
