from django.apps import AppConfig


class AsmsSandboxConfig(AppConfig):
    name = "standins.asms"
    label = "asms_sandbox"
    verbose_name = "ASMS sandbox"
