"""A bulk import asks for the least work: one run per affected scope, in period order, after
commit, merged into runs already pending; without a broker computed here as `recompute --sync`
computes. The stored results are those of a full recompute (docs/architecture.md, "Recompute")."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comparisons import tasks
from comparisons.models import CompositeResult, RecomputeRun, Result
from indicators.models import Round, Submission, Value
from indicators.services import values as values_service

from .factories import indicator_create, submissions_create

PERIODS = ("2020", "2021", "2022", "2023")


@pytest.fixture
def catalogue(world):
    """X in both networks (U reports it for 2021), Y = 2 * B in T only; both in the index."""
    indicator_create(code="X", networks=[world.network, world.other_network], in_index=True)
    indicator_create(code="Y", formula="2 * B", networks=[world.network], in_index=True, polarity="lower")
    submissions_create(network=world.other_network, period="2021", values={world.c: {"X": 4}})
    return world


def _values_file(world, tmp_path: Path, periods, *, shift: float = 0, name: str = "values.csv") -> Path:
    lines = ["municipality_code,item_code,period,value"]
    for period in periods:
        year = int(period) - 2000
        lines += [
            f"{world.a.code},X,{period},{year + 1.5 + shift}",
            f"{world.b.code},X,{period},{(year % 7) * 2 + shift}",
            f"{world.a.code},B,{period},{3 + year % 3}",
            f"{world.b.code},B,{period},{4 + shift}",
        ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _import(world, path: Path, status: str = Submission.Status.APPROVED) -> None:
    call_command("import_values", str(path), "--network", world.network.code, "--status", status, stdout=io.StringIO())


def _stored() -> tuple[list[tuple], list[tuple]]:
    """Every stored figure (all but when it was computed), in a stable order."""

    def rows(model) -> list[tuple]:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "computed_at")]
        return sorted(model.objects.values_list(*fields), key=repr)

    return rows(Result), rows(CompositeResult)


def _scopes() -> set[tuple[str, str]]:
    return set(Round.objects.values_list("network__code", "period__label"))


@pytest.fixture
def executed(monkeypatch) -> list[tuple[int, str]]:
    """The recompute tasks executed (run id, thread name), in process: the real task and engine."""
    calls: list[tuple[int, str]] = []
    task = tasks.recompute_run_task
    real = task.run

    def run(run_id: int):
        calls.append((run_id, threading.current_thread().name))
        return real(run_id)

    monkeypatch.setattr(task, "run", run)
    return calls


@pytest.mark.django_db(transaction=True)
def test_an_approved_import_of_four_periods_computes_each_scope_once_as_a_full_recompute_would(
    catalogue, tmp_path, executed, settings
):
    world = catalogue
    settings.RECOMPUTE_WORKERS = 2
    settings.CELERY_TASK_ALWAYS_EAGER = True  # no broker, the embedded default (CI sets one)
    _import(world, _values_file(world, tmp_path, PERIODS))  # commits: no broker, so computed here

    # The scopes: T's four rounds, and U's 2021 round (its `all` group now holds A and B).
    scopes = _scopes()
    assert scopes == {("T", period) for period in PERIODS} | {("U", "2021")}
    runs = list(RecomputeRun.objects.values_list("network__code", "period__label", "status"))
    assert sorted(runs) == sorted((network, period, RecomputeRun.Status.DONE) for network, period in scopes)
    assert len(executed) == len(scopes) == len({run_id for run_id, _thread in executed})
    threads = {thread for _run_id, thread in executed}
    if connection.vendor == "postgresql":  # scopes at once, as `recompute --sync`
        assert all(thread.startswith("recompute") for thread in threads)
    else:  # SQLite has a single writer: one after another, in this thread
        assert threads == {threading.current_thread().name}

    after_import = _stored()
    results, composites = after_import
    assert {(row[0], row[1]) for row in results} == set(
        Result.objects.values_list("network_id", "period_id").distinct()
    )
    assert len({(row[0], row[1]) for row in results}) == len(scopes)
    assert composites
    # The change against the previous period is there from the second period on.
    a_x_2021 = Result.objects.get(
        network=world.network, period__label="2021", indicator__code="X", peer_group="network", municipality=world.a
    )
    assert (a_x_2021.value, a_x_2021.previous_value, a_x_2021.change_abs) == (22.5, 21.5, 1.0)

    executed.clear()
    call_command("recompute", "--sync", stdout=io.StringIO())
    assert len(executed) == 0  # the command executes its runs itself, not through tasks
    assert _stored() == after_import


@pytest.mark.django_db(transaction=True)
def test_a_second_import_while_the_runs_are_pending_merges_into_them(catalogue, tmp_path, settings, monkeypatch):
    world = catalogue
    # A broker, whose worker has not taken the runs yet: what is sent, in which order.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queue: list[int] = []
    monkeypatch.setattr(tasks.recompute_run_task, "delay", queue.append)
    # T's 2022 and 2023 rounds exist before 2020 and 2021's (submitted: nothing to compute), so
    # the rounds' ids are not in period order.
    _import(world, _values_file(world, tmp_path, PERIODS[2:], name="later.csv"), status=Submission.Status.SUBMITTED)
    assert queue == []
    assert list(Round.objects.filter(network=world.network).order_by("pk").values_list("period__label", flat=True)) == [
        "2022",
        "2023",
    ]

    _import(world, _values_file(world, tmp_path, PERIODS))
    scope_of = dict(RecomputeRun.objects.values_list("pk", "network__code"))
    period_of = dict(RecomputeRun.objects.values_list("pk", "period__label"))
    sent = [(scope_of[run_id], period_of[run_id]) for run_id in queue]
    assert sent == [("T", "2020"), ("T", "2021"), ("U", "2021"), ("T", "2022"), ("T", "2023")]

    # Before a worker takes them: new values for 2021 to 2023, and a new period, 2024.
    _import(world, _values_file(world, tmp_path, [*PERIODS[1:], "2024"], shift=10, name="again.csv"))
    assert RecomputeRun.objects.count() == 6
    assert set(RecomputeRun.objects.values_list("status", flat=True)) == {RecomputeRun.Status.PENDING}
    assert len(queue) == 6 == len(set(queue))  # only 2024's run is new, and sent
    assert RecomputeRun.objects.get(pk=queue[-1]).period.label == "2024"

    for run_id in queue:  # the worker
        tasks.recompute_run_task.run(run_id)
    assert set(RecomputeRun.objects.values_list("status", flat=True)) == {RecomputeRun.Status.DONE}
    a_x_2022 = Result.objects.get(
        network=world.network, period__label="2022", indicator__code="X", peer_group="network", municipality=world.a
    )
    assert (a_x_2022.value, a_x_2022.previous_value) == (33.5, 32.5)  # both from the second import
    merged = _stored()

    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("recompute", "--sync", stdout=io.StringIO())
    assert _stored() == merged


@pytest.mark.django_db(transaction=True)
def test_an_approved_official_import_computes_each_scope_once(catalogue, tmp_path, executed):
    from indicators.services.official import official_import

    world = catalogue
    table = tmp_path / "official.csv"
    rows = ["Population by territorial unit", "", '"Territorial unit","2020","2021","2022","2023"']
    for municipality, base in ((world.a, 1), (world.b, 5), (world.c, 9)):
        rows.append(f'"{municipality.name_en}",' + ",".join(str(base + year) for year in range(4)))
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = official_import(table, item_code="X")
    assert report.created > 0, report
    # X is used by T (every period) and U (the periods of its new rounds).
    scopes = _scopes()
    assert len(scopes) == 8
    assert RecomputeRun.objects.count() == len(scopes) == len(executed)
    assert set(RecomputeRun.objects.values_list("status", flat=True)) == {RecomputeRun.Status.DONE}
    after_import = _stored()
    call_command("recompute", "--sync", stdout=io.StringIO())
    assert _stored() == after_import


@pytest.mark.django_db
def test_a_large_bulk_import_refreshes_the_planner_statistics(catalogue, tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's; SQLite has none to refresh")
    world = catalogue
    value_table = Value._meta.db_table
    monkeypatch.setattr(values_service, "ANALYZE_AFTER_ROWS", 10)
    # The statistics as of this test's own (small) tables, not what earlier tests left behind.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + connection.ops.quote_name(value_table))

    def analyses(path: Path, *, dry_run: bool = False) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            call_command(
                "import_values",
                str(path),
                "--network",
                world.network.code,
                "--status",
                "approved",
                *(["--dry-run"] if dry_run else []),
                stdout=io.StringIO(),
            )
        # (The import analyses its own staging tables too, whatever its size.)
        statements = [query["sql"] for query in queries]
        return [sql for sql in statements if sql.startswith("ANALYZE ") and value_table in sql]

    small = _values_file(world, tmp_path, PERIODS[:2], name="small.csv")  # 8 values: under the threshold
    assert analyses(small, dry_run=True) == []
    assert analyses(_values_file(world, tmp_path, PERIODS[:2], name="small.csv", shift=1)) == []
    large = _values_file(world, tmp_path, PERIODS, name="large.csv", shift=2)  # 16 values
    assert analyses(large, dry_run=True) == []
    (statement,) = analyses(large)
    assert value_table in statement and Value.history.model._meta.db_table in statement
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [value_table])
        assert cursor.fetchone()[0] == Value.objects.count()
    # Small for the table: more than the minimum, less than the share of the rows already there.
    monkeypatch.setattr(values_service, "ANALYZE_AFTER_SHARE", 2)
    assert analyses(_values_file(world, tmp_path, PERIODS, name="large.csv", shift=3)) == []
