from django.db.models import Q
from django.shortcuts import render

from textdesk.accounts import access
from textdesk.accounts.decorators import permission_required

PAGE_SIZE = 50


@permission_required("view_conversations")
def contact_list(request):
    lines = access.lines_for(request.user)
    contacts = (
        access.contacts_for(request.user).select_related("dashboard").prefetch_related("tags")
    )
    query = request.GET.get("q", "").strip()
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        match = (
            Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
            | Q(display_name__icontains=query)
        )
        if digits:
            match |= Q(phone_number__contains=digits)
        contacts = contacts.filter(match)
    line_id = request.GET.get("line", "")
    if line_id.isdigit():
        contacts = contacts.filter(dashboard_id=int(line_id))
    after = request.GET.get("after", "")
    if after.isdigit():
        contacts = contacts.filter(id__gt=int(after))
    page = list(contacts.order_by("id")[: PAGE_SIZE + 1])
    has_more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    context = {
        "contacts": page,
        "lines": lines,
        "query": query,
        "line_id": line_id,
        "next_after": page[-1].id if has_more else None,
    }
    return render(request, "contacts/contact_list.html", context)
