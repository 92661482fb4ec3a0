"""The Celery app. With no broker configured, settings make every task run eagerly."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchlearning.settings")

app = Celery("benchlearning")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _eager_transport(sender: Celery, **_kwargs) -> None:
    """Without a broker, the in-memory transport: an eager task still takes a producer (Celery
    serialises its arguments as a send would), which for an empty broker URL is AMQP's on a
    default host, with a warning per task. The memory transport connects nowhere."""
    if sender.conf.task_always_eager and not sender.conf.broker_url:
        sender.conf.broker_url = "memory://localhost//"
