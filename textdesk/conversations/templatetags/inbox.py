"""Small display helpers of the inbox templates."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def since(moment: datetime | None) -> str:
    """A compact age for list rows: "now", "5m", "3h", "Mon", "Mar 3", "Mar 3, 2024"."""
    if moment is None:
        return ""
    now = timezone.now()
    age = now - moment
    if age < timedelta(minutes=1):
        return "now"
    if age < timedelta(hours=1):
        return f"{int(age.total_seconds() // 60)}m"
    if age < timedelta(hours=24):
        return f"{int(age.total_seconds() // 3600)}h"
    local = timezone.localtime(moment)
    if age < timedelta(days=6):
        return local.strftime("%a")
    if local.year == timezone.localtime(now).year:
        return f"{local:%b} {local.day}"
    return f"{local:%b} {local.day}, {local.year}"


@register.filter
def day_label(moment: datetime) -> str:
    """Heading of a day in the thread: "Today", "Yesterday", or the date."""
    local = timezone.localtime(moment).date()
    today = timezone.localtime(timezone.now()).date()
    if local == today:
        return "Today"
    if local == today - timedelta(days=1):
        return "Yesterday"
    if local.year == today.year:
        return f"{local:%A, %B} {local.day}"
    return f"{local:%A, %B} {local.day}, {local.year}"


@register.filter
def total_unread(lines) -> int:
    return sum(getattr(line, "unread", 0) or 0 for line in lines)
