from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A member of staff. Roles are groups (Agent, Admin, Finance) holding the permissions below."""

    dashboards = models.ManyToManyField(
        "dashboards.Dashboard",
        blank=True,
        related_name="agents",
        help_text="Phone lines this person may work. Admins and Finance see every line.",
    )
    shortcuts_enabled = models.BooleanField(
        default=True, help_text="Single-key keyboard shortcuts in the inbox (WCAG 2.1.4)."
    )
    # When a text arrives on one of their lines while the inbox tab is hidden (the title count
    # always shows it).
    notify_sound = models.BooleanField(default=False)
    notify_desktop = models.BooleanField(default=False)

    class Meta:
        permissions = [
            ("work_inbox", "Can reply, tag, archive and resolve in the inbox"),
            ("view_conversations", "Can read conversations"),
            ("view_all_lines", "Can see every phone line without being assigned"),
            ("request_payments", "Can request payments and send reminders in their lines"),
            ("manage_payments", "Can track, remind, cancel and mark payments paid on every line"),
            ("manage_lines", "Can manage phone lines, groups, contacts and saved replies"),
            ("manage_staff", "Can manage staff, roles and who works which line"),
            ("manage_connections", "Can manage Text Request connections and see sync status"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def has_all_lines(self) -> bool:
        """From prefetched groups, so staff lists do not query per person."""
        return self.is_superuser or any(g.name in {"Admin", "Finance"} for g in self.groups.all())

    @property
    def role_names(self) -> list[str]:
        return sorted(group.name for group in self.groups.all())
