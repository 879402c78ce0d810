from django.apps import AppConfig


class AsmsSandboxConfig(AppConfig):
    name = "textdesk.asms_sandbox"
    label = "asms_sandbox"
    verbose_name = "ASMS sandbox"
