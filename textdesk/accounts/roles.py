"""The three roles, as auth groups holding real permissions (created by a migration)."""

AGENT = "Agent"
ADMIN = "Admin"
FINANCE = "Finance"

ROLE_PERMISSIONS = {
    AGENT: ["work_inbox", "view_conversations", "request_payments"],
    ADMIN: [
        "work_inbox",
        "view_conversations",
        "view_all_lines",
        "request_payments",
        "manage_payments",
        "manage_lines",
        "manage_staff",
        "manage_connections",
    ],
    FINANCE: ["view_conversations", "view_all_lines", "request_payments", "manage_payments"],
}


def sync_roles(group_model, permission_model) -> None:
    """Create or update the role groups; safe to run again."""
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        permissions = permission_model.objects.filter(
            content_type__app_label="accounts", codename__in=codenames
        )
        group.permissions.set(permissions)
