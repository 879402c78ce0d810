from celery import shared_task

from textdesk.reports import metrics, rollups


@shared_task(acks_late=True)
def refresh_reports() -> dict | None:
    """Beat's incremental step: safe to run twice (a second run finds the state locked or
    nothing new); when a backlog is left it goes on at once. Once caught up, it sums the
    histograms of the first views (a refresh makes the cached ones stale), so nobody waits."""
    done = rollups.refresh()
    if done and done["more"]:
        refresh_reports.delay()
    elif done:
        metrics.warm_spans()
    return done


@shared_task(acks_late=True)
def apply_business_hours(dashboard_id: int) -> int:
    """Recount a line's response and resolution times after its business hours changed."""
    return rollups.apply_hours(dashboard_id)
