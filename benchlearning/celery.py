"""The Celery app. With no broker configured, settings make every task run eagerly."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchlearning.settings")

app = Celery("benchlearning")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
