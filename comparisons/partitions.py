"""A scope's stored results replaced by swapping its partition: no row deleted, no dead rows.

What it is: on PostgreSQL `comparisons_result` is partitioned by network, each network's
partition by period, one leaf per scope (migration 0004). A full run of a scope builds the
scope's new leaf aside (`ScopeLeaf.create`: a table like the parent with no index, filled by
the same binary COPY), adds its primary key, municipality index and a CHECK of its bounds
(`ScopeLeaf.swap`: built once over all rows, and the CHECK lets ATTACH skip its validating
scan), then, in a savepoint under a short ``lock_timeout``, detaches and drops the old leaf and
attaches the new one. All of it inside the run's one transaction: readers see the old or the
new results, never half. See docs/architecture.md, "Replacing a scope without dead rows".

Rows written through the ORM for a scope (or network) that has no leaf yet land in a DEFAULT
partition; the scope's first full run moves what it keeps of them into its leaf and deletes
the rest, the network's first one moves the network's rows into the network's partition.

What it is not: no computing and no choice of path — `writing.results_write` calls this for a
full run on PostgreSQL only; incremental runs and SQLite delete and insert as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psycopg.errors
from django.db import OperationalError, connection, transaction

from .models import Result

PARENT = Result._meta.db_table
PARENT_DEFAULT = f"{PARENT}_default"
KEY = "network_id, period_id, peer_group, indicator_id, municipality_id"
MUNICIPALITY = "municipality_id, network_id, peer_group"  # the model's `result_municipality`

# The swap waits at most this long for a lock (readers of the network, another scope's swap)
# and is tried this many times; then the error goes up and the run's task retries later.
LOCK_TIMEOUT = "3s"
ATTEMPTS = 3
_RETRIED = (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected)


def network_table(network_id: int) -> str:
    return f"{PARENT}_{int(network_id)}"


def leaf_table(network_id: int, period_id: int) -> str:
    return f"{PARENT}_{int(network_id)}_{int(period_id)}"


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _exists(cursor, table: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
    return cursor.fetchone()[0]


def partitioned() -> bool:
    """Whether the results' table is partitioned (PostgreSQL after migration 0004)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
        row = cursor.fetchone()
    return bool(row and row[0])


def _columns() -> str:
    return ", ".join(_quoted(field.column) for field in Result._meta.local_concrete_fields)


class ScopeLeaf:
    """The partition of one scope (network, period) being built aside, then swapped in.

    Use inside the run's transaction: `create`, COPY into `building`, `keep` the rows of the
    peer groups the run does not recompute, then `swap`.
    """

    def __init__(self, network_id: int, period_id: int) -> None:
        self.network_id, self.period_id = int(network_id), int(period_id)
        self.leaf = leaf_table(self.network_id, self.period_id)
        self.building = f"{self.leaf}_new"

    def create(self) -> None:
        """The new leaf: the parent's columns, NOT NULLs and CHECKs (ATTACH needs them), no index."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {_quoted(self.building)} "
                f"(LIKE {_quoted(PARENT)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )

    def keep(self, peer_group_names: Sequence[str]) -> None:
        """Copy the old leaf's rows of every peer group but ``peer_group_names`` into the new one.

        Read from the leaf itself, not through the parent: no lock is taken on the network's
        partition before the swap, so two scopes of one network swapping at once queue behind
        each other instead of deadlocking.
        """
        with connection.cursor() as cursor:
            if _exists(cursor, self.leaf):
                self._keep_from(cursor, self.leaf, peer_group_names)

    def _keep_from(self, cursor, table: str, peer_group_names: Sequence[str], where: str = "TRUE") -> None:
        columns = _columns()
        cursor.execute(
            f"INSERT INTO {_quoted(self.building)} ({columns}) SELECT {columns} FROM {_quoted(table)} "  # noqa: S608  # nosec B608 - model columns, generated table names
            f"WHERE {where} AND NOT (peer_group = ANY(%s))",
            [list(peer_group_names)],
        )

    def swap(self, peer_group_names: Sequence[str] | None) -> None:
        """Index the new leaf, then put it in the old one's place (see the module's docstring)."""
        building = _quoted(self.building)
        with connection.cursor() as cursor:
            # Built once over all the rows, not maintained row by row. Named for the new table
            # and renamed with it in the swap (index names are unique in the schema).
            cursor.execute(
                f"ALTER TABLE {building} ADD CONSTRAINT {_quoted(self.building + '_pkey')} PRIMARY KEY ({KEY})"
            )
            cursor.execute(f"CREATE INDEX {_quoted(self.building + '_municipality')} ON {building} ({MUNICIPALITY})")
            # The partition's bound as a CHECK: ATTACH sees it is implied and skips its scan.
            cursor.execute(
                f"ALTER TABLE {building} ADD CONSTRAINT scope "
                f"CHECK (network_id = {self.network_id} AND period_id = {self.period_id})"
            )
            # Planner statistics before the leaf is seen: a new table has none until autovacuum
            # analyzes it, minutes later, and meanwhile the planner takes it for nearly empty —
            # an incremental run's DELETE then read the whole key instead of five probes
            # (130 ms instead of 5 at 10M). Before the swap, so it holds no lock a reader waits on.
            cursor.execute(f"ANALYZE {building}")
        under_lock_timeout(lambda cursor: self._swap(cursor, peer_group_names))

    def _swap(self, cursor, peer_group_names: Sequence[str] | None) -> None:
        network = network_table(self.network_id)
        if not _exists(cursor, network):
            network_partition_create(cursor, self.network_id)
        leaf, building = _quoted(self.leaf), _quoted(self.building)
        # First a lock on the network's partition that the network's other swaps also take
        # (DETACH: ACCESS EXCLUSIVE; a first leaf: SHARE ROW EXCLUSIVE, which readers pass): this
        # transaction held none on it before, so two swaps of a network queue, never deadlock.
        if _exists(cursor, self.leaf):
            cursor.execute(f"ALTER TABLE {_quoted(network)} DETACH PARTITION {leaf}")
            cursor.execute(f"DROP TABLE {leaf}")
        else:
            cursor.execute(f"LOCK TABLE ONLY {_quoted(network)} IN SHARE ROW EXCLUSIVE MODE")
        # Rows of this scope written through the ORM before it had a leaf: kept as the old
        # leaf's, then out of the default (ATTACH refuses a default holding the new bound's rows).
        network_default = _quoted(f"{network}_default")
        where = f"period_id = {self.period_id}"
        if peer_group_names is not None:
            self._keep_from(cursor, f"{network}_default", peer_group_names, where)
        cursor.execute(f"DELETE FROM {network_default} WHERE {where}")  # noqa: S608  # nosec B608 - integers
        cursor.execute(f"ALTER TABLE {building} RENAME TO {leaf}")
        cursor.execute(f"ALTER INDEX {_quoted(self.building + '_pkey')} RENAME TO {_quoted(self.leaf + '_pkey')}")
        cursor.execute(
            f"ALTER INDEX {_quoted(self.building + '_municipality')} RENAME TO {_quoted(self.leaf + '_municipality')}"
        )
        cursor.execute(f"ALTER TABLE {_quoted(network)} ATTACH PARTITION {leaf} FOR VALUES IN ({self.period_id})")


def network_partition_create(cursor, network_id: int) -> None:
    """The network's partition (by period, with a DEFAULT leaf), built aside and attached; the
    network's rows in the parent's DEFAULT partition move into it. Once per network."""
    network = network_table(network_id)
    # Serialises the runs of new networks (SHARE UPDATE EXCLUSIVE conflicts with itself, not
    # with reads or writes); another may have created it while this one waited.
    cursor.execute(f"LOCK TABLE ONLY {_quoted(PARENT)} IN SHARE UPDATE EXCLUSIVE MODE")
    if _exists(cursor, network):
        return
    table, columns = _quoted(network), _columns()
    cursor.execute(
        f"CREATE TABLE {table} (LIKE {_quoted(PARENT)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY LIST (period_id)"
    )
    cursor.execute(f"CREATE TABLE {_quoted(network + '_default')} PARTITION OF {table} DEFAULT")
    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {_quoted(network + '_pkey')} PRIMARY KEY ({KEY})")
    cursor.execute(f"CREATE INDEX {_quoted(network + '_municipality')} ON {table} ({MUNICIPALITY})")
    where = f"network_id = {int(network_id)}"
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_quoted(PARENT_DEFAULT)} WHERE {where}"  # noqa: S608  # nosec B608 - model columns, integers
    )
    cursor.execute(f"DELETE FROM {_quoted(PARENT_DEFAULT)} WHERE {where}")  # noqa: S608  # nosec B608 - integers
    cursor.execute(f"ALTER TABLE {_quoted(PARENT)} ATTACH PARTITION {table} FOR VALUES IN ({int(network_id)})")


def under_lock_timeout(work: Callable[[object], None]) -> None:
    """``work(cursor)`` in a savepoint with ``lock_timeout``: a swap waits seconds, not for a long
    export to end while the network's readers queue behind it. Tried `ATTEMPTS` times, then the
    database error goes up (an `OperationalError`: the run's task retries it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        (previous,) = cursor.fetchone()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
                work(cursor)
                # A setting made in a released savepoint lasts to the transaction's end.
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
            return
        except OperationalError as exc:
            if attempt == ATTEMPTS or not isinstance(exc.__cause__, _RETRIED):
                raise
