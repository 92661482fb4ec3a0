"""The Celery app without a broker: tasks run in process, quietly."""

from __future__ import annotations

import logging

from celery import Celery

from benchlearning.celery import _eager_transport


def test_without_a_broker_an_eager_task_takes_the_in_memory_transport_without_a_warning(caplog, monkeypatch):
    # Celery reads the broker from this variable too, which CI sets.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    app = Celery("without-broker", set_as_current=False)
    app.conf.update(task_always_eager=True, broker_url=None)
    _eager_transport(sender=app)
    assert app.conf.broker_url == "memory://localhost//"

    @app.task
    def add(a: int, b: int) -> int:
        return a + b

    with caplog.at_level(logging.WARNING):
        assert add.delay(2, 3).get() == 5
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_a_configured_broker_is_left_alone():
    app = Celery("with-broker", set_as_current=False)
    app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:6379/0")
    _eager_transport(sender=app)
    assert app.conf.broker_url == "redis://127.0.0.1:6379/0"
