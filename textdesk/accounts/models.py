from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# The most unresolved conversations anyone can be set to hold (a line's or a person's capacity).
MAX_CAPACITY = 500


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

    class Theme(models.TextChoices):
        SYSTEM = "system", "System: as your device is set"
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"

    theme = models.CharField(max_length=6, choices=Theme.choices, default=Theme.SYSTEM)
    # Available / Away (the top bar): only available agents receive conversations automatically
    # (textdesk/conversations/routing.py). Away by default, so nobody is sent work before they
    # say they are there.
    is_available = models.BooleanField(default=False)
    availability_changed_at = models.DateTimeField(null=True, blank=True)
    # Round-robin's turn: who was given a conversation automatically longest ago goes next.
    last_assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    assignment_capacity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY)],
        verbose_name="Capacity",
        help_text="Most unresolved conversations automatic assignment gives this person; "
        "empty: each line's own capacity.",
    )

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


class SecurityPolicy(models.Model):
    """The one row of sign-in rules an Admin sets in the Admin workspace (``current()``)."""

    class TwoFactor(models.TextChoices):
        OFF = "off", "Optional for everyone"
        ADMINS = "admins", "Required for Admins"
        EVERYONE = "everyone", "Required for everyone"

    two_factor = models.CharField(max_length=10, choices=TwoFactor.choices, default=TwoFactor.OFF)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "security policy"

    def __str__(self) -> str:
        return self.get_two_factor_display()

    @classmethod
    def current(cls) -> "SecurityPolicy":
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy

    def requires_two_factor(self, user: User) -> bool:
        if self.two_factor == self.TwoFactor.EVERYONE:
            return True
        if self.two_factor == self.TwoFactor.ADMINS:
            return user.is_superuser or user.groups.filter(name="Admin").exists()
        return False


class SignedInSession(models.Model):
    """A browser a person is signed in on, for Preferences' list and for ending it.

    Django's session store cannot list one person's sessions (the cache backend cannot even
    search). The row is found by a hash of the session key (the current browser's own row);
    the key itself is kept encrypted only so that "Sign out" can delete that session from
    whichever store holds it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    key_hash = models.CharField(max_length=64, unique=True)
    encrypted_key = models.TextField()
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="session_user_seen")]

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"
