"""Runs of a recompute: requests coalesced per scope, the scope lock, execution and progress.

What it is: the bookkeeping around `services.results_recompute`. A request for a network/period
joins the scope's waiting `RecomputeRun` or creates one, which the transaction sends to the
workers when it commits, with the other runs it asked for, once each and in period order
(`recompute_request`, `run_enqueue`; without a broker computed in process as `recompute --sync`
computes); a worker takes the scope's lock row and computes (`recompute_run_execute`),
writing progress and a heartbeat as it goes; a run found holding a stale lock was a dead worker's
and is taken over. Wide recomputes list their scopes (`recompute_scopes`) and compute several at
once on PostgreSQL (`scopes_in_parallel`).

What it is not: no figures and no result rows (`services`, `writing`); Celery's side — retries,
the beat schedule — is `tasks`, which calls these.
"""

from __future__ import annotations

import datetime
import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from indicators.models import Period, Round
from networks.models import Network

from .errors import ComparisonsError
from .models import RecomputeRun, ScopeLock
from .services import Progress, results_recompute

logger = logging.getLogger(__name__)


def lock_stale_after() -> datetime.timedelta:
    """A scope lock whose heartbeat is older than this was a dead worker's (`COMPARISON_LOCK_STALE_SECONDS`)."""
    return datetime.timedelta(seconds=settings.COMPARISON_LOCK_STALE_SECONDS)


def _merge_ids(old: list[int] | None, new: Iterable[int] | None) -> list[int] | None:
    if old is None or new is None:
        return None
    return sorted(set(old) | set(new))


def recompute_request(
    *,
    network: Network,
    period: Period,
    indicator_ids: Iterable[int] | None = None,
    reason: str = "",
    enqueue: bool = True,
) -> RecomputeRun:
    """Ask for a recompute of a scope: merged into the scope's waiting run when there is one.

    A new run is enqueued (Celery, after commit); a merged request enqueues nothing, since the
    waiting run's task will pick up the merged indicators when it starts.
    """
    ids = None if indicator_ids is None else sorted(set(indicator_ids))
    with transaction.atomic():
        # Requests of one scope queue on its lock row: the second sees the first's pending run.
        _scope_lock(network_id=network.pk, period_id=period.pk)
        for _attempt in range(3):
            pending = (
                RecomputeRun.objects.select_for_update()
                .filter(network=network, period=period, status=RecomputeRun.Status.PENDING)
                .first()
            )
            if pending is not None:
                merged = _merge_ids(pending.indicator_ids, ids)
                if merged != pending.indicator_ids:
                    pending.indicator_ids = merged
                    pending.save(update_fields=["indicator_ids"])
                if enqueue and timezone.now() - pending.requested_at > lock_stale_after():
                    run_enqueue(run_id=pending.pk)  # its task was lost (broker down when requested): send again
                return pending
            try:
                with transaction.atomic():
                    run = RecomputeRun.objects.create(
                        network=network, period=period, indicator_ids=ids, reason=reason[:100]
                    )
            except IntegrityError:
                continue  # another request created the pending run meanwhile: merge into it
            if enqueue:
                run_enqueue(run_id=run.pk)
            return run
    raise RuntimeError("could not create or find the pending recompute run")


def _scope_lock(*, network_id: int, period_id: int) -> ScopeLock:
    """The scope's lock row, locked until the end of the transaction; created the first time
    (one query when it exists, as it does after a scope's first run). ``database_now`` is the
    database's clock, read with it: workers on several hosts write and judge heartbeats by the
    one clock they share, not by their own (docs/architecture.md, "Workers on more than one
    machine")."""
    scope = {"network_id": network_id, "period_id": period_id}
    locked = ScopeLock.objects.select_for_update().annotate(database_now=Now())
    lock = locked.filter(**scope).first()
    if lock is None:
        ScopeLock.objects.get_or_create(**scope)  # two first requests: one creates, one finds it
        lock = locked.get(**scope)
    return lock


class _Flush:
    """A commit callback of `run_enqueue`: sends the runs of its transaction's batch.

    Every request registers one, all sharing the transaction's list of run ids; the first to run
    after the commit sends them all (`runs_send`), the others find the list empty. One per
    request, not one per transaction: a callback registered in a savepoint that rolls back is
    dropped with it, and every run still in the database has its own callback left.
    """

    def __init__(self, run_ids: list[int]) -> None:
        self.run_ids = run_ids

    def __call__(self) -> None:
        run_ids = list(self.run_ids)
        self.run_ids.clear()
        if run_ids:
            runs_send(run_ids)


def _batch() -> list[int]:
    """The run ids the current transaction asked to send: the list its commit callbacks share
    (found among the connection's callbacks, Django's `run_on_commit`), or a new one."""
    if connection.in_atomic_block:
        for _savepoints, func, _robust in reversed(connection.run_on_commit):
            if isinstance(func, _Flush):
                return func.run_ids
    return []


def run_enqueue(*, run_id: int) -> None:
    """Send the run to the workers once the transaction commits (at once outside one).

    The runs a transaction asks for go in one batch, sent when it commits (`runs_send`): a bulk
    import publishes `values_changed` once per round and each round asks for several scopes (the
    round's, other networks' of its period, the next period's); each scope has one pending run
    that the requests merged into, and the batch sends each run once, in period order.
    """
    run_ids = _batch()
    run_ids.append(run_id)
    transaction.on_commit(_Flush(run_ids))  # outside a transaction: sent at once


def runs_send(run_ids: Iterable[int]) -> None:
    """Send the still pending runs among ``run_ids``, each once, in period order.

    With a broker each becomes a Celery task, sent in period order (earliest first); a send that
    fails (broker down) leaves the run pending for the resend sweep. With none
    (`CELERY_TASK_ALWAYS_EAGER`, the embedded default) they are computed here, as
    `recompute --sync` computes: several scopes at once on PostgreSQL (`scopes_in_parallel`),
    started in period order. The order is not needed for the figures — a scope reads the values
    of its period and the one before, never another scope's results — but the earliest periods
    are the first stored.
    """
    # Imported here: `tasks` wraps this module's functions in Celery tasks, and the task a
    # request sends is one of them — a real cycle, broken at the one call that needs it.
    from .tasks import recompute_run_task

    ids = list(
        RecomputeRun.objects.filter(pk__in=sorted(set(run_ids)), status=RecomputeRun.Status.PENDING)
        .order_by("period__start", "period__end", "network__code", "pk")
        .values_list("pk", flat=True)
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        scopes_in_parallel(recompute_run_task.delay, ids)
        return
    for run_id in ids:
        try:
            recompute_run_task.delay(run_id)
        except Exception:  # broker down: the run stays pending; the resend sweep sends it again
            logger.exception("could not enqueue recompute run %s", run_id)


class ScopeBusy(ComparisonsError):
    """Another run of the same network/period is computing; try again later."""


# Progress and heartbeat are written at most this often: a short run writes none but its end.
PROGRESS_INTERVAL_SECONDS = 0.5


def _progress_writer(run: RecomputeRun) -> Progress:
    last = [time.monotonic()]

    def write(percent: int) -> None:
        if time.monotonic() - last[0] < PROGRESS_INTERVAL_SECONDS:
            return
        last[0] = time.monotonic()
        RecomputeRun.objects.filter(pk=run.pk).update(progress=min(max(percent, 0), 100))
        # The database's clock, as `recompute_run_execute` judges it: hosts' clocks may differ.
        ScopeLock.objects.filter(network_id=run.network_id, period_id=run.period_id, run=run).update(heartbeat=Now())

    return write


def recompute_run_execute(*, run_id: int) -> RecomputeRun | None:
    """Run a requested recompute. Returns the run (None when it no longer needs running).

    Raises ScopeBusy when another run holds the scope lock with a fresh heartbeat: the task
    retries later ("waits"). A run found `running` is one whose worker died (the broker
    redelivered its task): it is taken over and computed again from scratch — its old results
    are still in place, since nothing was written outside the final transaction.
    """
    scope = RecomputeRun.objects.filter(pk=run_id).values("network_id", "period_id").first()
    if scope is None:
        return None
    with transaction.atomic():
        # Always the scope's lock row first, then the run (as recompute_request): no deadlock.
        lock = _scope_lock(**scope)
        # The network and period come along for the computation; only the run's row is locked.
        run = (
            RecomputeRun.objects.select_for_update(of=("self",))
            .select_related("network", "period")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.status == RecomputeRun.Status.DONE:
            return None
        now = lock.database_now
        # Held with a fresh heartbeat: someone computes (this run too, when its task was
        # delivered twice). A stale heartbeat means a dead worker: take the scope over.
        if lock.run_id is not None and lock.heartbeat and now - lock.heartbeat < lock_stale_after():
            holder_status = RecomputeRun.objects.filter(pk=lock.run_id).values_list("status", flat=True).first()
            if holder_status == RecomputeRun.Status.RUNNING:
                raise ScopeBusy(f"run {lock.run_id} is computing this scope")
        lock.run = run
        lock.heartbeat = now
        lock.save(update_fields=["run", "heartbeat"])
        run.status = RecomputeRun.Status.RUNNING
        run.started_at = now
        run.attempts += 1
        run.progress = 0
        run.error = ""
        run.save(update_fields=["status", "started_at", "attempts", "progress", "error"])

    started = time.monotonic()
    try:
        written = results_recompute(
            network=run.network,
            period=run.period,
            indicator_ids=run.indicator_ids,
            progress=_progress_writer(run),
        )
    except Exception as exc:
        _finish(run, status=RecomputeRun.Status.FAILED, started=started, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(run, status=RecomputeRun.Status.DONE, started=started, rows=written)
    return run


def _finish(run: RecomputeRun, *, status: str, started: float, rows: int = 0, error: str = "") -> None:
    with transaction.atomic():
        ScopeLock.objects.filter(network_id=run.network_id, period_id=run.period_id, run=run).update(run=None)
        run.status = status
        run.finished_at = timezone.now()
        run.duration = time.monotonic() - started
        run.rows_written = rows
        run.error = error
        run.progress = 100 if status == RecomputeRun.Status.DONE else run.progress
        run.save(update_fields=["status", "finished_at", "duration", "rows_written", "error", "progress"])


Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


def recompute_workers() -> int:
    """How many scopes a wide recompute computes at once: `RECOMPUTE_WORKERS`, or the cores."""
    return max(1, settings.RECOMPUTE_WORKERS or os.cpu_count() or 1)


def scopes_in_parallel(
    work: Callable[[Item], Outcome], items: Iterable[Item], *, workers: int | None = None
) -> list[Outcome]:
    """``work(item)`` for every item, up to ``workers`` at once; the outcomes in the items' order.

    For wide recomputes (the `recompute` command; the nightly run gets the same from Celery's
    worker processes): scopes are independent, one transaction each, and a run is mostly
    PostgreSQL storing rows, so two scopes keep two server processes busy where one leaves a core
    idle. Each thread has its own connection, closed when it is done. One at a time with one
    worker, on SQLite (a single writer) and inside a transaction (other connections would not see
    its uncommitted rows). An exception in ``work`` is raised here, after the others finished.
    """
    items = list(items)
    workers = min(workers or recompute_workers(), len(items))
    if workers <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        return [work(item) for item in items]

    def run(item: Item) -> Outcome:
        try:
            return work(item)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recompute") as pool:
        return list(pool.map(run, items))


def recompute_scopes(*, network: Network | None = None, period: Period | None = None) -> list[tuple[Network, Period]]:
    """The network/period scopes a wide recompute covers: every round (of the network, of the period)."""
    rounds = Round.objects.select_related("network", "period").order_by("network__code", "period__start")
    if network is not None:
        rounds = rounds.filter(network=network)
    if period is not None:
        rounds = rounds.filter(period=period)
    return [(round_.network, round_.period) for round_ in rounds]
