"""Recompute runs: coalescing, the scope lock, bookkeeping, triggers after commit, task retries."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from celery.exceptions import Retry
from django.db import transaction
from django.db.models.functions import Now
from django.urls import reverse
from django.utils import timezone

from comparisons import runs, tasks
from comparisons.models import CompositeResult, RecomputeRun, Result, ScopeLock
from comparisons.runs import ScopeBusy, recompute_request, recompute_run_execute
from comparisons.triggers import results_stale, results_stale_network
from indicators.models import DataItem, Period, Round, Submission, Value
from indicators.services.catalogue import catalogue_import, indicator_update
from indicators.services.submissions import submission_approve
from networks.tabular import read_table

from .factories import indicator_create, submissions_create


@pytest.fixture
def scope(world):
    x = indicator_create(code="X", networks=[world.network])
    y = indicator_create(code="Y", formula="2 * B", networks=[world.network])
    submissions_create(
        network=world.network, period="2024", values={world.a: {"X": 1, "B": 1}, world.b: {"X": 2, "B": 3}}
    )
    return world.network, Period.objects.get(label="2024"), x, y


def test_requests_for_one_scope_coalesce_into_one_waiting_run(scope):
    network, period, x, y = scope
    first = recompute_request(network=network, period=period, indicator_ids=[x.pk], enqueue=False)
    second = recompute_request(network=network, period=period, indicator_ids=[y.pk], enqueue=False)
    assert second.pk == first.pk
    assert RecomputeRun.objects.count() == 1
    second.refresh_from_db()
    assert second.indicator_ids == sorted([x.pk, y.pk])
    # A request for everything widens the waiting run to everything.
    recompute_request(network=network, period=period, enqueue=False)
    second.refresh_from_db()
    assert second.indicator_ids is None


def test_a_run_records_what_it_did(scope):
    network, period, _x, _y = scope
    run = recompute_request(network=network, period=period, enqueue=False)
    recompute_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.DONE
    assert run.progress == 100
    assert run.rows_written == Result.objects.count() > 0
    assert run.started_at <= run.finished_at
    assert run.duration > 0
    assert ScopeLock.objects.get(network=network, period=period).run is None
    # A request after the run started makes a new run, which computes again.
    again = recompute_request(network=network, period=period, enqueue=False)
    assert again.pk != run.pk
    # A delivered-twice task of a finished run does nothing.
    assert recompute_run_execute(run_id=run.pk) is None


def test_a_scope_being_computed_makes_the_next_run_wait(scope):
    network, period, _x, _y = scope
    running = RecomputeRun.objects.create(network=network, period=period, status=RecomputeRun.Status.RUNNING)
    ScopeLock.objects.update_or_create(
        network=network, period=period, defaults={"run": running, "heartbeat": timezone.now()}
    )
    waiting = recompute_request(network=network, period=period, enqueue=False)
    with pytest.raises(ScopeBusy):
        recompute_run_execute(run_id=waiting.pk)
    waiting.refresh_from_db()
    assert waiting.status == RecomputeRun.Status.PENDING
    assert not Result.objects.exists()


def test_a_dead_workers_stale_lock_is_taken_over(scope):
    network, period, _x, _y = scope
    dead = RecomputeRun.objects.create(network=network, period=period, status=RecomputeRun.Status.RUNNING)
    ScopeLock.objects.update_or_create(
        network=network,
        period=period,
        defaults={"run": dead, "heartbeat": timezone.now() - datetime.timedelta(hours=1)},
    )
    # The broker redelivers the dead worker's task (acks late): the run is computed after all.
    run = recompute_run_execute(run_id=dead.pk)
    assert run.status == RecomputeRun.Status.DONE
    assert run.attempts == 1
    assert Result.objects.exists()


def _worker_clock_off_by(monkeypatch, offset: datetime.timedelta) -> None:
    """This worker's own clock is ``offset`` off the database's (another host, its clock not synchronised)."""
    real_now = timezone.now
    monkeypatch.setattr(runs, "timezone", mock.Mock(now=lambda: real_now() + offset))


def _database_now() -> datetime.datetime:
    return ScopeLock.objects.annotate(now=Now()).values_list("now", flat=True).first()


@pytest.mark.parametrize("offset_minutes", [20, -20])
def test_a_live_lock_holds_whatever_the_workers_own_clock_says(scope, monkeypatch, offset_minutes):
    """Workers on two hosts judge a heartbeat by the database's clock: a host whose clock runs
    ahead by more than the stale limit must not take a live run's scope over."""
    network, period, _x, _y = scope
    running = RecomputeRun.objects.create(network=network, period=period, status=RecomputeRun.Status.RUNNING)
    ScopeLock.objects.update_or_create(network=network, period=period, defaults={"run": running})
    ScopeLock.objects.filter(network=network, period=period).update(heartbeat=Now())  # beating right now
    waiting = recompute_request(network=network, period=period, enqueue=False)
    _worker_clock_off_by(monkeypatch, datetime.timedelta(minutes=offset_minutes))
    with pytest.raises(ScopeBusy):
        recompute_run_execute(run_id=waiting.pk)
    assert not Result.objects.exists()


@pytest.mark.parametrize("offset_minutes", [20, -20])
def test_a_dead_lock_is_taken_over_whatever_the_workers_own_clock_says(scope, monkeypatch, offset_minutes):
    """A host whose clock runs behind must still see a dead worker's heartbeat as stale."""
    network, period, _x, _y = scope
    dead = RecomputeRun.objects.create(network=network, period=period, status=RecomputeRun.Status.RUNNING)
    ScopeLock.objects.update_or_create(network=network, period=period, defaults={"run": dead})
    stale = runs.lock_stale_after() + datetime.timedelta(minutes=1)
    ScopeLock.objects.filter(network=network, period=period).update(heartbeat=Now() - stale)
    _worker_clock_off_by(monkeypatch, datetime.timedelta(minutes=offset_minutes))
    run = recompute_run_execute(run_id=dead.pk)
    assert run.status == RecomputeRun.Status.DONE
    assert Result.objects.exists()


def test_a_running_worker_beats_by_the_databases_clock(scope, monkeypatch):
    network, period, _x, _y = scope
    run = RecomputeRun.objects.create(network=network, period=period, status=RecomputeRun.Status.RUNNING)
    ScopeLock.objects.update_or_create(network=network, period=period, defaults={"run": run, "heartbeat": None})
    _worker_clock_off_by(monkeypatch, datetime.timedelta(hours=3))
    monkeypatch.setattr(runs, "PROGRESS_INTERVAL_SECONDS", 0)
    runs._progress_writer(run)(40)
    heartbeat = ScopeLock.objects.get(network=network, period=period).heartbeat
    assert abs(_database_now() - heartbeat) < datetime.timedelta(minutes=1)
    run.refresh_from_db()
    assert run.progress == 40


def test_a_failed_run_records_the_error_and_keeps_the_old_results(scope):
    network, period, _x, _y = scope
    recompute_run_execute(run_id=recompute_request(network=network, period=period, enqueue=False).pk)
    before = Result.objects.count()
    run = recompute_request(network=network, period=period, enqueue=False)
    with (
        mock.patch.object(runs, "results_recompute", side_effect=ValueError("bad formula")),
        pytest.raises(ValueError),
    ):
        recompute_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RecomputeRun.Status.FAILED
    assert run.error == "ValueError: bad formula"
    assert Result.objects.count() == before
    assert ScopeLock.objects.get(network=network, period=period).run is None


def test_the_task_retries_while_the_scope_is_busy():
    with (
        mock.patch.object(tasks, "recompute_run_execute", side_effect=ScopeBusy("run 1")),
        mock.patch.object(tasks.recompute_run_task, "retry", side_effect=Retry()) as retry,
        pytest.raises(Retry),
    ):
        tasks.recompute_run_task.run(42)
    assert retry.call_args.kwargs["countdown"] == tasks.BUSY_COUNTDOWN


def test_the_task_retries_a_lost_database_connection():
    from django.db import OperationalError

    with (
        mock.patch.object(tasks, "recompute_run_execute", side_effect=OperationalError("gone")),
        mock.patch.object(tasks.recompute_run_task, "retry", side_effect=Retry()) as retry,
        pytest.raises(Retry),
    ):
        tasks.recompute_run_task.run(42)
    assert retry.called


def test_results_stale_recomputes_the_affected_indicators_after_commit(scope, django_capture_on_commit_callbacks):
    network, period, _x, y = scope
    round_ = Round.objects.get(network=network, period=period)
    item_b = y.items.get()
    with django_capture_on_commit_callbacks(execute=True):
        results_stale(round_id=round_.pk, item_ids=[item_b.pk])
    run = RecomputeRun.objects.get()
    assert run.indicator_ids == [y.pk]
    assert run.status == RecomputeRun.Status.DONE  # no broker: the task ran in process
    assert set(Result.objects.values_list("indicator__code", flat=True)) == {"Y"}


def test_nothing_is_recomputed_when_the_transaction_rolls_back(scope, django_capture_on_commit_callbacks):
    network, period, _x, _y = scope
    round_ = Round.objects.get(network=network, period=period)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                results_stale(round_id=round_.pk)
                raise RuntimeError("approval failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not RecomputeRun.objects.exists()


def test_a_change_reaches_other_networks_of_the_period_and_the_next_period(world, django_capture_on_commit_callbacks):
    x = indicator_create(code="X", networks=[world.network, world.other_network])
    submissions_create(network=world.network, period="2023", values={world.a: {"X": 1}})
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 2}})
    submissions_create(network=world.other_network, period="2023", values={world.c: {"X": 3}})
    round_ = Round.objects.get(network=world.network, period__label="2023")
    with django_capture_on_commit_callbacks(execute=True):
        results_stale(round_id=round_.pk, item_ids=list(x.items.values_list("pk", flat=True)))
    scopes = set(RecomputeRun.objects.values_list("network__code", "period__label"))
    assert scopes == {("T", "2023"), ("U", "2023"), ("T", "2024")}


def test_results_stale_network_recomputes_every_round(scope, django_capture_on_commit_callbacks):
    network, _period, _x, _y = scope
    with django_capture_on_commit_callbacks(execute=True):
        results_stale_network(network_id=network.pk, reason="published")
    run = RecomputeRun.objects.get()
    assert (run.indicator_ids, run.reason, run.status) == (None, "published", RecomputeRun.Status.DONE)


def test_nightly_task_requests_every_scope(scope, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        count = tasks.recompute_all_task.run()
    assert count == 1
    assert RecomputeRun.objects.get().status == RecomputeRun.Status.DONE


def test_runs_left_pending_while_the_broker_was_down_are_sent_again(scope, django_capture_on_commit_callbacks):
    network, period, _x, _y = scope
    old = recompute_request(network=network, period=period, enqueue=False)
    RecomputeRun.objects.filter(pk=old.pk).update(requested_at=timezone.now() - datetime.timedelta(minutes=10))
    with (
        mock.patch.object(tasks.recompute_run_task, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.pending_runs_resend_task() == 1
    delay.assert_called_once_with(old.pk)


def test_a_fresh_pending_run_is_not_sent_twice(scope):
    network, period, _x, _y = scope
    recompute_request(network=network, period=period, enqueue=False)
    with mock.patch.object(tasks.recompute_run_task, "delay") as delay:
        assert tasks.pending_runs_resend_task() == 0
    delay.assert_not_called()


# --- an approval's recompute survives whatever fails after the commit ------------------------------


def _submitted(world):
    """A submitted submission of A in T/2024, its indicator X read by the network's results."""
    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.b: {"X": 2}})
    return submissions_create(
        network=world.network, period="2024", values={world.a: {"X": 1}}, status=Submission.Status.SUBMITTED
    )[world.a]


def _runs_in_process_after_a_sweep(django_capture_on_commit_callbacks) -> RecomputeRun:
    """The resend sweep a few minutes later (beat), with a broker that works again."""
    RecomputeRun.objects.update(requested_at=timezone.now() - datetime.timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.pending_runs_resend_task() == 1
    return RecomputeRun.objects.get()


def test_an_approval_records_its_recompute_in_its_own_transaction(world, django_capture_on_commit_callbacks):
    submission = _submitted(world)
    # Nothing after the commit runs (the process dies, or an earlier after-commit step raises):
    # the approval and its pending recompute were committed together.
    with django_capture_on_commit_callbacks(execute=False):
        submission_approve(submission=submission, user=world.users["coordinator"])
    submission.refresh_from_db()
    assert submission.status == Submission.Status.APPROVED
    run = RecomputeRun.objects.get()
    assert (run.network, run.period.label, run.status) == (world.network, "2024", RecomputeRun.Status.PENDING)
    assert not Result.objects.exists()

    run = _runs_in_process_after_a_sweep(django_capture_on_commit_callbacks)
    assert run.status == RecomputeRun.Status.DONE
    assert Result.objects.filter(municipality=world.a, peer_group="network").get().value == 1


def test_an_approval_keeps_its_recompute_when_the_enqueue_fails_after_commit(
    world, settings, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    submission = _submitted(world)
    settings.CELERY_TASK_ALWAYS_EAGER = False  # production: a broker is configured, and it is down
    url = reverse("indicators:submission_review", kwargs={"pk": submission.pk})
    with (
        mock.patch.object(tasks.recompute_run_task, "delay", side_effect=OperationalError("broker down")) as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = world.client("coordinator").post(url, {"decision": "approve"})
    assert response.status_code == 302
    assert delay.called
    submission.refresh_from_db()
    assert submission.status == Submission.Status.APPROVED
    assert RecomputeRun.objects.get().status == RecomputeRun.Status.PENDING

    run = _runs_in_process_after_a_sweep(django_capture_on_commit_callbacks)
    assert run.status == RecomputeRun.Status.DONE
    assert Result.objects.filter(municipality=world.a, peer_group="network").get().value == 1


def test_an_approval_in_a_period_ending_on_the_last_date_still_requests_its_recompute(
    world, django_capture_on_commit_callbacks
):
    # Labels are bounded now (indicators/tests/test_periods.py); a database may hold one from before.
    period = Period.objects.create(
        label="9999", kind="year", start=datetime.date(9999, 1, 1), end=datetime.date(9999, 12, 31)
    )
    indicator_create(code="X", networks=[world.network])
    round_ = Round.objects.create(network=world.network, period=period)
    submission = Submission.objects.create(round=round_, municipality=world.a, status=Submission.Status.SUBMITTED)
    Value.objects.create(submission=submission, item=DataItem.objects.get(code="X"), number=1)
    with django_capture_on_commit_callbacks(execute=False):
        submission_approve(submission=submission, user=world.users["coordinator"])
    submission.refresh_from_db()
    assert submission.status == Submission.Status.APPROVED
    assert RecomputeRun.objects.get().period == period


def test_requests_of_several_scopes_lock_them_in_one_order(world, django_capture_on_commit_callbacks):
    """Two approvals making the same scopes stale, from two networks, must not deadlock: both
    take the scopes' lock rows in the same order (network id, period id)."""
    x = indicator_create(code="X", networks=[world.network, world.other_network])
    submissions_create(network=world.other_network, period="2024", values={world.c: {"X": 3}})
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 1}})
    round_ = Round.objects.get(network=world.other_network, period__label="2024")
    taken = []
    real = runs._scope_lock

    def spy(*, network_id, period_id):
        taken.append((network_id, period_id))
        return real(network_id=network_id, period_id=period_id)

    with mock.patch.object(runs, "_scope_lock", spy), django_capture_on_commit_callbacks(execute=False):
        results_stale(round_id=round_.pk, item_ids=list(x.items.values_list("pk", flat=True)))
    assert taken == sorted(taken)
    assert len(set(taken)) == 2


def test_a_changed_index_weight_recomputes_every_round_of_the_networks_using_it(
    scope, django_capture_on_commit_callbacks
):
    network, period, x, _y = scope
    for field, value in (("in_index", True), ("weight", 3)):
        setattr(x, field, value)
        with django_capture_on_commit_callbacks(execute=True):
            indicator_update(indicator=x)
    runs_ = list(RecomputeRun.objects.order_by("pk"))
    assert [(run.network_id, run.period_id, run.indicator_ids) for run in runs_] == [(network.pk, period.pk, None)] * 2
    assert all(run.status == RecomputeRun.Status.DONE for run in runs_)
    # A municipality's index is now its X score alone (Y is not in the index).
    composite = CompositeResult.objects.filter(peer_group="network").values_list("municipality_id", "index_value")
    scores = Result.objects.filter(peer_group="network", indicator=x).values_list("municipality_id", "score")
    assert dict(composite) == dict(scores)
    # A change results do not depend on (its name) computes nothing.
    x.name = "X, renamed"
    with django_capture_on_commit_callbacks(execute=True):
        indicator_update(indicator=x)
    assert RecomputeRun.objects.count() == 2


CATALOGUE = """code,kind,name,name_en,unit,decimals,polarity,formula,min,max,influence,in_index,weight,networks
X,indicator,X,X,,2,higher,,,,no,{in_index},{weight},T
Y,indicator,Y,Y,,2,higher,2 * B,,,no,no,,T
"""


def test_a_catalogue_import_that_changes_the_index_recomputes_the_network(scope, django_capture_on_commit_callbacks):
    network, period, _x, _y = scope

    def load(**fields) -> None:
        table = read_table(CATALOGUE.format(**fields).encode(), name="catalogue.csv")
        with django_capture_on_commit_callbacks(execute=True):
            catalogue_import(table=table)

    load(in_index="no", weight="1")  # as stored: nothing to recompute
    assert not RecomputeRun.objects.exists()
    load(in_index="yes", weight="2")
    run = RecomputeRun.objects.get()
    assert (run.network_id, run.period_id, run.indicator_ids, run.status) == (
        network.pk,
        period.pk,
        None,
        RecomputeRun.Status.DONE,
    )
    assert CompositeResult.objects.filter(network=network, period=period).exists()
