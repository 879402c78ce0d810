import time

from django.core.management.base import BaseCommand

from textdesk.reports import rollups


class Command(BaseCommand):
    help = "Recompute every report rollup from the raw messages, resolves and hours."

    def handle(self, *args, **options):
        started = time.perf_counter()
        done = rollups.rebuild()
        self.stdout.write(
            f"Rebuilt the reports of {done['conversations']:,} conversations in "
            f"{time.perf_counter() - started:.1f}s: {done['line_days']:,} line-days, "
            f"{done['replies']:,} replies, {done['resolutions']:,} resolutions."
        )
