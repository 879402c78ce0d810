from django import template

register = template.Library()


def duration(seconds) -> str:
    """A span for people: 45s, 12m, 3h 05m, 2d 4h; an em dash when there is none."""
    if seconds is None:
        return "—"
    seconds = int(round(float(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


register.filter("duration", duration)


@register.filter
def dash(value):
    """None (a figure that does not apply) as an em dash."""
    return "—" if value is None else value
