"""Every database read of the comparisons engine: a scope's inputs as DataFrames, and stored rows.

What it is: the reads a recompute makes before it computes (approved values that may enter the
scope, its municipalities, peer groups, index weights, the last run's neighbours and scores)
and the few reads of stored results outside the pages. The PostgreSQL fast paths (binary
cursors, values packed into one bytea) live here next to their portable ORM twins.

What it is not: no writes and no computing. The pages' and the API's visibility-checked reads
are `dashboard_selectors`; evaluating what is read is `evaluation`; writing is `writing`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import psycopg
from django.conf import settings
from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.functions import Cast

from indicators.models import DataItem, Indicator, NetworkIndicator, Period, Round, Submission, Value
from networks.collation import latvian
from networks.models import Municipality, Network

from . import peer_groups
from .evaluation import SCORE_COLUMNS, of_pairs
from .models import CompositeResult, Neighbour, PeerGroup, Result

VALUE_COLUMNS = ["network_id", "municipality_id", "period_id", "item", "number", "updated_at"]


# --- which values enter a network's computation ---------------------------------------------------
#
# The computed network's own approved values always enter (its members see them, marked
# provisional). Another network's enter only once its round of the period is published and the
# network is public: the wider peer groups' figures (n, min, max, median ...) are shown to whoever
# may see the computed network's results, so they must not tell outsiders what only the other
# network's members may see. Official values (a statistics office's, not typed into a round) would
# always enter; `import_official` writes them into every network that uses the item, so each
# network reads its own copy (docs/official.md) — when they get their own table, they are read
# next to these.
# The same rule twice, once for the ORM and once for the raw SQL of the PostgreSQL fast paths
# (`r` is the round, `n` its network); the tests run both.


def entering_submissions(*, network_id: int) -> Q:
    """The approved submissions whose values enter the computation of ``network_id`` (a filter on
    `Submission`; the status and periods are the caller's)."""
    return Q(round__network_id=network_id) | Q(
        round__status=Round.Status.PUBLISHED, round__network__policy=Network.Policy.PUBLIC
    )


_ENTERING_SQL = "(r.network_id = %s OR (r.status = %s AND n.policy = %s))"


def _entering_parameters(network_id: int) -> tuple[int, str, str]:
    return (network_id, Round.Status.PUBLISHED, Network.Policy.PUBLIC)


def approved_submissions(*, network_id: int, period_ids: Iterable[int]) -> QuerySet[Submission]:
    """The approved submissions of the periods whose values enter the computation of ``network_id``."""
    return Submission.objects.filter(
        entering_submissions(network_id=network_id), status=Submission.Status.APPROVED, round__period_id__in=period_ids
    )


def approved_submissions_frame(*, period_ids: Iterable[int], network_id: int) -> pd.DataFrame:
    """The approved submissions of the periods whose values enter the computation of
    ``network_id`` (its own, and other networks' published public rounds), indexed by
    ``submission_id``.

    Columns: ``network_id``, ``municipality_id``, ``period_id``, ``updated_at``. On PostgreSQL
    through a binary cursor: Django reads a timestamp as text and parses it in Python, which
    costs more than the rest of the read (4 ms per thousand submissions).
    """
    period_ids = list(period_ids)
    if connection.vendor == "postgresql":
        submission, round_, network = Submission._meta.db_table, Round._meta.db_table, Network._meta.db_table
        sql = (
            "SELECT s.id, r.network_id, s.municipality_id, r.period_id, s.updated_at "  # noqa: S608 - model tables, values bound  # nosec B608
            f"FROM {submission} s JOIN {round_} r ON r.id = s.round_id JOIN {network} n ON n.id = r.network_id "
            f"WHERE s.status = %s AND r.period_id = ANY(%s) AND {_ENTERING_SQL}"
        )
        with connection.cursor() as cursor, psycopg.Cursor(cursor.cursor.connection) as binary:
            binary.execute(
                sql, (Submission.Status.APPROVED, period_ids, *_entering_parameters(network_id)), binary=True
            )
            rows = binary.fetchall()
    else:
        rows = list(
            approved_submissions(network_id=network_id, period_ids=period_ids)
            .order_by()
            .values_list("pk", "round__network_id", "municipality_id", "round__period_id", "updated_at")
        )
    return pd.DataFrame.from_records(rows, columns=["submission_id", *VALUE_COLUMNS[:3], "updated_at"]).set_index(
        "submission_id"
    )


def approved_values_frame(
    *,
    period_ids: Iterable[int],
    network_id: int,
    item_codes: Iterable[str] | None = None,
    submissions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every approved value of the periods that enters the computation of ``network_id`` (see
    `entering_submissions`): one row per value.

    Columns: ``network_id``, ``municipality_id``, ``period_id``, ``item`` (code), ``number``
    (float64, NaN for a value declared missing) and ``updated_at`` (of the submission). The
    cast to float happens in the database: converting a million Decimals in Python is slow.
    On PostgreSQL the values come packed in one bytea read straight into numpy (submission id,
    item id and number per value, see `_approved_value_arrays`); the few submissions and items
    are read apart and joined in numpy. ``submissions``: `approved_submissions_frame` of the
    same periods and network when the caller has read it already.
    """
    period_ids = list(period_ids)
    items = DataItem.objects.all()
    if item_codes is not None:
        items = items.filter(code__in=list(item_codes))
    code_of = dict(items.values_list("pk", "code"))
    if connection.vendor == "postgresql":
        submission_ids, item_ids, numbers = _approved_value_arrays(period_ids, list(code_of), network_id)
    else:
        entering = approved_submissions(network_id=network_id, period_ids=period_ids)
        rows = list(
            Value.objects.filter(submission__in=entering, item_id__in=list(code_of))
            .annotate(as_float=Cast("number", FloatField()))
            .values_list("submission_id", "item_id", "as_float")
        )
        submission_ids = np.array([row[0] for row in rows], dtype=np.int64)
        item_ids = np.array([row[1] for row in rows], dtype=np.int64)
        numbers = pd.to_numeric(pd.Series([row[2] for row in rows], dtype=object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    if submissions is None:
        # One row per submission: network, municipality, period, updated_at (a few hundred rows).
        submissions = approved_submissions_frame(period_ids=period_ids, network_id=network_id)
    position = submissions.index.get_indexer(submission_ids)
    found = position >= 0  # a submission deleted between the two reads: its values go with it
    if not found.all():
        position, item_ids, numbers = position[found], item_ids[found], numbers[found]
    codes = pd.Index(list(code_of.values()), dtype=object)
    frame = pd.DataFrame(
        {
            "network_id": submissions["network_id"].to_numpy(dtype=np.int64)[position],
            "municipality_id": submissions["municipality_id"].to_numpy(dtype=np.int64)[position],
            "period_id": submissions["period_id"].to_numpy(dtype=np.int64)[position],
            "item": codes[pd.Index(list(code_of)).get_indexer(item_ids)].to_numpy(dtype=object),
            "number": numbers,
            "updated_at": submissions["updated_at"].iloc[position].reset_index(drop=True),
        },
        columns=VALUE_COLUMNS,
    )
    return frame


# One value as the query below packs it: submission id, item id (int8), number (float8), big-endian.
_PACKED_VALUE = np.dtype([("submission", ">i8"), ("item", ">i8"), ("number", ">f8")])


def _approved_value_arrays(
    period_ids: list[int], item_ids: list[int], network_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Submission ids, item ids and numbers (NaN = declared missing) of the approved values that
    enter the computation of ``network_id``.

    The database packs every row into 24 bytes and aggregates them into one bytea, which numpy
    reads as it is: no Python object per value (a row-by-row fetch costs seconds at 1M values).
    """
    value = Value._meta.db_table
    submission = Submission._meta.db_table
    round_ = Round._meta.db_table
    network = Network._meta.db_table
    # A few items: probes of the (submission, item) index; many: a filter on each submission's
    # rows (200 probes per submission cost more than reading its rows).
    item = "v.item_id" if len(item_ids) <= 20 else "(v.item_id + 0)"
    sql = (
        "SELECT string_agg(int8send(v.submission_id::int8) || int8send(v.item_id::int8) "  # noqa: S608 - model tables, values bound  # nosec B608
        "|| float8send(COALESCE(v.number::float8, 'NaN'::float8)), ''::bytea) "
        f"FROM {value} v JOIN {submission} s ON s.id = v.submission_id JOIN {round_} r ON r.id = s.round_id "
        f"JOIN {network} n ON n.id = r.network_id "
        f"WHERE s.status = %s AND r.period_id = ANY(%s) AND {item} = ANY(%s) AND {_ENTERING_SQL}"
    )
    parameters = (Submission.Status.APPROVED, period_ids, item_ids, *_entering_parameters(network_id))
    with connection.cursor() as cursor, psycopg.Cursor(cursor.cursor.connection) as binary:
        # A server-side binding cursor: only it returns binary results (Django's is client-side).
        binary.execute(sql, parameters, binary=True)
        packed = binary.fetchone()[0] or b""
    rows = np.frombuffer(packed, dtype=_PACKED_VALUE)
    return rows["submission"].astype(np.int64), rows["item"].astype(np.int64), rows["number"].astype(np.float64)


def stored_peer_groups_of(*, network_id: int, period_ids: list[int]) -> set[tuple[int, str]]:
    """(period, peer group) pairs with stored results, in one query.

    `SELECT DISTINCT` would read every stored row of the network (a million at scale); this
    walks the primary key (network, period, peer group, …) from one peer group to the next —
    a few index probes per period, on PostgreSQL and SQLite alike.
    """
    if not period_ids:
        return set()
    table, periods = Result._meta.db_table, Period._meta.db_table
    placeholders = ", ".join(["%s"] * len(period_ids))
    sql = f"""
        WITH RECURSIVE walk(period_id, peer_group) AS (
            SELECT p.period_id,
                   (SELECT MIN(r.peer_group) FROM {table} r WHERE r.network_id = %s AND r.period_id = p.period_id)
            FROM (SELECT id AS period_id FROM {periods} WHERE id IN ({placeholders})) p
            UNION ALL
            SELECT w.period_id,
                   (SELECT MIN(r.peer_group) FROM {table} r
                    WHERE r.network_id = %s AND r.period_id = w.period_id AND r.peer_group > w.peer_group)
            FROM walk w WHERE w.peer_group IS NOT NULL
        )
        SELECT period_id, peer_group FROM walk WHERE peer_group IS NOT NULL
    """  # noqa: S608 - table names from the models, values as parameters  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, [network_id, *period_ids, network_id])
        return {(period_id, peer_group) for period_id, peer_group in cursor.fetchall()}


def stored_peer_groups(*, network_id: int, period_id: int) -> list[str]:
    """The peer groups with stored results in one network/period (`stored_peer_groups_of`)."""
    return sorted(name for _period, name in stored_peer_groups_of(network_id=network_id, period_ids=[period_id]))


# A stored score as `stored_scores_reading` packs it: municipality id, score.
_PACKED_SCORE = np.dtype([("municipality", ">i8"), ("score", ">f8")])


@contextmanager
def stored_scores_reading(
    *, network_id: int, period_id: int, indicator_ids: Iterable[int], group_names: list[str] | None = None
) -> Iterator[Callable[[], pd.DataFrame]]:
    """The stored scores of the indicators in a network/period, every peer group (for the index),
    read while the caller computes: on PostgreSQL the query is sent on entering (in pipeline
    mode) and the server reads while Python works; the function yielded collects the frame.
    The block must not query the database before calling it.

    Frame columns: ``municipality_id``, ``peer_group``, ``group_key``, ``indicator_id``,
    ``score`` (float64, NaN when none). On PostgreSQL one row per group and indicator comes back
    with its scores packed into a bytea (see `approved_values_frame`), so an incremental run
    reads ~100k scores fast. ``group_names``: the scope's stored peer groups
    (`stored_peer_groups`), when the caller has read them.
    """
    indicator_ids = list(indicator_ids)
    if connection.vendor != "postgresql":
        frame = pd.DataFrame.from_records(
            list(
                Result.objects.filter(
                    network_id=network_id, period_id=period_id, indicator_id__in=indicator_ids
                ).values_list(*SCORE_COLUMNS)
            ),
            columns=SCORE_COLUMNS,
        )
        frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype("float64")
        yield lambda: frame
        return
    table = Result._meta.db_table
    if group_names is None:
        group_names = stored_peer_groups(network_id=network_id, period_id=period_id)
    # One index probe per peer group and indicator, aggregated where it is read: the id of the
    # indicator and the group travel once per probe, not once per score (a third less to pack
    # than one aggregate over the whole scope). Groups, then indicators, in the order given.
    sql = (
        "SELECT g.name, i.id, r.group_key, r.packed "  # noqa: S608 - model table, values bound  # nosec B608
        "FROM unnest(%(groups)s::text[]) WITH ORDINALITY AS g(name, position) "
        "CROSS JOIN unnest(%(indicators)s::int8[]) WITH ORDINALITY AS i(id, position) "
        "CROSS JOIN LATERAL (SELECT group_key, string_agg(int8send(municipality_id::int8) "
        "|| float8send(COALESCE(score, 'NaN'::float8)), ''::bytea) AS packed "
        f"FROM {table} WHERE network_id = %(network)s AND period_id = %(period)s AND peer_group = g.name "
        "AND indicator_id = i.id GROUP BY group_key) r ORDER BY g.position, i.position, r.group_key"
    )
    connection.ensure_connection()
    with connection.connection.pipeline(), psycopg.Cursor(connection.connection) as binary:
        # A server-side binding cursor: only it returns binary results (Django's is client-side).
        binary.execute(
            sql,
            {"network": network_id, "period": period_id, "groups": group_names, "indicators": indicator_ids},
            binary=True,
        )
        yield lambda: _scores_frame(binary.fetchall())


def _scores_frame(probes: list[tuple[str, int, str, bytes]]) -> pd.DataFrame:
    """`stored_scores_reading`'s frame from its query's rows (peer group, indicator, group key, packed scores)."""
    parts = [np.frombuffer(packed, dtype=_PACKED_SCORE) for _name, _indicator, _key, packed in probes]
    rows = np.concatenate(parts) if parts else np.empty(0, dtype=_PACKED_SCORE)
    counts = [len(part) for part in parts]
    return pd.DataFrame(
        {
            "municipality_id": rows["municipality"].astype(np.int64),
            "peer_group": _repeated([probe[0] for probe in probes], counts),
            "group_key": _repeated([probe[2] for probe in probes], counts),
            "indicator_id": np.repeat(np.array([probe[1] for probe in probes], dtype=np.int64), counts),
            "score": rows["score"].astype(np.float64),
        },
        columns=SCORE_COLUMNS,
    )


# Above this many (peer group, municipality) pairs, reading whole peer groups (one index range
# per group and indicator) beats probing the primary key once per pair and indicator.
_PAIR_PROBES = 200


_SCORE_DTYPES = {
    "municipality_id": np.int64,
    "peer_group": object,
    "group_key": object,
    "indicator_id": np.int64,
    "score": np.float64,
}


def stored_scores_of(
    *, network_id: int, period_id: int, indicator_ids: Iterable[int], pairs: Iterable[tuple[str, int]]
) -> pd.DataFrame:
    """The stored scores of the indicators for the (peer group, municipality id) ``pairs`` of a
    network/period: `stored_scores_reading`'s columns, each pair's rows in the order of
    ``indicator_ids`` (the composite sums a municipality's scores in that order).

    An incremental run's composite reads these for the municipalities whose score changed,
    usually one per peer group: a few hundred rows instead of the scope's whole index."""
    indicator_ids, pairs = list(indicator_ids), sorted(set(pairs))
    if not pairs or not indicator_ids:
        return pd.DataFrame({column: pd.Series(dtype=_SCORE_DTYPES[column]) for column in SCORE_COLUMNS})
    if connection.vendor != "postgresql" or len(pairs) > _PAIR_PROBES:
        with stored_scores_reading(network_id=network_id, period_id=period_id, indicator_ids=indicator_ids) as read:
            frame = read()
        frame = of_pairs(frame, pairs)
        # Stable: within a pair the rows keep the order of the indicators.
        order = pd.Categorical(frame["indicator_id"], categories=indicator_ids, ordered=True).codes
        return frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    sql = (
        "SELECT p.peer_group, r.group_key, p.municipality_id, i.id, r.score "  # noqa: S608  # nosec B608
        "FROM unnest(%s::text[], %s::int8[]) AS p(peer_group, municipality_id) "
        "CROSS JOIN unnest(%s::int8[]) WITH ORDINALITY AS i(id, position) "
        f"JOIN {Result._meta.db_table} r ON r.network_id = %s AND r.period_id = %s "
        "AND r.peer_group = p.peer_group AND r.indicator_id = i.id AND r.municipality_id = p.municipality_id "
        "ORDER BY i.position"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                [group for group, _municipality in pairs],
                [municipality for _group, municipality in pairs],
                indicator_ids,
                network_id,
                period_id,
            ],
        )
        rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(
        rows, columns=["peer_group", "group_key", "municipality_id", "indicator_id", "score"]
    )[SCORE_COLUMNS]
    return frame.astype({"municipality_id": np.int64, "indicator_id": np.int64}).assign(
        score=pd.to_numeric(frame["score"], errors="coerce").astype(np.float64)
    )


def pairs_condition(pairs: Iterable[tuple[str, int]]) -> Q:
    """Rows of these (peer group, municipality id) pairs: one ``IN`` per peer group."""
    by_group: dict[str, list[int]] = {}
    for peer_group, municipality_id in pairs:
        by_group.setdefault(peer_group, []).append(int(municipality_id))
    condition = Q(pk__in=[])
    for peer_group, municipality_ids in by_group.items():
        condition |= Q(peer_group=peer_group, municipality_id__in=municipality_ids)
    return condition


def _repeated(values: list[str], counts: list[int]) -> pd.Categorical:
    """Each probe's text repeated for its rows, as a categorical with sorted categories: the
    composite groups on its codes instead of hashing ~100k strings (`evaluation.Scope.composite`)."""
    categories = sorted(set(values))
    position = {value: code for code, value in enumerate(categories)}
    codes = np.repeat(np.array([position[value] for value in values], dtype=np.int32), counts)
    return pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))


# --- the rest of a scope's reads --------------------------------------------------------------


def municipality_frame(*, ids: Iterable[int] | QuerySet) -> pd.DataFrame:
    """The municipalities (index id; ``code``, ``kind``, ``region``, ``attributes``) of ``ids``:
    a list of ids or a subquery of them (no statement with hundreds of parameters)."""
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
    configured = settings.COMPARISON_ATTRIBUTES
    attributes = (
        list(configured) if configured is not None else peer_groups.grouping_attributes(municipalities, focal_ids)
    )
    names += [f"attr:{name}" for name in attributes]
    focal = focal_query if focal_query is not None else list(focal_ids)
    custom = PeerGroup.objects.filter(members__municipality_id__in=focal).distinct().order_by(latvian("name"))
    names += [f"custom:{name}" for name in custom.values_list("name", flat=True)]
    names.append(f"nearest:{settings.COMPARISON_NEAREST_K}")
    return names


def custom_group_members(*, names: Iterable[str]) -> dict[str, set[int]]:
    """The members (municipality ids) of the saved custom groups named (without `custom:`)."""
    custom: dict[str, set[int]] = {}
    for name, municipality_id in PeerGroup.objects.filter(name__in=list(names)).values_list(
        "name", "members__municipality_id"
    ):
        if municipality_id is not None:
            custom.setdefault(name, set()).add(municipality_id)
    return custom


def index_weights(*, network: Network) -> dict[int, float] | None:
    """The weights of the network's index indicators; None when there is no index to compute."""
    weights = {
        indicator_id: float(weight)
        for indicator_id, weight in NetworkIndicator.objects.filter(
            network=network, indicator__in_index=True
        ).values_list("indicator_id", "indicator__weight")
    }
    return weights if weights and sum(weights.values()) > 0 else None


def stored_neighbours(*, network: Network, period: Period, peer_group: str) -> dict[int, list[int]]:
    """Each focal municipality's stored neighbours in ``peer_group`` (`nearest:K`), nearest first."""
    found: dict[int, list[int]] = {}
    for focal, other in (
        Neighbour.objects.filter(network=network, period=period, peer_group=peer_group)
        .order_by("municipality_id", "position")
        .values_list("municipality_id", "neighbour_id")
    ):
        found.setdefault(focal, []).append(other)
    return found


def stored_composites(
    *, network: Network, period: Period, pairs: Iterable[tuple[str, int]] | None = None
) -> pd.DataFrame:
    """The stored composite rows of a scope (only those of the (peer group, municipality id)
    ``pairs`` when given): columns ``peer_group``, ``municipality_id``, ``group_key``,
    ``index_value`` (float64, NaN when NULL) and ``coverage``."""
    columns = ["peer_group", "municipality_id", "group_key", "index_value", "coverage"]
    stored = CompositeResult.objects.filter(network=network, period=period)
    if pairs is not None:
        stored = stored.filter(pairs_condition(pairs))
    rows = list(stored.values_list(*columns))
    frame = pd.DataFrame.from_records(rows, columns=columns)
    frame["municipality_id"] = frame["municipality_id"].astype(np.int64)
    for column in ("index_value", "coverage"):
        frame[column] = pd.to_numeric(frame[column]).astype(np.float64)
    return frame


def network_indicators(*, network: Network, period: Period, indicator_ids: Iterable[int] | None = None) -> list:
    """The indicators of the network's round for the period (its whole set when the round names none)."""
    asked = set(
        Round.indicators.through.objects.filter(round__network=network, round__period=period).values_list(
            "indicator_id", flat=True
        )
    )
    queryset = Indicator.objects.filter(
        pk__in=NetworkIndicator.objects.filter(network=network).values("indicator_id")
    ).order_by("code")
    if asked:
        queryset = queryset.filter(pk__in=asked)
    if indicator_ids is not None:
        queryset = queryset.filter(pk__in=list(indicator_ids))
    return list(queryset)


def previous_period(period: Period) -> Period | None:
    """The period of the same kind that ends the day before ``period`` starts (no gap is bridged)."""
    return Period.objects.filter(kind=period.kind, end=period.start - datetime.timedelta(days=1)).first()


def previous_round(rounds: Iterable[Round], round_: Round) -> Round | None:
    """The round among ``rounds`` (one network's, with their periods) of the period before
    ``round_``'s, as `previous_period` defines it: the values a stored change is computed
    against. No query."""
    period = round_.period
    day_before = period.start - datetime.timedelta(days=1)
    return next((r for r in rounds if r.period.kind == period.kind and r.period.end == day_before), None)


def next_periods(period: Period) -> QuerySet[Period]:
    return Period.objects.filter(kind=period.kind, start=period.end + datetime.timedelta(days=1))


# --- for pages, exports and the API --------------------------------------------------------------


# The figures of `export_results` after its identifying columns, in the export's published order:
# network,period,indicator,peer_group,municipality_code, then these.
EXPORT_FIGURES = ("value", "rank", "n", "percentile", "band", "z", "score", "mean", "median", "q1", "q3", "min", "max")


def results_for_export(
    *, network: Network, period: Period | None = None, peer_group: str | None = None
) -> QuerySet[Result]:
    """Stored rows as the export and the API list them: one query, plain values."""
    queryset = Result.objects.filter(network=network)
    if period is not None:
        queryset = queryset.filter(period=period)
    if peer_group is not None:
        queryset = queryset.filter(peer_group=peer_group)
    return queryset.order_by("period__start", "indicator__code", "peer_group", "municipality__code").values(
        *EXPORT_FIGURES,
        network_code=F("network__code"),
        period_label=F("period__label"),
        indicator_code=F("indicator__code"),
        peer_group_name=F("peer_group"),
        municipality_code=F("municipality__code"),
    )
