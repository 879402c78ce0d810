from celery import shared_task

from textdesk.audit import services


@shared_task
def prune_entries() -> int:
    """Beat, daily: drop audit entries past the retention period (idempotent)."""
    return services.prune()
