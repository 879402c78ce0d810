"""The one permission gate: every view, partial and task starts its querysets here.

Agents see the lines assigned to them; Admin and Finance see every line. A line (or anything on
it) outside what a user may see is a 404, never a 403, so ids of other lines leak nothing.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from textdesk.dashboards.models import Dashboard


def lines_for(user):
    lines = Dashboard.objects.active().select_related("connection")
    if user.has_perm("accounts.view_all_lines"):
        return lines
    return lines.filter(agents=user)


def line_or_404(user, pk) -> Dashboard:
    return get_object_or_404(lines_for(user), pk=pk)


def conversations_for(user):
    from textdesk.conversations.models import Conversation

    return Conversation.objects.filter(dashboard__in=lines_for(user))


def contacts_for(user):
    from textdesk.contacts.models import Contact

    return Contact.objects.filter(dashboard__in=lines_for(user), removed_at__isnull=True)


def payments_for(user):
    from textdesk.payments.models import Payment

    return Payment.objects.filter(dashboard__in=lines_for(user))


def require(user, permission: str) -> None:
    if not user.has_perm(f"accounts.{permission}"):
        raise PermissionDenied
