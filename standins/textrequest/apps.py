from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "standins.textrequest"
    label = "sandbox"
    verbose_name = "Text Request sandbox"
