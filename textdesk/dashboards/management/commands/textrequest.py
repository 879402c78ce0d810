"""``manage.py textrequest connect|rotate-keys``: Text Request connections."""

from django.core.management.base import BaseCommand, CommandError

from textdesk.dashboards import services
from textdesk.textrequest import errors


class Command(BaseCommand):
    help = "Connect a Text Request account, or re-encrypt stored API keys with the newest key."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        connect = sub.add_parser(
            "connect", help="Add an account, read its lines and register the webhooks."
        )
        connect.add_argument("--name", required=True)
        connect.add_argument("--api-url", required=True)
        connect.add_argument("--api-key", required=True)
        connect.add_argument(
            "--if-missing",
            action="store_true",
            help="Reuse a connection with this name and URL instead of adding another.",
        )
        sub.add_parser(
            "rotate-keys", help="Re-encrypt every API key with the first FIELD_ENCRYPTION_KEY."
        )

    def handle(self, *args, action, **options):
        if action == "rotate-keys":
            count = services.rotate_keys()
            self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} API key(s)."))
            return
        try:
            connection = services.connect(
                name=options["name"],
                api_url=options["api_url"],
                api_key=options["api_key"],
                if_missing=options["if_missing"],
            )
        except errors.TextRequestError as exc:
            raise CommandError(f"Text Request refused: {exc}") from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        lines = connection.dashboards.active().count()
        self.stdout.write(
            self.style.SUCCESS(
                f"Connected {connection.name} ({connection.masked_api_key}): {lines} line(s), "
                "webhooks registered; the first sync is queued for the workers."
            )
        )
