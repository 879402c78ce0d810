"""Small display helpers of the inbox templates.

The list and the thread repeat the same markup tens of times per page, so what a row or a
message shows is worked out once in Python (`dress_rows`, `dress_messages`) instead of through
filters, `{% url %}` and `{% with %}` in the loops: the template language costs microseconds
per tag, and a page holds thousands of them.
"""

from datetime import datetime, timedelta
from urllib.parse import unquote

from django import template
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_AP
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from textdesk.conversations.models import Attachment
from textdesk.conversations.services import MENTION
from textdesk.textrequest import mms

register = template.Library()


@register.filter
def since(moment: datetime | None, now: datetime | None = None) -> str:
    """A compact age for list rows: "now", "5m", "3h", "Mon", "Mar 3", "Mar 3, 2024"."""
    if moment is None:
        return ""
    now = now or timezone.now()
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


# The few date formats of the list and the thread, written out: the same text as Django's
# `date`/`time` filters (same translations), at a tenth of their cost.


def clock(local: datetime) -> str:
    """`local|time:"g:i A"`: "9:05 PM"."""
    hour = local.hour
    half = gettext("PM") if hour > 11 else gettext("AM")
    return f"{hour % 12 or 12}:{local.minute:02d} {half}"


def _ap_time(local: datetime) -> str:
    """Django's "P": "1 a.m.", "1:30 p.m.", "midnight", "noon"."""
    hour, minute = local.hour, local.minute
    if minute == 0 and hour == 0:
        return gettext("midnight")
    if minute == 0 and hour == 12:
        return gettext("noon")
    twelve = hour % 12 or 12
    short = f"{twelve}:{minute:02d}" if minute else str(twelve)
    return f"{short} {gettext('p.m.') if hour > 11 else gettext('a.m.')}"


def ap_stamp(local: datetime, *, year: bool = True) -> str:
    """`local|date:"N j, Y, P"` ("Nov. 27, 2026, 10:05 a.m."), or "N j, P" without the year."""
    day = f"{MONTHS_AP[local.month]} {local.day}"
    if year:
        return f"{day}, {local.year:04d}, {_ap_time(local)}"
    return f"{day}, {_ap_time(local)}"


def url_pattern(name: str, *args) -> str:
    """`reverse()` once for a whole list: the last argument, an id, becomes `{}`."""
    slot = 2_147_483_647
    return reverse(name, args=[*args, slot]).replace(str(slot), "{}")


LOCATION_TAGS = ("[LocationRequest]", "[Location Request]")


def readable_preview(preview: str) -> str:
    """A list preview a person reads: Text Request's location tag becomes a label."""
    for tag in LOCATION_TAGS:
        if tag in preview:
            rest = preview.replace(tag, "").strip()
            return f"📍 Location request{': ' + rest if rest else ''}"
    return preview


SLA_NAMES = {"first": "First reply", "next": "Reply", "resolution": "Resolution"}


def _span(seconds: float) -> str:
    minutes = max(1, int(seconds // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest} min" if rest and hours < 10 else f"{hours} h"
    return f"{hours // 24} d"


def sla_clock(due: datetime | None, target: str, now: datetime | None = None) -> dict | None:
    """A conversation's SLA clock in words ("Reply due in 12 min", "Reply overdue 5 min"):
    text first, so it never rests on colour alone."""
    if due is None:
        return None
    now = now or timezone.now()
    name = SLA_NAMES.get(target, "Reply")
    left = (due - now).total_seconds()
    if left > 0:
        return {"overdue": False, "text": f"{name} due in {_span(left)}"}
    return {"overdue": True, "text": f"{name} overdue {_span(-left)}"}


def dress_rows(rows, line, query: str = "") -> None:
    """What each row of the conversation list shows, as plain attributes."""
    pattern = url_pattern("conversations:conversation", line.pk)
    suffix = f"?{query}" if query else ""
    now = timezone.now()
    zone = timezone.get_current_timezone()
    for row in rows:
        row.href = pattern.format(row.pk) + suffix
        row.contact_name = row.contact.name
        at = row.last_message_at
        if at is not None:
            local = at.astimezone(zone)
            row.at_iso = local.isoformat()  # |date:"c"
            row.at_title = ap_stamp(local)
        else:
            row.at_iso = row.at_title = ""
        row.age = since(at, now)
        row.preview = readable_preview(row.last_message_preview)
        # A resolved or archived conversation is not waiting, whatever the column still holds.
        waiting = None if row.is_resolved or row.is_archived else row.waiting_since
        row.waiting_since = waiting
        if waiting is not None:
            row.waiting_title = ap_stamp(waiting.astimezone(zone), year=False)
            row.waiting_age = since(waiting, now)
        row.sla_clock = sla_clock(row.sla_due_at, row.sla_target, now)
        assignee = row.assigned_to
        if assignee is not None:
            row.assignee_name = assignee.display_name
            row.assignee_initial = row.assignee_name[:1].upper()


def media_item(url: str) -> dict:
    """How the thread shows one MMS URL: a picture (an image type, or a URL that names none,
    as received media often do) or a link named after the file."""
    name = unquote(url.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]) or "file"
    ext = mms.extension(name)
    is_image = ext in mms.IMAGE_EXTENSIONS or ext not in mms.TYPES
    return {"url": url, "name": name, "is_image": is_image}


def _files_not_uploaded(messages) -> dict[int, list[str]]:
    """Names of the files of outbound texts that have no MMS URLs yet (queued, sending, or
    stopped before they went out): one query, only when such texts are on the page."""
    waiting = [
        m.pk
        for m in messages
        if m.direction == "S" and not m.mms_media and m.status not in ("sent", "received")
    ]
    if not waiting:
        return {}
    names: dict[int, list[str]] = {}
    rows = Attachment.objects.filter(message_id__in=waiting).values_list("message_id", "name")
    for message_id, name in rows:
        names.setdefault(message_id, []).append(name)
    return names


def _dress_redaction(message, line, conversation) -> None:
    """ "Redacted by … at …", or the links to redact (a text Text Request has, or one that failed
    before it went out) and to unredact; the views check who may use them."""
    args = [line.pk, conversation.pk, message.pk]
    message.redact_url = message.unredact_url = message.redacted_note = ""
    if message.redacted_at is not None:
        who = message.redacted_by.display_name if message.redacted_by else "someone"
        when = timezone.localtime(message.redacted_at)
        message.redacted_note = f"Redacted by {who} at {clock(when)}, {when:%b} {when.day}"
        if message.message_id:
            message.unredact_url = reverse("conversations:unredact", args=args)
    elif message.message_id or message.status == "failed":
        message.redact_url = reverse("conversations:redact", args=args)


def dress_messages(messages, line, conversation) -> None:
    """What each text of the thread shows, as plain attributes (see the thread-entries partial).

    `message.local_at` must be set (the thread's day headings already need it)."""
    contact_name = conversation.contact.name
    waiting_files = _files_not_uploaded(messages)
    for message in messages:
        sent = message.direction == "S"
        message.media = [media_item(url) for url in message.mms_media or ()]
        message.files_waiting = waiting_files.get(message.pk, ())
        message.css = f"msg {'msg-out' if sent else 'msg-in'} msg-{message.status}"
        if sent and message.is_automatic:
            message.who = "Away reply (automatic) sent"
        elif sent:
            message.who = f"{message.sender_name or 'Your team'} sent"
        else:
            message.who = f"{contact_name} wrote"
        message.body_html = linebreaksbr(message.body, autoescape=True) if message.body else ""
        _dress_redaction(message, line, conversation)
        message.at_iso = message.local_at.isoformat()
        message.at_clock = clock(message.local_at)
        if not sent:
            message.state = ""
        elif message.status == "failed":
            message.state = "failed"
            message.retry_url = reverse(
                "conversations:retry", args=[line.pk, conversation.pk, message.pk]
            )
        elif message.status == "pending" and message.waiting_note:
            message.state = "waiting"  # quiet hours in the customer's clock (quiet.py)
        elif message.status in ("pending", "sending"):
            message.state = "sending"
        elif message.status == "unknown" and message.is_unconfirmed:
            message.state = "unconfirmed"
            message.retry_url = reverse(
                "conversations:retry", args=[line.pk, conversation.pk, message.pk]
            )
        elif message.status == "unknown":
            message.state = "unknown"
        elif message.delivery_status in ("delivered", "error", "unclaimed"):
            message.state = message.delivery_status
        elif message.delivery_status not in ("", "sending", "send"):
            message.state = "other"  # a status textdesk has no word for: shown as it came
        else:
            message.state = "sent"


@register.filter
def note_html(note, reader) -> SafeString:
    """A note's text, escaped, with its line breaks, and each ``@mention`` of a colleague the
    note mentions (``note.mentions``, prefetched) marked; the reader's own is marked as theirs.
    Any other ``@word`` stays plain text, and nothing of the body is ever read as HTML."""
    body = note.body.replace("\r\n", "\n")
    named = {person.username.lower(): person for person in note.mentions.all()}
    parts, done = [], 0
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(".")  # as services.add_note reads it
        person = named.get(name.lower())
        if person is None:
            continue
        parts.append(escape(body[done : match.start()]))
        if person.pk == getattr(reader, "pk", None):
            parts.append(
                format_html(
                    '<mark class="mention is-you">@{}<span class="visually-hidden"> (you)'
                    "</span></mark>",
                    name,
                )
            )
        else:
            parts.append(format_html('<mark class="mention">@{}</mark>', name))
        done = match.start() + 1 + len(name)
    parts.append(escape(body[done:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308 - every part is escaped
