from django.core.management.base import BaseCommand

from textdesk.search import index


class Command(BaseCommand):
    help = "Rebuild the full-text search index from messages, notes and contacts."

    def handle(self, *args, **options):
        self.stdout.write(index.rebuild())
