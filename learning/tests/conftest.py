from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Unit tests run tasks in process even where CI configures a broker; the integration
    tests (marked `integration`) talk to the real broker and worker."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    from benchlearning.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
