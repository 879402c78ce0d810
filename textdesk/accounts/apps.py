from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_migrate


def ensure_roles(sender, **kwargs):
    """Keep the role groups complete after every migrate (and after test flushes)."""
    from django.contrib.auth.models import Group, Permission

    from textdesk.accounts.roles import sync_roles

    sync_roles(Group, Permission)


def _signed_in(sender, request, user, **kwargs):
    from textdesk.accounts import services

    if request is not None and hasattr(request, "session"):
        services.track_session(request, user)


def _signed_out(sender, request, user, **kwargs):
    from textdesk.accounts import services

    if request is not None:
        services.forget_session(request)


class AccountsConfig(AppConfig):
    name = "textdesk.accounts"

    def ready(self):
        # After auth's own handler has created the permissions (this app comes later).
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="textdesk.ensure_roles")
        user_logged_in.connect(_signed_in, dispatch_uid="textdesk.track_session")
        user_logged_out.connect(_signed_out, dispatch_uid="textdesk.forget_session")
