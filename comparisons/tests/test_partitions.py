"""A full run replaces its scope's partition instead of deleting rows (docs/architecture.md,
"Replacing a scope without dead rows"). PostgreSQL only: SQLite keeps one table."""

from __future__ import annotations

import threading
import time
from unittest import mock

import psycopg
import pytest
from django.db import OperationalError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from comparisons import partitions
from comparisons.models import Result
from comparisons.services import results_recompute
from indicators.models import Indicator, Period, Round, Submission
from indicators.services.periods import period_get_or_create
from networks.tests.factories import MembershipFactory, MunicipalityFactory

from .factories import indicator_create, submissions_create


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's; SQLite keeps one table and DELETE + insert")


def _figures(network, period) -> list[tuple]:
    fields = [f.attname for f in Result._meta.concrete_fields if f.attname != "computed_at"]
    return sorted(Result.objects.filter(network=network, period=period).values_list(*fields))


def _leaf_oid(network, period) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)::oid", [partitions.leaf_table(network.pk, period.pk)])
        return cursor.fetchone()[0]


def _relation_exists(oid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_class WHERE oid = %s", [oid])
        return cursor.fetchone()[0] == 1


def _rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ONLY {connection.ops.quote_name(table)}")  # noqa: S608  # nosec B608 - test names
        return cursor.fetchone()[0]


@pytest.fixture
def scope(world):
    """Network T, 2024: four municipalities of two kinds, two indicators."""
    extra = [MunicipalityFactory(code=f"LVP00000{i}", kind="state_city") for i in range(2)]
    for municipality in extra:
        MembershipFactory(network=world.network, municipality=municipality)
    members = [world.a, world.b, *extra]
    indicator_create(code="X", formula="A / POP", networks=[world.network])
    indicator_create(code="Y", formula="A", polarity="lower", networks=[world.network])
    submissions = submissions_create(
        network=world.network,
        period="2024",
        values={m: {"A": 10 + 3 * i, "POP": 100 + i} for i, m in enumerate(members)},
    )
    return world.network, Period.objects.get(label="2024"), submissions


def test_a_full_run_twice_swaps_in_a_new_partition_and_leaves_no_old_rows(scope):
    network, period, _ = scope
    results_recompute(network=network, period=period)
    first, figures = _leaf_oid(network, period), _figures(network, period)
    assert first is not None and figures
    assert _rows_in(partitions.leaf_table(network.pk, period.pk)) == len(figures)

    results_recompute(network=network, period=period)
    second = _leaf_oid(network, period)
    assert second != first
    assert not _relation_exists(first)  # the old rows went with their table: nothing to vacuum
    assert _figures(network, period) == figures
    assert _rows_in(partitions.leaf_table(network.pk, period.pk)) == len(figures)
    assert _rows_in(f"{partitions.network_table(network.pk)}_default") == 0
    assert _rows_in(partitions.PARENT_DEFAULT) == 0


def test_a_swapped_in_partition_has_planner_statistics(scope):
    # Without them the planner takes a new leaf for empty until autovacuum analyzes it, and an
    # incremental run's delete reads the whole scope's key instead of probing it.
    network, period, _ = scope
    results_recompute(network=network, period=period)
    leaf = partitions.leaf_table(network.pk, period.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [leaf])
        assert cursor.fetchone()[0] == _rows_in(leaf) > 0
        cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s AND attname = 'peer_group'", [leaf])
        assert cursor.fetchone()[0] == 1


def test_the_swap_stores_what_delete_and_insert_stores(scope):
    network, period, submissions = scope
    results_recompute(network=network, period=period)
    for submission in submissions.values():
        submission.values.filter(item__code="A").update(number=7)
    results_recompute(network=network, period=period)
    swapped = _figures(network, period)
    with mock.patch.object(partitions, "partitioned", return_value=False):
        results_recompute(network=network, period=period)
    assert _figures(network, period) == swapped
    assert {row[0] for row in Result.objects.filter(network=network).values_list("value")} != {None}


def test_a_full_run_of_some_peer_groups_keeps_the_other_groups_rows(scope):
    network, period, submissions = scope
    results_recompute(network=network, period=period)
    kind_before = dict(Result.objects.filter(peer_group="kind").values_list("pk", "computed_at"))
    assert kind_before
    for submission in submissions.values():
        submission.values.filter(item__code="A").update(number=5)
    results_recompute(network=network, period=period, peer_group_names=["network"])
    assert dict(Result.objects.filter(peer_group="kind").values_list("pk", "computed_at")) == kind_before
    assert set(Result.objects.filter(peer_group="network", indicator__code="Y").values_list("value", flat=True)) == {5}


def _orm_result(network, period, municipality, indicator, peer_group="network") -> Result:
    return Result.objects.create(
        network=network,
        period=period,
        indicator=indicator,
        peer_group=peer_group,
        group_key="T",
        municipality=municipality,
        value=1.0,
        n=1,
        band="",
        computed_at=timezone.now(),
    )


def test_results_written_through_the_orm_before_a_scope_has_a_partition_are_replaced_by_its_first_run(scope, world):
    network, period, _ = scope
    indicator = Indicator.objects.get(code="X")
    # A network with no partition yet: the row lands in the parent's DEFAULT partition.
    _orm_result(network, period, world.a, indicator, peer_group="custom:old")
    _orm_result(network, period, world.b, indicator)
    assert _rows_in(partitions.PARENT_DEFAULT) == 2
    results_recompute(network=network, period=period, peer_group_names=["network"])
    assert _rows_in(partitions.PARENT_DEFAULT) == 0
    assert _rows_in(f"{partitions.network_table(network.pk)}_default") == 0
    # The group it did not recompute is kept; the one it did is the run's.
    assert Result.objects.filter(peer_group="custom:old", municipality=world.a).exists()
    assert Result.objects.get(peer_group="network", indicator=indicator, municipality=world.b).value != 1.0
    assert Result.objects.filter(network=network, period=period, peer_group="network").count() == 8

    # Another period of the same network: its row sits in the network's DEFAULT leaf until a run.
    other = period_get_or_create(label="2023")
    _orm_result(network, other, world.a, indicator)
    assert _rows_in(f"{partitions.network_table(network.pk)}_default") == 1
    assert Result.objects.filter(network=network, period=other).count() == 1
    results_recompute(network=network, period=other)
    assert _rows_in(f"{partitions.network_table(network.pk)}_default") == 0
    assert _leaf_oid(network, other) is not None
    assert not Result.objects.filter(network=network, period=other).exists()  # 2023 has no values


def test_deleting_a_network_or_a_period_deletes_its_results(scope, world):
    network, period, _ = scope
    results_recompute(network=network, period=period)
    _orm_result(network, period_get_or_create(label="2023"), world.a, Indicator.objects.get(code="X"))
    assert Result.objects.filter(network=network, period=period).exists()
    # A period with rounds and submissions is protected: an operator deletes those first.
    Submission.objects.filter(round__period=period).delete()
    Round.objects.filter(period=period).delete()
    period.delete()
    assert not Result.objects.filter(period_id=period.pk).exists()
    assert Result.objects.filter(network=network).count() == 1  # 2023's
    network.delete()
    assert not Result.objects.filter(network_id=network.pk).exists()


def _reader_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"],
        autocommit=True,
    )


def _read(reader: psycopg.Connection, network, period) -> tuple:
    """The scope's rows as another connection sees them: (rows, distinct run times, latest)."""
    return reader.execute(
        "SELECT count(*), count(DISTINCT computed_at), max(computed_at) FROM comparisons_result"
        " WHERE network_id = %s AND period_id = %s",
        [network.pk, period.pk],
    ).fetchone()


def _waits_for_a_lock(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_reader_sees_the_old_or_the_new_results_never_half(scope):
    network, period, _ = scope
    results_recompute(network=network, period=period)
    rows = Result.objects.filter(network=network, period=period).count()
    old_time = Result.objects.filter(network=network, period=period).values_list("computed_at", flat=True).first()
    built, swapped, go_on, commit = (threading.Event() for _ in range(4))
    swap = partitions.ScopeLeaf.swap

    def pausing_swap(self, peer_group_names):
        built.set()
        go_on.wait(10)
        swap(self, peer_group_names)
        swapped.set()
        commit.wait(10)

    def write():
        try:
            with mock.patch.object(partitions.ScopeLeaf, "swap", pausing_swap):
                results_recompute(network=network, period=period)
        finally:
            connections.close_all()

    seen = []
    writer = threading.Thread(target=write)
    with _reader_connection() as reader:
        writer.start()
        assert built.wait(10)
        # The new rows are written, not yet swapped in: the old ones, all of them.
        assert _read(reader, network, period) == (rows, 1, old_time)
        go_on.set()
        assert swapped.wait(10)
        # Swapped, not committed: the read waits for the commit, then sees all the new rows.
        read = threading.Thread(target=lambda: seen.append(_read(reader, network, period)))
        read.start()
        waited = _waits_for_a_lock(reader.info.backend_pid)
        commit.set()
        writer.join(10)
        read.join(10)
    assert waited
    new_time = Result.objects.filter(network=network, period=period).values_list("computed_at", flat=True).first()
    assert new_time > old_time
    assert seen == [(rows, 1, new_time)]


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_stored_results(scope):
    network, period, _ = scope
    results_recompute(network=network, period=period)
    figures = _figures(network, period)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("comparisons")
    executor.migrate([("comparisons", "0003_result_mad")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'comparisons_result'::regclass")
        assert cursor.fetchone()[0] == "r"  # plain again, every row kept
    assert _figures(network, period) == figures

    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    assert partitions.partitioned()
    assert _figures(network, period) == figures
    assert _rows_in(partitions.leaf_table(network.pk, period.pk)) == len(figures)
    results_recompute(network=network, period=period)  # the migrated leaf is swapped as any other
    assert _figures(network, period) == figures


@pytest.mark.django_db(transaction=True)
def test_a_swap_that_cannot_get_its_lock_gives_up_and_leaves_the_old_results(scope, monkeypatch):
    network, period, submissions = scope
    results_recompute(network=network, period=period)
    before = _figures(network, period)
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "100ms")
    for submission in submissions.values():
        submission.values.filter(item__code="A").update(number=3)
    with _reader_connection() as reader:
        # A long read of the network (an export) holds its partition until it ends.
        with reader.transaction():
            reader.execute(
                "SELECT count(*) FROM comparisons_result WHERE network_id = %s AND period_id = %s",
                [network.pk, period.pk],
            )
            started = time.monotonic()
            with pytest.raises(OperationalError, match="lock timeout"):
                results_recompute(network=network, period=period)
            assert time.monotonic() - started < 5  # three tries of 100 ms, not the export's length
            assert _figures(network, period) == before
        results_recompute(network=network, period=period)  # the export is done: the retry swaps
    assert _figures(network, period) != before
