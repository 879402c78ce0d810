from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "textdesk.cases"
    label = "cases"
    verbose_name = "Service-desk cases (ASMS)"
