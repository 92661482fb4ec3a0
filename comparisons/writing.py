"""Writing a scope's stored results: its rows replaced in one transaction, composite and neighbours with them.

What it is: `results_write` stores the scope's new rows while `evaluation.Scope` computes them
batch by batch — a full run on PostgreSQL into the scope's new partition, swapped in for the old
one (`partitions`: no dead rows), otherwise after deleting the old rows (those indicators, or
all) — then replaces the composite index rows and the nearest neighbours. An incremental run
recomputes the composite only for the municipalities whose score on a recomputed index indicator
changed, and rewrites only the rows that differ. Readers see either the old or the new results. `_insert` picks the
bulk path: PostgreSQL's binary COPY (`pgcopy`), bulk_create elsewhere.

What it is not: no reads of values and no computing of figures (`services.scope_read` and
`evaluation` did those before; the reads here are an incremental run's: the other index
indicators' scores and the stored composite rows of the municipalities whose score changed),
and no run bookkeeping (`runs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from indicators.models import Period
from networks.models import Network

from . import partitions, pgcopy
from .engine import FIGURE_COLUMNS
from .evaluation import CHANGE_COLUMNS, Scope, row_changes
from .models import CompositeResult, Neighbour, Result
from .partitions import ScopeLeaf
from .selectors import pairs_condition, stored_composites, stored_peer_groups, stored_scores_of

# The engine's figures are the stored columns of the same names.
RESULT_FIGURES = FIGURE_COLUMNS
RESULT_FIELDS = [
    "network_id",
    "period_id",
    "indicator_id",
    "peer_group",
    "group_key",
    "municipality_id",
    "value",
    "missing_reason",
    *RESULT_FIGURES,
    *CHANGE_COLUMNS,
    "computed_at",
]


def _result_frame(network: Network, period: Period, stored: pd.DataFrame, now) -> pd.DataFrame:
    """The rows of `Result` as a frame whose columns are the model's field attnames."""
    frame = pd.DataFrame(
        {
            "network_id": network.pk,
            "period_id": period.pk,
            "indicator_id": stored["indicator_id"].astype("int64"),
            "peer_group": stored["peer_group"].astype(str),
            "group_key": stored["group_key"].astype(str),
            "municipality_id": stored["municipality_id"].astype("int64"),
            "value": stored["value"].astype("float64"),
            "missing_reason": stored["reason"].fillna("").astype(str).str.slice(0, 200),
        }
    )
    for column in (*RESULT_FIGURES, *CHANGE_COLUMNS):
        frame[column] = stored[column]
    frame["band"] = stored["band"].astype(object).where(stored["band"].notna(), "")
    frame["computed_at"] = now
    return frame[RESULT_FIELDS]


def results_write(
    *,
    scope: Scope,
    indicator_ids: Sequence[int] | None,
    peer_group_names: Sequence[str] | None,
) -> int:
    """Replace the scope's stored results (only ``indicator_ids`` and ``peer_group_names`` when
    given) with what ``scope`` computes; returns the number of rows written.

    In one transaction the old rows are replaced and the figures are computed batch by batch of
    indicators while COPY stores the previous batch (the database works while Python computes).
    A full run (``indicator_ids`` None) on PostgreSQL writes a new partition of the scope and
    swaps it in (`partitions.ScopeLeaf`); otherwise the old rows are deleted first.
    """
    network, period = scope.network, scope.period
    indicator_batches = scope.batches()
    scores: list[pd.DataFrame] = []
    composite: pd.DataFrame | None = None
    # A full run on PostgreSQL builds the scope's partition aside and swaps it in: no row is
    # deleted, so the nightly run leaves no dead rows (`partitions`, docs/architecture.md).
    leaf = ScopeLeaf(network.pk, period.pk) if indicator_ids is None and partitions.partitioned() else None
    with transaction.atomic():
        now = timezone.now()
        _asynchronous_commit()
        if leaf is None:
            _delete_old_results(network, period, indicator_ids, peer_group_names or scope.stored_groups)
        else:
            leaf.create()

        def batches() -> Iterable[pd.DataFrame]:
            nonlocal composite
            for batch in indicator_batches:
                stored = scope.figures(batch)
                if scope.weights:
                    scores.append(scope.composite_rows(stored))
                yield _result_frame(network, period, stored, now)
            # Asked for after the last batch went to the COPY: the composite is computed while
            # the server still stores those rows (a small run's write takes as long as this).
            # None when the scope has no index to compute (`Scope.weights`).
            if indicator_ids is None:
                composite = scope.composite(scores)

        written = _insert(
            Result,
            batches(),
            columns=RESULT_FIELDS,
            queued=len(indicator_batches) > 1,
            table=leaf.building if leaf else None,
        )
        pairs = None
        if indicator_ids is not None and scope.weights:
            # After the COPY (the connection is free again): the composite of the municipalities
            # whose score changed, with the stored scores of the index indicators not recomputed.
            pairs = scope.changed_pairs(scores)
            kept = stored_scores_of(
                network_id=network.pk, period_id=period.pk, indicator_ids=scope.index_kept, pairs=pairs
            )
            composite = scope.composite(scores, kept=kept, pairs=pairs)
        written += _replace_composite_and_neighbours(
            scope=scope, composite=composite, indicator_ids=indicator_ids, now=now, pairs=pairs
        )
        if leaf is not None:
            if peer_group_names is not None:
                leaf.keep(peer_group_names)
            # Last before the commit: the swap's lock on the network's partition, which its
            # readers wait for, is held for as short a time as possible.
            leaf.swap(peer_group_names)
    return written


def _insert(
    model,
    frames: pd.DataFrame | Iterable[pd.DataFrame],
    columns: Sequence[str] | None = None,
    queued: bool = True,
    table: str | None = None,
) -> int:
    """Bulk-write a frame, or frames with ``columns`` (columns = field attnames): COPY on
    PostgreSQL, bulk_create elsewhere. Returns the number of rows written. ``queued``: see
    `pgcopy.copy_frames` (a single frame given as a DataFrame is never queued); ``table``: a
    table with the model's columns to COPY into instead of the model's (PostgreSQL only)."""
    if isinstance(frames, pd.DataFrame):
        if frames.empty:
            return 0
        columns, frames, queued = list(frames.columns), [frames], False
    if connection.vendor == "postgresql":
        return pgcopy.copy_frames(model, frames, list(columns), queued=queued, table=table)
    written = 0
    for frame in frames:
        plain = frame.astype(object).where(frame.notna(), None)
        fields = list(frame.columns)
        objects = [model(**dict(zip(fields, row, strict=True))) for row in plain.itertuples(index=False, name=None)]
        model.objects.bulk_create(objects, batch_size=2000)
        written += len(objects)
    return written


def _delete_old_results(network: Network, period: Period, indicator_ids, peer_group_names) -> None:
    old = Result.objects.filter(network=network, period=period)
    if indicator_ids is not None:
        old = old.filter(indicator_id__in=list(indicator_ids))
        if peer_group_names is None:
            # Naming the groups lets the delete probe the primary key instead of reading the scope.
            peer_group_names = stored_peer_groups(network_id=network.pk, period_id=period.pk)
    if peer_group_names is not None:
        old = old.filter(peer_group__in=list(peer_group_names))
    old.delete()


def _replace_composite_and_neighbours(
    *,
    scope: Scope,
    composite: pd.DataFrame | None,
    indicator_ids: Sequence[int] | None,
    now,
    pairs: Sequence[tuple[str, int]] | None = None,
) -> int:
    network, period = scope.network, scope.period
    written = 0
    if composite is not None:
        rows = pd.DataFrame(
            {
                "network_id": network.pk,
                "period_id": period.pk,
                "peer_group": composite["peer_group"].astype(str),
                "group_key": composite["group_key"].astype(str),
                "municipality_id": composite["municipality"].astype("int64"),
                "index_value": composite["index_value"].astype("float64"),
                "coverage": composite["coverage"].astype("float64"),
                "computed_at": now,
            }
        )
        if indicator_ids is None:
            CompositeResult.objects.filter(network=network, period=period).delete()
        else:
            rows = _composite_changes_only(network, period, rows, pairs)
        written += _insert(CompositeResult, rows)
    elif indicator_ids is None:
        CompositeResult.objects.filter(network=network, period=period).delete()
    if indicator_ids is None and scope.nearest_group:
        Neighbour.objects.filter(network=network, period=period).delete()
        neighbours = pd.DataFrame(
            scope.neighbour_rows, columns=["municipality_id", "neighbour_id", "position", "contributions"]
        )
        neighbours.insert(0, "peer_group", scope.nearest_group)
        neighbours.insert(0, "period_id", period.pk)
        neighbours.insert(0, "network_id", network.pk)
        _insert(Neighbour, neighbours)
    return written


def _composite_changes_only(
    network: Network, period: Period, rows: pd.DataFrame, pairs: Sequence[tuple[str, int]] | None = None
) -> pd.DataFrame:
    """The composite rows of an incremental run that differ from the stored ones; the stored
    rows they replace, and those no longer computed, are deleted. With ``pairs`` (peer group,
    municipality id) only those were computed: other stored rows stay as they are.

    A change of one value moves one municipality's index in most runs (a score is scaled between
    the group's best and worst, which rarely move), so rewriting the scope's thousands of
    unchanged rows cost more than the rest of the composite. An unchanged row keeps its
    ``computed_at`` (when its index last changed). Equal means the same group key and
    bit-identical figures (`evaluation.same_floats`).
    """
    if pairs is not None and not pairs:
        return rows.iloc[:0]
    stored = stored_composites(network=network, period=period, pairs=pairs)
    changed, gone = row_changes(
        stored, rows, keys=["peer_group", "municipality_id"], texts=["group_key"], floats=["index_value", "coverage"]
    )
    # The stored rows replaced (a changed row's pair; deleting a pair not stored is harmless)
    # and those no longer computed.
    stale = set(zip(rows["peer_group"][changed], rows["municipality_id"][changed].astype(int), strict=True))
    stale |= set(zip(stored["peer_group"][gone], stored["municipality_id"][gone].astype(int), strict=True))
    if stale:
        CompositeResult.objects.filter(pairs_condition(stale), network=network, period=period).delete()
    return rows[changed]


def _asynchronous_commit() -> None:
    """Results are derived data: their transaction need not wait for its WAL flush. The run's
    `done` is committed after it (synchronously), which flushes this transaction's WAL too."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
