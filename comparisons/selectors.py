"""Reads for the comparison engine (approved values as DataFrames) and for pages (stored results)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

import numpy as np
import pandas as pd
from django.db.models import F, FloatField, QuerySet
from django.db.models.functions import Cast

from indicators.formula import parse_formula
from indicators.models import Indicator, NetworkIndicator, Period, Round, Submission, Value
from networks.models import Network

from .models import CompositeResult, RecomputeRun, Result

VALUE_COLUMNS = ["network_id", "municipality_id", "period_id", "item", "number", "updated_at"]


def approved_values_frame(*, period_ids: Iterable[int], item_codes: Iterable[str] | None = None) -> pd.DataFrame:
    """Every approved value of the periods, in every network: one query, one row per value.

    Columns: ``network_id``, ``municipality_id``, ``period_id``, ``item`` (code), ``number``
    (float64, NaN for a value declared missing) and ``updated_at`` (of the submission). The
    cast to float happens in the database: converting a million Decimals in Python is slow.
    """
    queryset = Value.objects.filter(
        submission__status=Submission.Status.APPROVED, submission__round__period_id__in=list(period_ids)
    )
    if item_codes is not None:
        queryset = queryset.filter(item__code__in=list(item_codes))
    rows = queryset.annotate(as_float=Cast("number", FloatField())).values_list(
        "submission__round__network_id",
        "submission__municipality_id",
        "submission__round__period_id",
        "item__code",
        "as_float",
        "submission__updated_at",
    )
    frame = pd.DataFrame.from_records(list(rows), columns=VALUE_COLUMNS)
    frame["number"] = pd.to_numeric(frame["number"], errors="coerce").astype("float64")
    return frame


def deduplicate_values(values: pd.DataFrame, *, network_id: int) -> pd.DataFrame:
    """One value per municipality, period and item when a municipality reported in two networks.

    The value of ``network_id`` (the network being computed) wins; otherwise the value of the
    most recently updated submission, then the lowest network id (deterministic).
    """
    if values.empty:
        return values
    ordered = values.assign(_own=values["network_id"] != network_id).sort_values(
        ["_own", "updated_at", "network_id"], ascending=[True, False, True], kind="stable"
    )
    unique = ordered.drop_duplicates(["municipality_id", "period_id", "item"], keep="first")
    return unique.drop(columns="_own")


def wide_items(values: pd.DataFrame, period_id: int) -> pd.DataFrame:
    """Municipalities (index) by item codes (columns) for one period; NaN where missing."""
    subset = values[values["period_id"] == period_id]
    if subset.empty:
        return pd.DataFrame(index=pd.Index([], name="municipality_id", dtype="int64"))
    return subset.pivot(index="municipality_id", columns="item", values="number")


def evaluate_indicators(wide: pd.DataFrame, indicators: list[Indicator]) -> pd.DataFrame:
    """Long frame: ``indicator_id``, ``municipality_id``, ``value`` (NaN = missing), ``reason``."""
    parts = []
    for indicator in indicators:
        formula = parse_formula(indicator.formula.strip() or indicator.code)
        values, reasons = formula.evaluate_frame(wide)
        parts.append(
            pd.DataFrame(
                {
                    "indicator_id": indicator.pk,
                    "municipality_id": wide.index.to_numpy(dtype=np.int64),
                    "value": values.to_numpy(),
                    "reason": reasons.to_numpy(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["indicator_id", "municipality_id", "value", "reason"])
    return pd.concat(parts, ignore_index=True)


def network_indicators(*, network: Network, period: Period, indicator_ids: Iterable[int] | None = None) -> list:
    """The indicators of the network's round for the period (its whole set when the round names none)."""
    round_ = Round.objects.filter(network=network, period=period).first()
    asked = set(round_.indicators.values_list("pk", flat=True)) if round_ else set()
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


def next_periods(period: Period) -> QuerySet[Period]:
    return Period.objects.filter(kind=period.kind, start=period.end + datetime.timedelta(days=1))


# --- for pages, exports and the API --------------------------------------------------------------


# The figures of `export_results` after its identifying columns, in the contract's order
# (DESIGN.md §5): network,period,indicator,peer_group,municipality_code, then these.
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


def results_for_indicator(*, network: Network, period: Period, indicator: Indicator, peer_group: str = "network"):
    """One indicator's ranking in a network/period and peer group, best first."""
    return (
        Result.objects.filter(network=network, period=period, indicator=indicator, peer_group=peer_group)
        .select_related("municipality")
        .order_by(F("rank").asc(nulls_last=True), "municipality__code")
    )


def composite_for_network(*, network: Network, period: Period, peer_group: str = "network"):
    return (
        CompositeResult.objects.filter(network=network, period=period, peer_group=peer_group)
        .select_related("municipality")
        .order_by(F("index_value").desc(nulls_last=True), "municipality__code")
    )


def last_completed_run(*, network: Network, period: Period) -> RecomputeRun | None:
    """When were these results computed? Pages show it next to the figures."""
    return (
        RecomputeRun.objects.filter(network=network, period=period, status=RecomputeRun.Status.DONE)
        .order_by("-finished_at")
        .first()
    )
