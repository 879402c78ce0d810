"""The Celery app. Two queues: `interactive` (agents' actions, prefetch 1) and `sync`."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "textdesk.settings")

app = Celery("textdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
