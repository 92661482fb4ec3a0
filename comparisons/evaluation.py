"""Evaluating a scope's values into the figures stored for it: pure pandas next to `engine`.

What it is: the steps between the frames the selectors read and the rows `writing` stores —
one value per municipality and item (`deduplicate_values`), municipalities by items
(`wide_items`), the indicators' formulas over that table (`evaluate_indicators`), the figures
of every peer group (`Scope.figures`, through `engine.compute_figures`), the change against
the previous period (`with_changes`) and the composite index (`Scope.composite`).

What it is not: no ORM, no settings, no request. Everything it needs comes in as frames and
plain objects (`services.scope_read` reads them); the indicators, network and periods are read
only for their attributes (code, formula, polarity, pk, label).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from indicators.formula import parse_formula

from . import engine, peer_groups

if TYPE_CHECKING:
    from indicators.models import Indicator, Period
    from networks.models import Network

# The stored scores the composite index reads (`selectors.stored_scores_reading` reads the same).
SCORE_COLUMNS = ["municipality_id", "peer_group", "group_key", "indicator_id", "score"]
# The figures `engine.compute_changes` computes against the previous period that a result
# stores (`Result.CHANGE_FIELDS`; a test keeps the two the same).
CHANGE_COLUMNS = ("previous_value", "change_abs", "change_rel", "improved")


def deduplicate_values(values: pd.DataFrame, *, network_id: int) -> pd.DataFrame:
    """One value per municipality, period and item when a municipality reported in two networks.

    The value of ``network_id`` (the network being computed) wins; otherwise the value of the
    most recently updated submission, then the lowest network id (deterministic). Only among the
    values given: the readers above pass only those allowed to enter (`entering_submissions`), so
    a newer value of a round outsiders may not see never displaces a published one.
    """
    if values.empty:
        return values
    networks = values["network_id"].to_numpy()
    if (networks == networks[0]).all():
        return values  # one network: one submission per municipality and period, one value per item
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
    if not indicators:
        return pd.DataFrame(columns=["indicator_id", "municipality_id", "value", "reason"])
    municipality_ids = wide.index.to_numpy(dtype=np.int64)
    size = len(municipality_ids)
    values = np.empty(size * len(indicators), dtype=np.float64)
    reasons = np.empty(size * len(indicators), dtype=object)
    for position, indicator in enumerate(indicators):
        formula = indicator_formula(indicator)
        evaluated, why = formula.evaluate_frame(wide)
        values[position * size : (position + 1) * size] = evaluated.to_numpy()
        reasons[position * size : (position + 1) * size] = why.to_numpy()
    return pd.DataFrame(
        {
            "indicator_id": np.repeat(np.array([indicator.pk for indicator in indicators], dtype=np.int64), size),
            "municipality_id": np.tile(municipality_ids, len(indicators)),
            "value": values,
            "reason": reasons,
        }
    )


_FORMULAS: dict[str, object] = {}


def indicator_formula(indicator: Indicator):
    """The parsed formula of an indicator (its own code when it has none); parsed once per text."""
    text = indicator.formula.strip() or indicator.code
    formula = _FORMULAS.get(text)
    if formula is None:
        if len(_FORMULAS) > 10_000:
            _FORMULAS.clear()
        formula = _FORMULAS[text] = parse_formula(text)
    return formula


@dataclass
class Scope:
    """Everything read for one scope's computation; figures are computed from it per indicator
    batch (`figures`) without another query, so a write can stream them (`writing.results_write`)."""

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
    # An incremental run's stored scores of the index indicators it recomputes (before it does).
    index_before: pd.DataFrame | None = None
    # An incremental run's stored peer groups (its indicators' rows are replaced in each).
    stored_groups: list[str] | None = None

    @property
    def index_kept(self) -> list[int]:
        """The index indicators an incremental run does not recompute (its composite reads their
        stored scores), in the order of their ids."""
        return sorted(set(self.weights or ()) - {indicator.pk for indicator in self.indicators})

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
        return with_changes(stored, long, self.before, self.network_ids, self.period, self.previous, self.polarity)

    def composite_rows(self, stored: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``stored`` the composite needs: the index indicators' scores, and one
        indicator's rows for the groups themselves (every indicator has the same municipalities
        and groups; an index without any index indicator still gets its row, with coverage 0)."""
        if stored.empty or not self.weights:
            return stored[SCORE_COLUMNS]
        indicator = stored["indicator_id"]
        return stored.loc[indicator.isin(list(self.weights)) | (indicator == indicator.iloc[0]), SCORE_COLUMNS]

    def changed_pairs(self, scores: Sequence[pd.DataFrame]) -> list[tuple[str, int]]:
        """The (peer group, municipality id) pairs whose composite an incremental run changes:
        those with a recomputed index indicator's score (or group key, or row) other than the
        stored one (`index_before`). One changed value usually moves one municipality's score per
        peer group; when it moves the group's best or worst, every member's."""
        index = set(self.weights or ())
        new = pd.concat(list(scores), ignore_index=True) if scores else pd.DataFrame(columns=SCORE_COLUMNS)
        new = new[new["indicator_id"].isin(index)]
        old = self.index_before if self.index_before is not None else pd.DataFrame(columns=SCORE_COLUMNS)
        keys = ["peer_group", "municipality_id", "indicator_id"]
        changed, gone = row_changes(old, new, keys=keys, texts=["group_key"], floats=["score"])
        pairs = set(zip(new["peer_group"][changed], new["municipality_id"][changed].astype(int), strict=True))
        pairs |= set(zip(old["peer_group"][gone], old["municipality_id"][gone].astype(int), strict=True))
        return sorted(pairs)

    def composite(
        self,
        stored: Sequence[pd.DataFrame],
        kept: pd.DataFrame | None = None,
        pairs: Sequence[tuple[str, int]] | None = None,
    ) -> pd.DataFrame | None:
        """Composite index per municipality and peer group over the network's index indicators
        (only for the (peer group, municipality id) ``pairs`` when given).

        For an incremental run the scores of the index indicators not recomputed come from the
        stored results (``kept``, each pair's rows in the order of the indicators' ids), so the
        index covers the whole indicator set.
        """
        if not self.weights:
            return None
        parts = [self.composite_rows(frame) for frame in stored]
        if kept is not None:
            parts.append(kept)
        if pairs is not None:
            parts = [of_pairs(part, pairs) for part in parts]
        parts = [part for part in parts if not part.empty] or parts[:1]
        # The engine keys indicators by text and groups by the key columns: each text column is
        # a categorical with sorted categories (the kept scores come as one), so neither hashes
        # the ~100k strings of a scope's scores (docs/architecture.md, "Recompute").
        indicator = pd.concat([part["indicator_id"] for part in parts], ignore_index=True)
        positions, indicator_ids = pd.factorize(indicator)
        scores = pd.DataFrame(
            {
                "municipality": pd.concat([part["municipality_id"] for part in parts], ignore_index=True),
                "peer_group": _categorical_concat([part["peer_group"] for part in parts]),
                "group_key": _categorical_concat([part["group_key"] for part in parts]),
                "indicator": pd.Categorical.from_codes(
                    positions, categories=pd.Index([str(i) for i in indicator_ids], dtype=object)
                ),
                "score": pd.to_numeric(
                    pd.concat([part["score"] for part in parts], ignore_index=True), errors="coerce"
                ).astype("float64"),
            }
        )
        scores["period"] = self.period.pk
        # A municipality's index is one row per peer group; nearest:K has one group per focal.
        return engine.compute_composite(scores, {str(key): value for key, value in self.weights.items()})


def of_pairs(frame: pd.DataFrame, pairs: Sequence[tuple[str, int]]) -> pd.DataFrame:
    """The rows of a scores frame (``peer_group``, ``municipality_id``) whose pair is one of ``pairs``."""
    if not len(pairs):
        return frame.iloc[:0]
    keys = pd.MultiIndex.from_arrays(
        [frame["peer_group"].to_numpy(dtype=object), frame["municipality_id"].to_numpy(dtype=np.int64)]
    )
    return frame[keys.isin(pd.MultiIndex.from_tuples(list(pairs)))]


def row_changes(
    old: pd.DataFrame, new: pd.DataFrame, *, keys: Sequence[str], texts: Sequence[str], floats: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of ``new`` differ from ``old``, and which rows of ``old`` are gone from ``new``.

    Rows are matched on ``keys`` (text, then integers); a matched row differs when a column of
    ``texts`` differs or one of ``floats`` is not bit-identical (`same_floats`). Returns a mask
    over ``new`` (no match, or a difference) and a mask over ``old`` (no match)."""

    def keyed(frame: pd.DataFrame) -> pd.MultiIndex:
        return pd.MultiIndex.from_arrays(
            [frame[keys[0]].to_numpy(dtype=object), *(frame[key].to_numpy(dtype=np.int64) for key in keys[1:])]
        )

    old_keys, new_keys = keyed(old), keyed(new)
    position = old_keys.get_indexer(new_keys) if len(old_keys) else np.full(len(new_keys), -1)
    found = position >= 0
    at = np.where(found, position, 0)
    changed = ~found
    if len(old_keys):
        for column in texts:
            changed |= found & (old[column].to_numpy(dtype=object)[at] != new[column].to_numpy(dtype=object))
        for column in floats:
            before = pd.to_numeric(old[column], errors="coerce").to_numpy(dtype=np.float64)[at]
            changed |= found & ~same_floats(before, pd.to_numeric(new[column], errors="coerce").to_numpy())
    gone = np.ones(len(old_keys), dtype=bool)
    gone[position[found]] = False
    return changed, gone


def same_floats(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Bit-identical as stored, element-wise: both NULL (NaN), or equal with the same sign (0.0, -0.0)."""
    old, new = np.asarray(old, dtype=np.float64), np.asarray(new, dtype=np.float64)
    both_missing = np.isnan(old) & np.isnan(new)
    return both_missing | ((old == new) & (np.signbit(old) == np.signbit(new)))


def _categorical_concat(parts: list[pd.Series]) -> pd.Categorical:
    """The parts one after another as a categorical with sorted categories (plain text, missing
    values as missing)."""
    categoricals = []
    for part in parts:
        if isinstance(part.dtype, pd.CategoricalDtype):
            codes, categories = part.array.codes, part.dtype.categories
        else:
            codes, categories = pd.factorize(part.to_numpy(dtype=object, na_value=None), sort=True)
        categoricals.append(pd.Categorical.from_codes(codes, categories=pd.Index(list(categories), dtype=object)))
    if not categoricals:
        return pd.Categorical([])
    return pd.api.types.union_categoricals(categoricals, sort_categories=True)


def with_changes(stored, long, before, network_ids, period, previous, polarity) -> pd.DataFrame:
    """``stored`` with the change of each value against the previous period (NaN / None when
    there is none): ``long`` and ``before`` are the evaluated indicators of the two periods."""
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
