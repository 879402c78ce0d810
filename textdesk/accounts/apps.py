from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_roles(sender, **kwargs):
    """Keep the role groups complete after every migrate (and after test flushes)."""
    from django.contrib.auth.models import Group, Permission

    from textdesk.accounts.roles import sync_roles

    sync_roles(Group, Permission)


class AccountsConfig(AppConfig):
    name = "textdesk.accounts"

    def ready(self):
        # After auth's own handler has created the permissions (this app comes later).
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="textdesk.ensure_roles")
