from django.utils.functional import SimpleLazyObject

from textdesk.conversations.sla_alerts import unread_count


def notifications(request):
    """The top bar's count of unread notifications (read only when a page draws it)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
