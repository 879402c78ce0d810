from django.urls import reverse


def navigation(request):
    """The main navigation, limited to what the user's role may open."""
    base = {"csp_nonce": getattr(request, "csp_nonce", None)}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return base
    items = []
    if user.has_perm("accounts.view_conversations"):
        items.append(("Inbox", reverse("conversations:inbox"), "conversations"))
    if user.has_perm("accounts.view_conversations"):
        items.append(("Contacts", reverse("contacts:list"), "contacts"))
    if user.has_perm("accounts.request_payments"):
        items.append(("Payments", reverse("payments:list"), "payments"))
    if user.has_perm("accounts.work_inbox"):
        items.append(("Cases", reverse("cases:list"), "cases"))
    if user.has_perm("accounts.manage_staff") or user.has_perm("accounts.manage_lines"):
        items.append(("Admin", reverse("accounts:staff"), "admin"))
    section = request.resolver_match.app_name if request.resolver_match else ""
    url_name = request.resolver_match.url_name if request.resolver_match else ""
    if section in {"accounts", "dashboards"} and url_name != "preferences":
        section = "admin"
    if section == "cases" and url_name in {"settings", "line_defaults"}:
        section = "admin"
    if section == "contacts" and url_name.startswith("group"):
        section = "admin"
    return {**base, "nav_items": items, "nav_section": section}
