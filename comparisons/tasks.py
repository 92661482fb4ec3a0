"""Celery tasks: thin wrappers that take ids, call a service and own the retries.

With no broker configured (`CELERY_TASK_ALWAYS_EAGER`), the same tasks run in process.
Acks late + reject on worker lost (settings): a worker killed mid-run has its task redelivered;
the run's old results are untouched until its final transaction, and the redelivered task takes
the run over.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from .models import RecomputeRun
from .runs import ScopeBusy, recompute_request, recompute_run_execute, recompute_scopes, run_enqueue

logger = logging.getLogger(__name__)

# A run waiting for another run of its scope asks again after this many seconds.
BUSY_COUNTDOWN = 2


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def recompute_run_task(self, run_id: int) -> dict | None:
    """Compute the requested run `run_id` (waits while another run of its scope computes)."""
    try:
        run = recompute_run_execute(run_id=run_id)
    except ScopeBusy as exc:
        if self.request.is_eager:
            # In process there is no one to wait for: the run stays pending, and the next
            # request of the scope or the nightly sweep sends it again.
            logger.warning("recompute run %s left pending: %s", run_id, exc)
            return None
        raise self.retry(exc=exc, countdown=BUSY_COUNTDOWN) from exc
    except OperationalError as exc:  # the database went away: try again, a few times
        if self.request.retries >= 5:
            raise
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries + 1)) from exc
    if run is None:
        return None
    return {"run": run.pk, "status": run.status, "rows": run.rows_written}


@shared_task(acks_late=True)
def recompute_all_task() -> int:
    """Nightly (beat): request a full recompute of every network/period; returns the count."""
    count = 0
    for network, period in recompute_scopes():
        recompute_request(network=network, period=period, reason="nightly")
        count += 1
    logger.info("nightly recompute requested for %d scope(s)", count)
    return count


# A pending run older than this was probably requested while the broker was down.
PENDING_RESEND_AFTER_SECONDS = 120


@shared_task(acks_late=True)
def pending_runs_resend_task() -> int:
    """Every few minutes (beat): send again the runs still pending since the broker was down.

    A request made while the broker was unreachable is recorded as a pending run; this sweep is
    what makes it run soon after the broker is back, not at the nightly recompute.
    """
    cutoff = timezone.now() - datetime.timedelta(seconds=PENDING_RESEND_AFTER_SECONDS)
    stale = list(
        RecomputeRun.objects.filter(status=RecomputeRun.Status.PENDING, requested_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    for run_id in stale:
        run_enqueue(run_id=run_id)
    if stale:
        logger.info("re-sent %d pending recompute run(s)", len(stale))
    return len(stale)
