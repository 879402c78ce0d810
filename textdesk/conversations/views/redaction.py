"""Redact one text of a thread (a card number, a password), and undo it (Admins).

An agent of the line or an Admin redacts after a confirmation page that shows what goes;
textdesk blanks its copy at once and Text Request hides it through the outbox. Another line's
text, or a text of another conversation, is a 404; a text that cannot be redacted (already
redacted, still on its way) is a 400 with the reason."""

from __future__ import annotations

from django.contrib import messages as flash
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from textdesk.accounts.decorators import permission_required
from textdesk.conversations import services
from textdesk.conversations.models import Message
from textdesk.conversations.views.rendering import (
    conversation_or_404,
    conversation_url,
    line_or_404,
)


def _load(request, line_pk, pk, message_pk):
    line = line_or_404(request.user, line_pk)
    conversation = conversation_or_404(request.user, line, pk)
    message = get_object_or_404(
        Message.objects.select_related("redacted_by"), conversation=conversation, pk=message_pk
    )
    message.conversation = conversation
    return line, conversation, message


def _page(request, line, conversation, message, *, error: str = "", status: int = 200):
    context = {
        "line": line,
        "conversation": conversation,
        "message": message,
        "error": error,
        "back": conversation_url(line, conversation),
    }
    return render(request, "conversations/message_redact.html", context, status=status)


@permission_required("work_inbox")
@require_http_methods(["GET", "POST"])
def redact(request, line_pk, pk, message_pk):
    line, conversation, message = _load(request, line_pk, pk, message_pk)
    if request.method == "GET":
        return _page(request, line, conversation, message)
    try:
        services.redact_message(message=message, user=request.user)
    except services.CannotText as exc:
        return _page(request, line, conversation, message, error=exc.reason, status=400)
    flash.success(request, "Text redacted. Text Request is hiding it too.")
    return redirect(f"{conversation_url(line, conversation)}#m-{message.pk}")


@require_POST
@permission_required("manage_lines")
def unredact(request, line_pk, pk, message_pk):
    line, conversation, message = _load(request, line_pk, pk, message_pk)
    try:
        services.unredact_message(message=message, user=request.user)
    except services.CannotText as exc:
        return _page(request, line, conversation, message, error=exc.reason, status=400)
    flash.success(request, "Unredacting: the text shows again once Text Request has it back.")
    return redirect(f"{conversation_url(line, conversation)}#m-{message.pk}")
