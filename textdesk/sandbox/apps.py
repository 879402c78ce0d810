from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "textdesk.sandbox"
    label = "sandbox"
    verbose_name = "Text Request sandbox"
