"""Writing stored results: compute one network/period with the engine and replace it atomically.

`results_recompute` is the whole pipeline for one scope: one selector query of approved values
into a DataFrame, vectorised figures (`engine`), and one transaction that deletes the scope's
old rows and bulk-writes the new ones (COPY on PostgreSQL, bulk_create elsewhere).

`recompute_request` / `recompute_run_execute` are the run bookkeeping around it: requests for
a scope coalesce into one pending run, and a scope lock keeps two runs from computing at once.
"""

from __future__ import annotations

import datetime
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg.copy import LibpqWriter, QueuedLibpqWriter

from indicators.models import Indicator, NetworkIndicator, Period
from networks.imports import ImportReport
from networks.models import Municipality, Network
from networks.tabular import ImportFailed, RowError, Table

from . import engine, peer_groups
from .models import CompositeResult, Neighbour, PeerGroup, PeerGroupMember, RecomputeRun, Result, ScopeLock
from .selectors import (
    SCORE_COLUMNS,
    approved_submissions,
    approved_submissions_frame,
    approved_values_frame,
    deduplicate_values,
    evaluate_indicators,
    indicator_formula,
    network_indicators,
    previous_period,
    stored_peer_groups,
    stored_scores_reading,
    wide_items,
)

Progress = Callable[[int], None]
logger = logging.getLogger(__name__)

RESULT_FIGURES = ("n", "mean", "median", "q1", "q3", "min", "max", "std", "rank", "percentile", "band", "z", "score")
CHANGE_COLUMNS = Result.CHANGE_FIELDS


def nearest_context_items() -> list[str]:
    """Data item codes (or municipality attribute names) the nearest-neighbour groups use."""
    return list(getattr(settings, "COMPARISON_NEAREST_CONTEXT", ("POPULATION", "area_km2")))


def nearest_default_k() -> int:
    return int(getattr(settings, "COMPARISON_NEAREST_K", 5))


def lock_stale_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(getattr(settings, "COMPARISON_LOCK_STALE_SECONDS", 600)))


@dataclass
class ScopeResults:
    """What one computation of a scope produced, before it is written."""

    results: pd.DataFrame
    composite: pd.DataFrame | None
    neighbours: list[tuple[int, int, int, dict]] = field(default_factory=list)  # focal, other, position, shares
    peer_groups: list[str] = field(default_factory=list)
    nearest_group: str | None = None


def _municipality_frame(ids) -> pd.DataFrame:
    """`ids`: a list of ids or a subquery of them (no statement with hundreds of parameters)."""
    rows = list(
        Municipality.objects.filter(pk__in=ids if isinstance(ids, QuerySet) else list(ids)).values_list(
            "pk", "code", "kind", "region", "attributes"
        )
    )
    frame = pd.DataFrame.from_records(rows, columns=["id", "code", "kind", "region", "attributes"])
    return frame.set_index("id")


def default_peer_groups(
    *, municipalities: pd.DataFrame, focal_ids: set[int], focal_query: QuerySet | None = None
) -> list[str]:
    """`network`, `all`, `kind`, `region`, every grouping attribute, every custom group with a
    focal member, and `nearest:K` with the default K (see the README section "Peer groups").
    ``focal_query``: the focal ids as a subquery, for the custom groups' query."""
    names = list(peer_groups.FIXED_PEER_GROUPS)
    configured = getattr(settings, "COMPARISON_ATTRIBUTES", None)
    attributes = (
        list(configured) if configured is not None else peer_groups.grouping_attributes(municipalities, focal_ids)
    )
    names += [f"attr:{name}" for name in attributes]
    focal = focal_query if focal_query is not None else list(focal_ids)
    custom = PeerGroup.objects.filter(members__municipality_id__in=focal).distinct().order_by("name")
    names += [f"custom:{name}" for name in custom.values_list("name", flat=True)]
    names.append(f"nearest:{nearest_default_k()}")
    return names


def results_compute(
    *,
    network: Network,
    period: Period,
    indicators: Sequence[Indicator],
    peer_group_names: Sequence[str] | None = None,
    composite: bool = True,
    reuse_neighbours: bool = False,
    progress: Progress | None = None,
) -> ScopeResults:
    """Every stored figure of the scope (for ``indicators``), computed but not written."""
    scope = _scope_prepare(
        network=network,
        period=period,
        indicators=indicators,
        peer_group_names=peer_group_names,
        composite=composite,
        reuse_neighbours=reuse_neighbours,
        progress=progress,
    )
    stored = scope.figures([indicator.pk for indicator in scope.indicators])
    composite_frame = scope.composite([stored]) if composite else None
    (progress or (lambda _percent: None))(80)
    return ScopeResults(
        results=stored,
        composite=composite_frame,
        neighbours=scope.neighbour_rows,
        peer_groups=scope.names,
        nearest_group=scope.nearest_group,
    )


@dataclass
class _Scope:
    """Everything read for one scope's computation; figures are computed from it per indicator
    batch (`figures`) without another query, so a write can stream them (`results_recompute`)."""

    network: Network
    period: Period
    previous: Period | None
    indicators: list[Indicator]
    names: list[str]
    network_ids: set[int]
    long: pd.DataFrame  # evaluated indicators of the period, every reporting municipality
    before: pd.DataFrame | None  # evaluated indicators of the previous period, the network's municipalities
    members: list[tuple[str, pd.DataFrame]]
    polarity: dict[int, str]
    neighbour_rows: list[tuple[int, int, int, dict]]
    nearest_group: str | None
    weights: dict[int, float] | None = None  # index weights; None: no composite
    kept: pd.DataFrame | None = None  # stored scores of the index indicators not recomputed

    def batches(self, rows: int = 50_000) -> list[list[int]]:
        """Indicator ids in batches of about ``rows`` stored rows (groups never span indicators)."""
        per_indicator = max(1, sum(int(members["focal"].sum()) for _name, members in self.members))
        size = max(1, rows // per_indicator)
        ids = [indicator.pk for indicator in self.indicators]
        return [ids[start : start + size] for start in range(0, len(ids), size)] or [[]]

    def figures(self, indicator_ids: Sequence[int]) -> pd.DataFrame:
        """The stored rows (focal municipalities) of these indicators in every peer group."""
        wanted = list(indicator_ids)
        long = self.long if len(wanted) == len(self.indicators) else self.long[self.long["indicator_id"].isin(wanted)]
        frames = []
        for name, members in self.members:
            if not members.empty and not long.empty:
                frame = long.merge(members, on="municipality_id", how="inner")
                frame["peer_group"] = name
                frames.append(frame)
        if frames:
            frame = pd.concat(frames, ignore_index=True)
        else:
            frame = pd.DataFrame(
                columns=[
                    "indicator_id",
                    "value",
                    "reason",
                    *peer_groups.MEMBERSHIP_COLUMNS,
                    "peer_group",
                ]
            )
        frame["indicator"] = frame["indicator_id"]
        frame["municipality"] = frame["municipality_id"]
        frame["period"] = self.period.pk
        frame["polarity"] = frame["indicator_id"].map(self.polarity)
        figures = engine.compute_figures(frame)
        stored = figures[figures["focal"].astype(bool)].reset_index(drop=True)
        return _with_changes(stored, long, self.before, self.network_ids, self.period, self.previous, self.polarity)

    def composite_rows(self, stored: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``stored`` the composite needs: the index indicators' scores, and one
        indicator's rows for the groups themselves (every indicator has the same municipalities
        and groups; an index without any index indicator still gets its row, with coverage 0)."""
        if stored.empty or not self.weights:
            return stored[SCORE_COLUMNS]
        indicator = stored["indicator_id"]
        return stored.loc[indicator.isin(list(self.weights)) | (indicator == indicator.iloc[0]), SCORE_COLUMNS]

    def composite(self, stored: Sequence[pd.DataFrame]) -> pd.DataFrame | None:
        """Composite index per municipality and peer group over the network's index indicators.

        For an incremental run the scores of the index indicators not recomputed come from the
        stored results (`kept`, read with the rest), so the index covers the whole indicator set.
        """
        if not self.weights:
            return None
        scores = [self.composite_rows(frame) for frame in stored]
        if self.kept is not None:
            scores.append(self.kept)
        scores = pd.concat(scores, ignore_index=True)
        scores = scores.rename(columns={"municipality_id": "municipality", "indicator_id": "indicator"})
        scores["period"] = self.period.pk
        scores["score"] = pd.to_numeric(scores["score"], errors="coerce").astype("float64")
        # The engine keys indicators by text. Each id is formatted once and the column is plain
        # objects: `astype(str)` and the engine's lookups on pandas' string dtype cost more than
        # the rest of the composite on a scope's ~50,000 scores.
        positions, indicator_ids = pd.factorize(scores["indicator"])
        texts = np.array([str(indicator_id) for indicator_id in indicator_ids], dtype=object)
        scores["indicator"] = pd.Series(texts[positions], index=scores.index, dtype=object)
        # A municipality's index is one row per peer group; nearest:K has one group per focal.
        return engine.compute_composite(scores, {str(key): value for key, value in self.weights.items()})


def _scope_prepare(
    *,
    network: Network,
    period: Period,
    indicators: Sequence[Indicator],
    peer_group_names: Sequence[str] | None,
    composite: bool,
    reuse_neighbours: bool,
    progress: Progress | None,
) -> _Scope:
    """Every read of a scope's computation (values, peer groups, neighbours, kept scores)."""
    report = progress or (lambda _percent: None)
    indicators = list(indicators)
    previous = previous_period(period)
    period_ids = [period.pk] + ([previous.pk] if previous else [])
    # Only values allowed to enter the network's computation (its own approved ones; other
    # networks' once published and public), as the populations and every value read below.
    approved = approved_submissions(network_id=network.pk, period_ids=period_ids)
    # Read once: who reports (the populations) and, for the values, each submission's scope.
    submissions = approved_submissions_frame(period_ids=period_ids, network_id=network.pk)
    reporting = submissions[["network_id", "period_id", "municipality_id"]].itertuples(index=False, name=None)
    network_ids: set[int] = set()
    all_ids: set[int] = set()
    for network_id, period_id, municipality_id in reporting:
        if period_id == period.pk:
            all_ids.add(municipality_id)
            if network_id == network.pk:
                network_ids.add(municipality_id)
    municipalities = _municipality_frame(approved.filter(round__period_id=period.pk).values("municipality_id"))
    names = list(
        peer_group_names
        or default_peer_groups(
            municipalities=municipalities,
            focal_ids=network_ids,
            focal_query=approved.filter(round__network_id=network.pk, round__period_id=period.pk).values(
                "municipality_id"
            ),
        )
    )

    codes: set[str] = set(nearest_context_items())
    for indicator in indicators:
        codes |= indicator_formula(indicator).codes
    values = deduplicate_values(
        approved_values_frame(period_ids=period_ids, network_id=network.pk, item_codes=codes, submissions=submissions),
        network_id=network.pk,
    )
    report(10)

    custom: dict[str, set[int]] = {}
    for name, municipality_id in PeerGroup.objects.filter(
        name__in=[n[len("custom:") :] for n in names if n.startswith("custom:")]
    ).values_list("name", "members__municipality_id"):
        if municipality_id is not None:
            custom.setdefault(name, set()).add(municipality_id)
    nearest_group = next((n for n in names if n.startswith("nearest:")), None)
    stored_neighbours = (
        _stored_neighbours(network, period, nearest_group) if nearest_group and reuse_neighbours else None
    )
    weights = _index_weights(network) if composite else None
    others = sorted(set(weights or ()) - {indicator.pk for indicator in indicators})

    # The last read, the kept scores of an incremental run, is sent before the values are
    # evaluated and the groups built: the server reads while Python computes (no query below).
    with (
        stored_scores_reading(network_id=network.pk, period_id=period.pk, indicator_ids=others)
        if others
        else nullcontext(lambda: None)
    ) as kept:
        wide = wide_items(values, period.pk).reindex(sorted(all_ids))
        long = evaluate_indicators(wide, indicators)
        before = None
        if previous is not None:
            before_wide = wide_items(values, previous.pk).reindex(sorted(network_ids))
            before = evaluate_indicators(before_wide, indicators)
        polarity = {indicator.pk: indicator.polarity for indicator in indicators}

        neighbours: dict[int, list[int]] = {}
        neighbour_rows: list[tuple[int, int, int, dict]] = []
        if stored_neighbours:
            # An incremental run keeps the last full run's neighbours: a change of a context item
            # triggers a full run (triggers.results_stale), so they are still right.
            neighbours = stored_neighbours
        elif nearest_group:
            context = peer_groups.context_frame(
                municipalities=municipalities, wide_items=wide, variables=nearest_context_items()
            )
            neighbours, shares = peer_groups.nearest(context, focal_ids=network_ids, k=int(nearest_group.split(":")[1]))
            for focal_id, near in neighbours.items():
                for position, other in enumerate(near, start=1):
                    neighbour_rows.append((focal_id, other, position, shares[(focal_id, other)]))

        members = [
            (
                name,
                peer_groups.membership(
                    name,
                    municipalities=municipalities,
                    focal_ids=network_ids,
                    network_code=network.code,
                    network_ids=network_ids,
                    custom=custom,
                    neighbours=neighbours if name == nearest_group else None,
                ),
            )
            for name in names
        ]
        kept_scores = kept()
    report(40)
    return _Scope(
        network=network,
        period=period,
        previous=previous,
        indicators=indicators,
        names=names,
        network_ids=network_ids,
        long=long,
        before=before,
        members=members,
        polarity=polarity,
        neighbour_rows=neighbour_rows,
        nearest_group=nearest_group,
        weights=weights,
        kept=kept_scores,
    )


def _index_weights(network: Network) -> dict[int, float] | None:
    """The weights of the network's index indicators; None when there is no index to compute."""
    weights = {
        indicator_id: float(weight)
        for indicator_id, weight in NetworkIndicator.objects.filter(
            network=network, indicator__in_index=True
        ).values_list("indicator_id", "indicator__weight")
    }
    return weights if weights and sum(weights.values()) > 0 else None


def _stored_neighbours(network: Network, period: Period, peer_group: str) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for focal, other in (
        Neighbour.objects.filter(network=network, period=period, peer_group=peer_group)
        .order_by("municipality_id", "position")
        .values_list("municipality_id", "neighbour_id")
    ):
        found.setdefault(focal, []).append(other)
    return found


def _with_changes(stored, long, before, network_ids, period, previous, polarity) -> pd.DataFrame:
    for column in CHANGE_COLUMNS:
        stored[column] = np.nan if column != "improved" else None
    if previous is None or before is None or stored.empty:
        return stored
    current = long[long["municipality_id"].isin(network_ids)].assign(period=period.label)
    before = before[before["indicator_id"].isin(current["indicator_id"].unique())].assign(period=previous.label)
    both = pd.concat([current, before], ignore_index=True)
    both["indicator"] = both["indicator_id"]
    both["municipality"] = both["municipality_id"]
    both["polarity"] = both["indicator_id"].map(polarity)
    changes = engine.compute_changes(both, [previous.label, period.label])
    changes = changes[changes["period"] == period.label][["indicator_id", "municipality_id", *CHANGE_COLUMNS]]
    stored = stored.drop(columns=list(CHANGE_COLUMNS)).merge(
        changes, on=["indicator_id", "municipality_id"], how="left"
    )
    return stored


# --- writing ---------------------------------------------------------------------------------

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


# Django column types -> the names psycopg's binary COPY dumpers know.
_COPY_TYPES = {
    "double precision": "float8",
    "integer": "int4",
    "bigint": "int8",
    "smallint": "int2",
    "boolean": "bool",
    "timestamp with time zone": "timestamptz",
    "text": "text",
    "jsonb": "jsonb",
}


def _column_values(series: pd.Series, copy_type: str) -> list:
    """One column as Python values with None for missing (binary COPY writes NaN as NaN)."""
    if copy_type == "float8":
        array = series.to_numpy(dtype=np.float64, na_value=np.nan)
        values = array.astype(object)
        values[np.isnan(array)] = None
        return values.tolist()
    if copy_type in ("int2", "int4", "int8"):
        present = series.notna().to_numpy()
        array = series.to_numpy(dtype=np.float64, na_value=np.nan) if not present.all() else series.to_numpy()
        values = np.full(len(series), None, dtype=object)
        values[present] = array[present].astype(np.int64).tolist()
        return values.tolist()
    if copy_type == "jsonb":
        from psycopg.types.json import Jsonb

        return [None if value is None else Jsonb(value) for value in series.tolist()]
    return series.astype(object).where(series.notna(), None).tolist()


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
_COPY_TRAILER = b"\xff\xff"
_COPY_WIDTHS = {"float8": 8, "int8": 8, "int4": 4, "int2": 2, "bool": 1, "timestamptz": 8}
# Rows encoded at a time: bounds the memory of the byte matrix (rows x widest row).
_COPY_CHUNK_ROWS = 50_000
_PG_EPOCH_MICROSECONDS = 946_684_800_000_000  # 2000-01-01 UTC in microseconds since 1970


_BIG_ENDIAN = {"float8": ">f8", "int8": ">i8", "int4": ">i4", "int2": ">i2", "bool": "u1", "timestamptz": ">i8"}


def _copy_cells(series: pd.Series, copy_type: str) -> tuple[np.ndarray, np.ndarray, int]:
    """One column's cells of the binary COPY format.

    A cell is its length as a big-endian int32 (-1 for NULL) then its bytes. Returns the payload
    bytes (rows x widest payload), each row's length (-1 for NULL) and the widest payload.
    NaN / None / NA are NULL, as psycopg's write_row made them.
    """
    size = len(series)
    present = series.notna().to_numpy()
    if copy_type in ("text", "varchar"):
        codes, uniques = pd.factorize(series.where(present, None), use_na_sentinel=True)
        encoded = [str(value).encode() for value in uniques]
        longest = max((len(value) for value in encoded), default=0)
        table = np.zeros((len(encoded) + 1, longest), dtype=np.uint8)  # last row: NULL
        for position, value in enumerate(encoded):
            table[position, : len(value)] = np.frombuffer(value, dtype=np.uint8)
        widths = np.array([len(value) for value in encoded] + [-1], dtype=np.int64)
        codes = np.where(codes < 0, len(encoded), codes)
        return table[codes], widths[codes], longest
    width = _COPY_WIDTHS[copy_type]
    if copy_type == "float8":
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
    elif copy_type == "bool":
        numbers = series.where(present, False).to_numpy(dtype=bool)
    elif copy_type == "timestamptz":
        stamps = pd.to_datetime(series, utc=True).dt.as_unit("us")
        numbers = stamps.astype("int64").to_numpy() - _PG_EPOCH_MICROSECONDS
    else:
        numbers = series.to_numpy(dtype=np.int64, na_value=0)
    payload = np.ascontiguousarray(numbers.astype(_BIG_ENDIAN[copy_type])).view(np.uint8).reshape(size, width)
    lengths = np.where(present, width, -1) if not present.all() else np.full(size, width, dtype=np.int64)
    return payload, lengths, width


def _copy_data(columns: list[tuple[pd.Series, str]]) -> Iterable[bytes]:
    """The rows of the binary COPY format, in chunks, built with numpy (no Python loop per row).

    Each chunk is a (rows x widest row) byte matrix of every column's cells side by side and a
    mask of the bytes that are real (a NULL or a shorter text uses fewer than the widest); the
    masked matrix, read row by row, is the COPY stream.
    """
    size = len(columns[0][0]) if columns else 0
    field_count = np.array([len(columns)], dtype=">i2").view(np.uint8)
    for begin in range(0, size, _COPY_CHUNK_ROWS):
        stop = min(begin + _COPY_CHUNK_ROWS, size)
        rows = stop - begin
        cells = [_copy_cells(series.iloc[begin:stop], copy_type) for series, copy_type in columns]
        matrix = np.empty((rows, 2 + sum(4 + width for _payload, _lengths, width in cells)), dtype=np.uint8)
        keep = np.ones(matrix.shape, dtype=bool)
        matrix[:, :2] = field_count
        offset = 2
        for payload, lengths, width in cells:
            matrix[:, offset : offset + 4] = lengths.astype(">i4").view(np.uint8).reshape(rows, 4)
            start = offset + 4
            if width:
                matrix[:, start : start + width] = payload
                short = lengths < width
                if short.any():
                    keep[short, start : start + width] = np.arange(width)[np.newaxis, :] < lengths[short, np.newaxis]
            offset = start + width
        yield matrix[keep].tobytes()


def _copy_types(model, names: Sequence[str]) -> tuple[list, list[str]]:
    model_fields = [model._meta.get_field(name.removesuffix("_id")) for name in names]
    types = []
    for model_field in model_fields:
        db_type = (
            model_field.target_field.rel_db_type(connection)
            if model_field.is_relation
            else model_field.db_type(connection)
        )
        types.append("varchar" if db_type.startswith("varchar") else _COPY_TYPES[db_type])
    return model_fields, types


def _copy_frames(model, frames: Iterable[pd.DataFrame], columns: Sequence[str], queued: bool = True) -> int:
    """PostgreSQL fast path: the frames in one binary COPY, inside the current transaction.

    Binary, because formatting millions of floats as text costs more than the rest of a run;
    floats go over as IEEE doubles, so not a bit is lost. The stream is built with numpy
    (`_copy_data`) and sent by psycopg's writer thread, so the server stores one batch while
    the next is computed (the frames may be a generator; it must not query the database: the
    connection is busy with the COPY). Frames with a JSON column go row by row through psycopg.

    ``queued=False``: sent by this thread as it is built, for a single frame — there is no next
    one to compute meanwhile, and the writer thread would wait for the GIL while this thread
    computes whatever follows (the generator's tail), delaying the server by milliseconds.
    """
    model_fields, types = _copy_types(model, list(columns))
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(model_field.column) for model_field in model_fields)
    statement = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"  # identifiers: model metadata
    written = 0
    with connection.cursor() as cursor:
        if "jsonb" in types:
            with cursor.cursor.copy(statement) as copy:
                copy.set_types(types)
                for frame in frames:
                    values = [
                        _column_values(frame[name], copy_type) for name, copy_type in zip(columns, types, strict=True)
                    ]
                    for row in zip(*values, strict=True):
                        copy.write_row(row)
                    written += len(frame)
            return written
        writer = QueuedLibpqWriter(cursor.cursor) if queued else LibpqWriter(cursor.cursor)
        with cursor.cursor.copy(statement, writer=writer) as copy:
            copy.write(_COPY_SIGNATURE)
            for frame in frames:
                for chunk in _copy_data(
                    [(frame[name], copy_type) for name, copy_type in zip(columns, types, strict=True)]
                ):
                    copy.write(chunk)
                written += len(frame)
            copy.write(_COPY_TRAILER)
    return written


def _insert(
    model, frames: pd.DataFrame | Iterable[pd.DataFrame], columns: Sequence[str] | None = None, queued: bool = True
) -> int:
    """Bulk-write a frame, or frames with ``columns`` (columns = field attnames): COPY on
    PostgreSQL, bulk_create elsewhere. Returns the number of rows written. ``queued``: see
    `_copy_frames` (a single frame given as a DataFrame is never queued)."""
    if isinstance(frames, pd.DataFrame):
        if frames.empty:
            return 0
        columns, frames, queued = list(frames.columns), [frames], False
    if connection.vendor == "postgresql":
        return _copy_frames(model, frames, list(columns), queued=queued)
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
    *, network: Network, period: Period, computed: ScopeResults, indicator_ids, now
) -> int:
    written = 0
    if computed.composite is not None:
        composite = computed.composite
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
            rows = _composite_changes_only(network, period, rows)
        written += _insert(CompositeResult, rows)
    elif indicator_ids is None:
        CompositeResult.objects.filter(network=network, period=period).delete()
    if indicator_ids is None and computed.nearest_group:
        Neighbour.objects.filter(network=network, period=period).delete()
        neighbours = pd.DataFrame(
            computed.neighbours, columns=["municipality_id", "neighbour_id", "position", "contributions"]
        )
        neighbours.insert(0, "peer_group", computed.nearest_group)
        neighbours.insert(0, "period_id", period.pk)
        neighbours.insert(0, "network_id", network.pk)
        _insert(Neighbour, neighbours)
    return written


def _composite_changes_only(network: Network, period: Period, rows: pd.DataFrame) -> pd.DataFrame:
    """The composite rows of an incremental run that differ from the stored ones; the stored
    rows they replace, and those no longer computed, are deleted.

    A change of one value moves one municipality's index in most runs (a score is scaled between
    the group's best and worst, which rarely move), so rewriting the scope's thousands of
    unchanged rows cost more than the rest of the composite. An unchanged row keeps its
    ``computed_at`` (when its index last changed). Equal means the same group key and
    bit-identical figures (`_same_float`).
    """
    stored = {
        (peer_group, municipality_id): (group_key, index_value, coverage)
        for peer_group, municipality_id, group_key, index_value, coverage in CompositeResult.objects.filter(
            network=network, period=period
        ).values_list("peer_group", "municipality_id", "group_key", "index_value", "coverage")
    }
    changed = np.zeros(len(rows), dtype=bool)
    replaced: list[tuple[str, int]] = []
    for position, (peer_group, municipality_id, group_key, index_value, coverage) in enumerate(
        zip(
            rows["peer_group"].tolist(),
            rows["municipality_id"].tolist(),
            rows["group_key"].tolist(),
            rows["index_value"].tolist(),
            rows["coverage"].tolist(),
            strict=True,
        )
    ):
        old = stored.pop((peer_group, municipality_id), None)
        if old is None:
            changed[position] = True
        elif old[0] != group_key or not _same_float(old[1], index_value) or not _same_float(old[2], coverage):
            changed[position] = True
            replaced.append((peer_group, municipality_id))
    stale: dict[str, list[int]] = {}
    for peer_group, municipality_id in [*replaced, *stored]:  # what is left in `stored`: gone
        stale.setdefault(peer_group, []).append(municipality_id)
    if stale:
        condition = Q()
        for peer_group, municipality_ids in stale.items():
            condition |= Q(peer_group=peer_group, municipality_id__in=municipality_ids)
        CompositeResult.objects.filter(condition, network=network, period=period).delete()
    return rows[changed]


def _same_float(old: float | None, new: float) -> bool:
    """Bit-identical as stored: both NULL (None / NaN), or equal with the same sign (0.0, -0.0)."""
    if old is None or math.isnan(old):
        return math.isnan(new)
    return old == new and math.copysign(1.0, old) == math.copysign(1.0, new)


def _asynchronous_commit() -> None:
    """Results are derived data: their transaction need not wait for its WAL flush. The run's
    `done` is committed after it (synchronously), which flushes this transaction's WAL too."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


@transaction.atomic
def results_replace(
    *,
    network: Network,
    period: Period,
    computed: ScopeResults,
    indicator_ids: Sequence[int] | None,
    peer_group_names: Sequence[str] | None = None,
) -> int:
    """Delete the scope's old rows (those indicators, or all) and write the new ones, atomically."""
    now = timezone.now()
    _asynchronous_commit()
    _delete_old_results(network, period, indicator_ids, peer_group_names)
    written = _insert(Result, _result_frame(network, period, computed.results, now))
    return written + _replace_composite_and_neighbours(
        network=network, period=period, computed=computed, indicator_ids=indicator_ids, now=now
    )


def results_recompute(
    *,
    network: Network,
    period: Period,
    indicator_ids: Sequence[int] | None = None,
    peer_group_names: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Recompute the stored results of one network/period (only ``indicator_ids`` when given).

    Every read happens before the write transaction. In it the old rows are deleted and the
    figures are computed batch by batch of indicators while COPY stores the previous batch
    (the database works while Python computes); readers see either the old or the new
    results. Returns the number of rows written.
    """
    for name in peer_group_names or ():
        peer_groups.check_peer_group(name)
    indicators = network_indicators(network=network, period=period, indicator_ids=indicator_ids)
    index_ids = {i.pk for i in indicators if i.in_index}
    composite = indicator_ids is None or bool(index_ids) or not indicators
    scope = _scope_prepare(
        network=network,
        period=period,
        indicators=indicators,
        peer_group_names=peer_group_names,
        composite=composite,
        reuse_neighbours=indicator_ids is not None,
        progress=progress,
    )
    indicator_batches = scope.batches()
    scores: list[pd.DataFrame] = []
    composite_frame: pd.DataFrame | None = None
    with transaction.atomic():
        now = timezone.now()
        _asynchronous_commit()
        _delete_old_results(network, period, indicator_ids, peer_group_names)

        def batches() -> Iterable[pd.DataFrame]:
            nonlocal composite_frame
            for batch in indicator_batches:
                stored = scope.figures(batch)
                if scope.weights:
                    scores.append(scope.composite_rows(stored))
                yield _result_frame(network, period, stored, now)
            # Asked for after the last batch went to the COPY: the composite is computed while
            # the server still stores those rows (a small run's write takes as long as this).
            if composite:
                composite_frame = scope.composite(scores)

        written = _insert(Result, batches(), columns=RESULT_FIELDS, queued=len(indicator_batches) > 1)
        computed = ScopeResults(
            results=pd.DataFrame(),
            composite=composite_frame,
            neighbours=scope.neighbour_rows,
            peer_groups=scope.names,
            nearest_group=scope.nearest_group,
        )
        written += _replace_composite_and_neighbours(
            network=network, period=period, computed=computed, indicator_ids=indicator_ids, now=now
        )
    if progress:
        progress(95)
    return written


# --- runs: coalescing, the scope lock, bookkeeping ------------------------------------------------


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
                    _enqueue(pending.pk)  # its task was lost (broker down when requested): send again
                return pending
            try:
                with transaction.atomic():
                    run = RecomputeRun.objects.create(
                        network=network, period=period, indicator_ids=ids, reason=reason[:100]
                    )
            except IntegrityError:
                continue  # another request created the pending run meanwhile: merge into it
            if enqueue:
                _enqueue(run.pk)
            return run
    raise RuntimeError("could not create or find the pending recompute run")


def _scope_lock(*, network_id: int, period_id: int) -> ScopeLock:
    """The scope's lock row, locked until the end of the transaction; created the first time
    (one query when it exists, as it does after a scope's first run)."""
    scope = {"network_id": network_id, "period_id": period_id}
    lock = ScopeLock.objects.select_for_update().filter(**scope).first()
    if lock is None:
        ScopeLock.objects.get_or_create(**scope)  # two first requests: one creates, one finds it
        lock = ScopeLock.objects.select_for_update().get(**scope)
    return lock


def _enqueue(run_id: int) -> None:
    def send() -> None:
        from .tasks import recompute_run_task

        try:
            recompute_run_task.delay(run_id)
        except Exception:  # broker down: the run stays pending; the nightly sweep sends it again
            if getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
                raise
            logger.exception("could not enqueue recompute run %s", run_id)

    transaction.on_commit(send)


class ScopeBusy(Exception):
    """Another run of the same network/period is computing; try again later."""


# Progress and heartbeat are written at most this often: a short run writes none but its end.
PROGRESS_INTERVAL_SECONDS = 0.5


def _progress_writer(run: RecomputeRun) -> Progress:
    last = [time.monotonic()]

    def write(percent: int) -> None:
        if time.monotonic() - last[0] < PROGRESS_INTERVAL_SECONDS:
            return
        last[0] = time.monotonic()
        now = timezone.now()
        RecomputeRun.objects.filter(pk=run.pk).update(progress=min(max(percent, 0), 100))
        ScopeLock.objects.filter(network_id=run.network_id, period_id=run.period_id, run=run).update(heartbeat=now)

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
        now = timezone.now()
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
    from indicators.models import Round

    rounds = Round.objects.select_related("network", "period").order_by("network__code", "period__start")
    if network is not None:
        rounds = rounds.filter(network=network)
    if period is not None:
        rounds = rounds.filter(period=period)
    return [(round_.network, round_.period) for round_ in rounds]


# --- custom peer groups ------------------------------------------------------------------------

PEER_GROUP_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")


@transaction.atomic
def peer_groups_import(*, table: Table) -> ImportReport:
    """`group,municipality_code`: each group named in the file gets exactly the listed members.

    All or nothing: any bad row (empty or invalid group name, unknown municipality, a member
    listed twice) writes nothing and every bad row is reported with its line number. Groups not
    in the file are left alone; re-importing the same file changes nothing.
    """
    errors: list[RowError] = []
    known = dict(Municipality.objects.values_list("code", "pk"))
    wanted: dict[str, set[int]] = {}
    seen: dict[tuple[str, str], int] = {}
    for row in table.rows:
        name, code = row.get("group"), row.get("municipality_code")
        if not name:
            errors.append(RowError(row.line, _("group is empty")))
        elif not PEER_GROUP_NAME_RE.match(name):
            errors.append(
                RowError(
                    row.line, _("%(name)s is not a valid group name (letters, digits, _ . -)") % {"name": repr(name)}
                )
            )
        if not code:
            errors.append(RowError(row.line, _("municipality_code is empty")))
        elif code not in known:
            errors.append(RowError(row.line, _("unknown municipality code %(code)s") % {"code": code}))
        if not name or not code:
            continue
        if (name, code) in seen:
            errors.append(
                RowError(
                    row.line,
                    _("%(code)s is already in group %(name)s on line %(line)d")
                    % {"code": code, "name": name, "line": seen[(name, code)]},
                )
            )
            continue
        seen[(name, code)] = row.line
        if code in known:
            wanted.setdefault(name, set()).add(known[code])
    if errors:
        raise ImportFailed(errors)
    report = ImportReport()
    existing = {group.name: group for group in PeerGroup.objects.filter(name__in=list(wanted))}
    current: dict[int, set[int]] = {}
    for group_id, municipality_id in PeerGroupMember.objects.filter(group__name__in=list(wanted)).values_list(
        "group_id", "municipality_id"
    ):
        current.setdefault(group_id, set()).add(municipality_id)
    for name, members in sorted(wanted.items()):
        group = existing.get(name)
        if group is None:
            group = PeerGroup.objects.create(name=name)
            report.created += 1
        else:
            have = current.get(group.pk, set())
            if have == members:
                report.unchanged += 1
                continue
            report.updated += 1
            PeerGroupMember.objects.filter(group=group, municipality_id__in=have - members).delete()
            members = members - have
        PeerGroupMember.objects.bulk_create(PeerGroupMember(group=group, municipality_id=m) for m in sorted(members))
    return report
