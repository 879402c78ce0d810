from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "textdesk.cases"
    label = "cases"
    verbose_name = "Service-desk cases (ASMS)"

    def ready(self):
        from textdesk.cases.delivery import sweep_cases
        from textdesk.outbox import registry

        # Beat's outbox sweeper (every 15 s) also re-enqueues lost case rows, turns those
        # whose worker died into unknown ones and settles them.
        registry.register_sweeper("cases", sweep_cases)
