"""The command-line contract: recompute, export_results, import_peer_groups."""

from __future__ import annotations

import csv
import io
import threading
from unittest.mock import patch

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from comparisons.management.commands.export_results import COLUMNS
from comparisons.models import PeerGroup, RecomputeRun, Result
from comparisons.runs import recompute_run_execute

from .factories import indicator_create, submissions_create


@pytest.fixture
def computed(world):
    indicator_create(code="X", formula="A / 3", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"A": 1}, world.b: {"A": 2}})
    return world


def _export(*args: str) -> list[list[str]]:
    out = io.StringIO()
    call_command("export_results", *args, stdout=out)
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_recompute_sync_computes_here_and_reports(computed):
    out = io.StringIO()
    call_command("recompute", "--network", "T", "--period", "2024", "--sync", stdout=out)
    run = RecomputeRun.objects.get()
    assert run.status == RecomputeRun.Status.DONE
    assert f"T 2024: run {run.pk} done, {run.rows_written} rows" in out.getvalue()
    assert Result.objects.filter(network__code="T").exists()


def test_recompute_without_sync_goes_through_celery(computed, django_capture_on_commit_callbacks):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("recompute", stdout=out)
    assert "queued" in out.getvalue()
    # No broker configured: Celery ran the task in process.
    assert RecomputeRun.objects.get().status == RecomputeRun.Status.DONE


def test_recompute_refuses_unknown_network_and_period(computed):
    with pytest.raises(CommandError, match="unknown network"):
        call_command("recompute", "--network", "NOPE", "--sync")
    with pytest.raises(CommandError, match="unknown period"):
        call_command("recompute", "--period", "1999", "--sync")


def test_export_has_the_contract_columns_full_precision_and_empty_cells(computed):
    call_command("recompute", "--sync", stdout=io.StringIO())
    rows = _export("--network", "T", "--period", "2024", "--peer-group", "network")
    assert rows[0] == COLUMNS
    header = (
        "network,period,indicator,peer_group,municipality_code,value,rank,n,percentile,band,z,score,"
        "mean,median,q1,q3,min,max"
    )
    assert ",".join(rows[0]) == header
    body = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    assert len(body) == 2
    a = next(row for row in body if row["municipality_code"] == computed.a.code)
    assert float(a["value"]) == 1 / 3  # every digit: 0.3333333333333333
    assert a["value"] == repr(1 / 3)
    assert (a["network"], a["period"], a["indicator"], a["peer_group"]) == ("T", "2024", "X", "network")
    assert (a["rank"], a["n"], a["band"]) == ("2", "2", "red")


def test_export_leaves_undefined_figures_empty(world):
    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 5}})
    call_command("recompute", "--sync", stdout=io.StringIO())
    row = dict(zip(COLUMNS, _export("--network", "T", "--peer-group", "network")[1], strict=True))
    # n = 1: no percentile, no z (no standard deviation).
    assert (row["n"], row["percentile"], row["z"], row["score"]) == ("1", "", "", "50.0")


def test_export_to_a_file_and_every_peer_group(computed, tmp_path):
    call_command("recompute", "--sync", stdout=io.StringIO())
    target = tmp_path / "out.csv"
    out = io.StringIO()
    call_command("export_results", "--network", "T", "--output", str(target), stdout=out)
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["peer_group"] for row in rows} >= {"network", "all", "kind", "region"}
    assert len(rows) == Result.objects.count()
    assert f"{len(rows)} row(s)" in out.getvalue()


def test_export_refuses_a_bad_peer_group_or_network(computed):
    with pytest.raises(CommandError, match="unknown peer group"):
        _export("--network", "T", "--peer-group", "neighbours")
    with pytest.raises(CommandError, match="unknown network"):
        _export("--network", "NOPE")


def _write(tmp_path, text: str):
    path = tmp_path / "groups.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_peer_groups_creates_replaces_and_is_idempotent(world, tmp_path):
    path = _write(
        tmp_path, f"group,municipality_code\ncoast,{world.a.code}\ncoast,{world.b.code}\nbig,{world.c.code}\n"
    )
    out = io.StringIO()
    call_command("import_peer_groups", str(path), stdout=out)
    assert "2 created" in out.getvalue()
    coast = PeerGroup.objects.get(name="coast")
    assert set(coast.municipalities.values_list("code", flat=True)) == {world.a.code, world.b.code}
    out = io.StringIO()
    call_command("import_peer_groups", str(path), stdout=out)
    assert "0 created, 0 updated, 2 unchanged" in out.getvalue()
    # A group's members are exactly the file's; groups not in the file stay.
    call_command(
        "import_peer_groups", str(_write(tmp_path, f"group;municipality_code\ncoast;{world.c.code}\n")), stdout=out
    )
    assert list(coast.municipalities.values_list("code", flat=True)) == [world.c.code]
    assert PeerGroup.objects.filter(name="big").exists()


def test_import_peer_groups_is_all_or_nothing_with_line_numbers(world, tmp_path):
    path = _write(
        tmp_path,
        f"group,municipality_code\ncoast,{world.a.code}\ncoast,NOPE\n,{world.b.code}\ncoast,{world.a.code}\n",
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_peer_groups", str(path), stdout=io.StringIO(), stderr=err)
    assert "line 3: unknown municipality code NOPE" in err.getvalue()
    assert "line 4: group is empty" in err.getvalue()
    assert "line 5:" in err.getvalue() and "line 2" in err.getvalue()
    assert not PeerGroup.objects.exists()


def _stored_rows() -> list[tuple]:
    fields = [f.attname for f in Result._meta.concrete_fields if f.attname != "computed_at"]
    return sorted(Result.objects.values_list(*fields))


@pytest.mark.django_db(transaction=True)
def test_recompute_sync_computes_scopes_at_once_and_stores_what_one_at_a_time_stores(world, settings):
    if connection.vendor != "postgresql":
        pytest.skip("scopes run at once on PostgreSQL only; SQLite has a single writer")
    indicator_create(code="X", formula="A / 3", networks=[world.network, world.other_network])
    for period, shift in (("2023", 0), ("2024", 1), ("2025", 2)):
        submissions_create(
            network=world.network, period=period, values={world.a: {"A": 1 + shift}, world.b: {"A": 5 - shift}}
        )
        submissions_create(network=world.other_network, period=period, values={world.c: {"A": 2 * shift}})
    settings.RECOMPUTE_WORKERS = 1
    call_command("recompute", "--sync", stdout=io.StringIO())
    one_at_a_time = _stored_rows()

    threads: set[str] = set()
    execute = recompute_run_execute

    def execute_noting_the_thread(**kwargs):
        threads.add(threading.current_thread().name)
        return execute(**kwargs)

    settings.RECOMPUTE_WORKERS = 3
    out = io.StringIO()
    with patch("comparisons.management.commands.recompute.recompute_run_execute", execute_noting_the_thread):
        call_command("recompute", "--sync", stdout=out)

    # Six scopes, three workers: more than one thread computed, none of them the caller's.
    assert len(threads) >= 2 and all(name.startswith("recompute") for name in threads)
    # Reported in the scopes' order, every run done; the rows are those of one run at a time.
    reported = [line.split(":")[0] for line in out.getvalue().splitlines()]
    assert reported == ["T 2023", "T 2024", "T 2025", "U 2023", "U 2024", "U 2025"]
    assert set(RecomputeRun.objects.values_list("status", flat=True)) == {RecomputeRun.Status.DONE}
    assert len(one_at_a_time) > 0
    assert _stored_rows() == one_at_a_time


def test_recompute_inside_a_transaction_computes_one_scope_after_another(computed, settings):
    # The test's own transaction holds the data: other connections would not see it.
    settings.RECOMPUTE_WORKERS = 4
    with patch("comparisons.runs.ThreadPoolExecutor", side_effect=AssertionError("no threads")):
        call_command("recompute", "--sync", stdout=io.StringIO())
    assert Result.objects.filter(network__code="T").exists()
