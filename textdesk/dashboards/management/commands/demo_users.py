from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from textdesk.accounts.models import User
from textdesk.accounts.roles import ADMIN, AGENT, FINANCE
from textdesk.dashboards.models import Dashboard

DEMO_USERS = [
    # username, password, first name, last name, role
    ("admin", "textdesk-admin", "Avery", "Admin", ADMIN),
    ("agent", "textdesk-agent", "Sam", "Agent", AGENT),
    ("finance", "textdesk-finance", "Fran", "Finance", FINANCE),
]


class Command(BaseCommand):
    help = "Create one demo user per role (idempotent) and print their sign-in details."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            # Their passwords are printed here and in the README: never on a real deployment.
            raise CommandError("Demo users are for development only (DEBUG=1).")
        for username, password, first, last, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last}
            )
            if created:
                user.set_password(password)
                user.save()
            user.groups.add(Group.objects.get(name=role))
            if role == AGENT and not user.dashboards.exists():
                # The demo agent works the first two lines, so the third shows access limits.
                user.dashboards.set(Dashboard.objects.active().order_by("id")[:2])
        self.stdout.write("Demo users (username / password):")
        for username, password, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {role:<8} {username:<8} / {password}")
