"""The statistics engine: the comparison semantics (docs/statistics.md) as pure, vectorised pandas functions.

No ORM, no request, no settings: a selector builds the input DataFrame, these functions compute,
a service stores the result. Every figure is computed with groupby operations over the whole
frame, never with a Python loop over groups, so a full recompute of ~1M rows takes seconds.

Rules shared by every function here:

* **Missing values.** A value is missing when it is NaN/None/pandas.NA or infinite. Missing
  values are not part of any population; the row is kept and gets every group-level figure,
  but no figure of its own (see each function).
* **Ties.** Values are compared exactly: values equal as floats are tied (0.0 and -0.0
  included), values that differ in the last bit are not. Only neighbour distances, which come
  out of a rounding standardisation, are compared with a tolerance (see nearest_neighbours).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "BAND_GREEN",
    "BAND_GREY",
    "BAND_RED",
    "BAND_YELLOW",
    "COMPOSITE_MIN_COVERAGE",
    "FIGURE_COLUMNS",
    "GROUP_COLUMNS",
    "POLARITIES",
    "compute_changes",
    "compute_composite",
    "compute_figures",
    "distance_contributions",
    "nearest_neighbours",
    "standardise_context",
]

POLARITIES = ("higher", "lower", "neutral")

BAND_GREEN = "green"
BAND_YELLOW = "yellow"
BAND_RED = "red"
BAND_GREY = "grey"

GROUP_COLUMNS = ("indicator", "period", "peer_group", "group_key")
FIGURE_COLUMNS = (
    "n",
    "mean",
    "median",
    "q1",
    "q3",
    "min",
    "max",
    "std",
    "mad",
    "rank",
    "percentile",
    "band",
    "z",
    "score",
)
COMPOSITE_MIN_COVERAGE = 0.6
# Weights are decimals such as 0.1 whose float sums are inexact (0.1 * 6 / 1.0 is
# 0.6000000000000001, 0.7 - 0.1 is 0.6 - 1e-16): coverage within this of the threshold counts
# as reaching it, so "exactly 60 %" is enough however the weights are written.
_COVERAGE_TOLERANCE = 1e-9
# Relative difference below which two squared neighbour distances are a tie (see
# nearest_neighbours); float noise of the standardisation is around 1e-15.
_TIE_TOLERANCE = 1e-9


def _require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    absent = [column for column in columns if column not in df.columns]
    if absent:
        raise ValueError(f"{what}: missing column(s) {', '.join(absent)}")


def _values_as_float(series: pd.Series) -> np.ndarray:
    """float64 array with NaN for missing (None, NaN, pandas.NA) and infinite values."""
    if not (isinstance(series.dtype, np.dtype) and series.dtype.kind == "f"):
        series = pd.to_numeric(series, errors="raise")
    array = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isfinite(array), array, np.nan)


def _polarity_codes(series: pd.Series) -> np.ndarray:
    """0 = higher, 1 = lower, 2 = neutral; raises on anything else."""
    codes = pd.Index(POLARITIES).get_indexer(series)
    if (codes < 0).any():
        bad = sorted({str(value) for value in series[codes < 0]})
        raise ValueError(f"unknown polarity {', '.join(bad)}; expected one of {', '.join(POLARITIES)}")
    return codes.astype(np.int8)


def _group_ids(df: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, int]:
    """Dense integer id per row for the groups formed by ``keys`` (missing keys form groups)."""
    grouped = df.groupby(list(keys), sort=False, dropna=False, observed=True)
    ids = grouped.ngroup().to_numpy(dtype=np.int64)
    return ids, int(grouped.ngroups)


def _group_quantiles(
    ids: np.ndarray, values: np.ndarray, ngroups: int, quantiles: Sequence[float]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Per-group population size and linear-interpolation quantiles.

    Linear interpolation between order statistics (numpy's default method, Excel's
    QUARTILE.INC): for a sorted population x[0..n-1], the q-quantile is at h = (n - 1) * q,
    x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]). One sort serves every
    quantile of every group.
    """
    present = ~np.isnan(values)
    group = ids[present]
    sorted_values = values[present][np.lexsort((values[present], group))]
    counts = np.bincount(group, minlength=ngroups)
    starts = np.cumsum(counts) - counts
    nonempty = counts > 0
    last = np.maximum(counts - 1, 0)
    results = []
    for q in quantiles:
        h = last * q
        low = np.floor(h).astype(np.int64)
        fraction = h - low
        high = np.minimum(low + 1, last)
        below = np.full(ngroups, np.nan)
        above = np.full(ngroups, np.nan)
        below[nonempty] = sorted_values[(starts + low)[nonempty]]
        above[nonempty] = sorted_values[(starts + high)[nonempty]]
        step = above - below
        # numpy's lerp, term for term, so results match numpy.quantile to the last bit.
        results.append(np.where(fraction >= 0.5, above - step * (1 - fraction), below + step * fraction))
    return counts, results


def compute_figures(df: pd.DataFrame) -> pd.DataFrame:
    """Group figures and each municipality's position, per docs/statistics.md.

    Input columns: ``indicator``, ``period``, ``peer_group``, ``group_key`` (the partition
    within a peer group, e.g. the region's name for peer group ``region``), ``municipality``,
    ``value`` (float; NaN = missing) and ``polarity`` (``higher``/``lower``/``neutral``, the
    same for every row of a group). A group is one (indicator, period, peer_group, group_key);
    the caller passes only approved values (or missing ones).

    Returns a copy of ``df`` (same rows, same index and order) with these columns added:

    * ``n`` (Int64) — size of the population: the group's rows whose value is not missing.
    * ``mean``, ``median``, ``q1``, ``q3``, ``min``, ``max``, ``std`` (float64) — of the
      population; quartiles by linear interpolation between order statistics (numpy default,
      Excel QUARTILE.INC); ``std`` is the sample standard deviation (ddof=1), NaN when n < 2.
    * ``mad`` (float64) — the median absolute deviation from the median, unscaled
      (``median(|x - median|)``, the same quantile rule); 0 when at least half the population
      shares one value. The words for decision makers measure distances in it.
    * ``rank`` (Int64) — 1 = best by polarity (neutral: largest value first). **Tie rule:**
      values equal as floats share the best rank of their tie (10, 20, 20, 40 higher-is-better
      rank 4, 2, 2, 1).
    * ``percentile`` — ``100 * (n - rank) / (n - 1)``, NaN when n < 2.
    * ``band`` (object) — ``green`` if ``rank <= n/4``, ``red`` if ``rank > 3n/4``, else
      ``yellow`` (taken literally, so n = 1 is ``red`` and n = 2 or 3 has no ``green``);
      ``grey`` where the value is missing; ``None`` for every row of a neutral indicator, its
      missing values included.
    * ``z`` — ``(value - mean) / std``, negated for lower-is-better (positive is better), not
      negated for neutral; NaN when std is NaN or 0.
    * ``score`` — ``100 * (value - worst) / (best - worst)`` with best/worst the population's
      max/min (higher) or min/max (lower); 50 when all values of the population are equal
      (n = 1 included); NaN for neutral indicators.

    **Missing-value rule:** a row whose value is missing still gets the group figures (``n``
    through ``std`` describe the population) but ``rank``, ``percentile``, ``z`` and ``score``
    are missing and ``band`` is ``grey`` (``None`` for neutral indicators). A group with no
    value at all has n = 0 and NaN figures.
    """
    required = [*GROUP_COLUMNS, "municipality", "value", "polarity"]
    _require_columns(df, required, "compute_figures")
    out = df.copy()
    size = len(df)
    if size == 0:
        for column in FIGURE_COLUMNS:
            dtype = "Int64" if column in ("n", "rank") else object if column == "band" else float
            out[column] = pd.Series(dtype=dtype, index=df.index)
        return out

    values = _values_as_float(df["value"])
    polarity = _polarity_codes(df["polarity"])
    ids, ngroups = _group_ids(df, GROUP_COLUMNS)

    group_polarity_min = np.full(ngroups, 127, dtype=np.int8)
    group_polarity_max = np.full(ngroups, -1, dtype=np.int8)
    np.minimum.at(group_polarity_min, ids, polarity)
    np.maximum.at(group_polarity_max, ids, polarity)
    if (group_polarity_min != group_polarity_max).any():
        raise ValueError("compute_figures: polarity differs within a group")

    # Cython group reductions skip NaN: they see exactly the population.
    grouped = pd.Series(values).groupby(ids, sort=True)
    mean = grouped.mean().to_numpy()
    std = grouped.std(ddof=1).to_numpy()
    counts, (q1, median, q3, minimum, maximum) = _group_quantiles(ids, values, ngroups, (0.25, 0.5, 0.75, 0.0, 1.0))
    # Median absolute deviation: the same one-sort quantile over each row's distance from its
    # group's median (NaN stays NaN, so the population is the same).
    _counts, (mad,) = _group_quantiles(ids, np.abs(values - median[ids]), ngroups, (0.5,))
    if len(mean) != ngroups:  # groupby drops nothing for int ids; guard the positional mapping
        raise AssertionError("group reduction lost groups")
    # Equal values have spread 0 exactly, whatever rounding the variance algorithm does.
    std = np.where((counts >= 2) & (maximum == minimum), 0.0, std)

    n = counts[ids]
    row_mean, row_std = mean[ids], std[ids]
    row_min, row_max = minimum[ids], maximum[ids]
    present = ~np.isnan(values)
    is_lower = polarity == 1
    is_neutral = polarity == 2

    # Rank descending on a key where larger is better; negation is exact, so ties survive.
    key = np.where(is_lower, -values, values)
    rank = pd.Series(key).groupby(ids, sort=False).rank(method="min", ascending=False, na_option="keep").to_numpy()

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        percentile = np.where(n >= 2, 100.0 * (n - rank) / (n - 1), np.nan)

        # Integer arithmetic: rank <= n/4  <=>  4*rank <= n, rank > 3n/4  <=>  4*rank > 3n.
        rank4 = 4 * np.nan_to_num(rank, nan=0.0)
        band = np.full(size, BAND_YELLOW, dtype=object)
        band[rank4 <= n] = BAND_GREEN
        band[rank4 > 3 * n] = BAND_RED
        band[~present] = BAND_GREY
        band[is_neutral] = None

        usable_std = ~np.isnan(row_std) & (row_std != 0)
        z = np.where(usable_std, (values - row_mean) / row_std, np.nan)
        z = np.where(is_lower, -z, z) + 0.0  # + 0.0 turns -0.0 into 0.0 for display

        best = np.where(is_lower, row_min, row_max)
        worst = np.where(is_lower, row_max, row_min)
        score = 100.0 * (values - worst) / (best - worst) + 0.0
        score = np.where(row_max == row_min, 50.0, score)
        score[~present | is_neutral] = np.nan

    out["n"] = pd.array(n, dtype="Int64")
    out["mean"] = row_mean
    out["median"] = median[ids]
    out["q1"] = q1[ids]
    out["q3"] = q3[ids]
    out["min"] = row_min
    out["max"] = row_max
    out["std"] = row_std
    out["mad"] = mad[ids]
    out["rank"] = pd.array(np.where(present, rank, np.nan), dtype="Int64")
    out["percentile"] = percentile
    out["band"] = pd.Series(band, index=df.index, dtype=object)
    out["z"] = z
    out["score"] = score
    return out


def _period_positions(period_order: Mapping[str, int] | Sequence[str]) -> dict[str, int]:
    if isinstance(period_order, Mapping):
        keys = list(period_order.values())
        if len(set(keys)) != len(keys):
            raise ValueError("period_order: two periods share a sort key")
        ordered = sorted(period_order, key=period_order.__getitem__)
    else:
        if isinstance(period_order, str):
            raise TypeError("period_order must be a list of periods or a mapping, not a string")
        ordered = list(period_order)
        if len(set(ordered)) != len(ordered):
            raise ValueError("period_order: a period is listed twice")
    return {str(period): position for position, period in enumerate(ordered)}


def compute_changes(df: pd.DataFrame, period_order: Mapping[str, int] | Sequence[str]) -> pd.DataFrame:
    """Change of each value against the same municipality's previous period.

    Input columns: ``indicator``, ``municipality``, ``period``, ``value`` (NaN = missing) and
    ``polarity``; at most one row per (indicator, municipality, period). ``period_order`` is
    the ordering of periods: a list (earliest first) or a mapping period -> sort key (smaller
    is earlier, keys distinct). Every period of ``df`` must appear in it.

    The *previous period* of a row is the period immediately before its own in
    ``period_order`` — not the latest earlier period that happens to have data. If the
    municipality has no row or a missing value for the indicator in that period (or the row's
    period is the first), there is no change: a gap in the data is not bridged.

    Returns a copy of ``df`` (same rows, index and order) with columns added:
    ``previous_period`` (str or None), ``previous_value`` (float, NaN when none),
    ``change_abs = value - previous_value``, ``change_rel = change_abs / abs(previous_value)``
    (NaN when there is no change or the previous value is 0), and ``improved`` (object: True,
    False or None) — True when the change goes the better way by the row's polarity (up for
    higher, down for lower), False when it goes the other way or is exactly 0, None for
    neutral indicators and where there is no change. Missing-value rule: a missing value or
    missing previous value gives NaN changes and ``improved`` None.
    """
    _require_columns(df, ["indicator", "municipality", "period", "value", "polarity"], "compute_changes")
    positions = _period_positions(period_order)
    ordered_periods = np.array(sorted(positions, key=positions.__getitem__), dtype=object)
    out = df.copy()
    size = len(df)

    values = _values_as_float(df["value"])
    polarity = _polarity_codes(df["polarity"])
    period_labels = df["period"].astype(str)
    unknown = sorted(set(period_labels.unique()) - set(positions))
    if unknown:
        raise ValueError(f"compute_changes: period(s) not in period_order: {', '.join(unknown)}")
    position = period_labels.map(positions).to_numpy(dtype=np.int64)

    series_ids, _ = _group_ids(df, ["indicator", "municipality"])
    periods_count = len(positions)
    row_key = series_ids * periods_count + position
    key_index = pd.Index(row_key)
    if not key_index.is_unique:
        raise ValueError("compute_changes: more than one row per indicator, municipality, period")

    has_previous_period = position > 0
    previous_key = np.where(has_previous_period, row_key - 1, -1)
    previous_row = key_index.get_indexer(previous_key)
    found = previous_row >= 0
    previous_value = np.full(size, np.nan)
    previous_value[found] = values[previous_row[found]]
    previous_period = np.full(size, None, dtype=object)
    previous_period[has_previous_period] = ordered_periods[position[has_previous_period] - 1]

    with np.errstate(divide="ignore", invalid="ignore"):
        change_abs = values - previous_value
        change_rel = np.where(previous_value != 0, change_abs / np.abs(previous_value), np.nan)

    available = ~np.isnan(change_abs)
    better = np.where(polarity == 1, change_abs < 0, change_abs > 0)
    judged = available & (polarity != 2)
    improved = np.full(size, None, dtype=object)
    improved[judged & better] = True  # Python bools, not numpy's
    improved[judged & ~better] = False

    out["previous_period"] = pd.Series(previous_period, index=df.index, dtype=object)
    out["previous_value"] = previous_value
    out["change_abs"] = change_abs
    out["change_rel"] = change_rel
    out["improved"] = pd.Series(improved, index=df.index, dtype=object)
    return out


def compute_composite(
    scores: pd.DataFrame,
    weights: Mapping[str, float],
    coverage: float = COMPOSITE_MIN_COVERAGE,
) -> pd.DataFrame:
    """Composite index: the weighted mean of a municipality's scores on the index indicators.

    Input columns: ``municipality``, ``period``, ``peer_group``, ``group_key``, ``indicator``
    and ``score`` (NaN = missing); at most one row per group and indicator. ``weights`` maps
    the index indicators to non-negative weights (not all zero); rows of other indicators are
    ignored.

    Returns one row per (municipality, period, peer_group, group_key) present in ``scores``
    (sorted by those keys, fresh RangeIndex) with ``index_value`` — the weighted mean of the
    available scores — and ``coverage`` — available weight / total weight of ``weights``.
    Missing-value rule: an index indicator without a row or with a missing score is not
    available; ``index_value`` is NaN when coverage is below ``coverage`` (0.6 by default;
    exactly 60 % is enough, compared with a 1e-9 tolerance for float sums of the weights).
    """
    keys = ["municipality", "period", "peer_group", "group_key"]
    _require_columns(scores, [*keys, "indicator", "score"], "compute_composite")
    weight_of = {str(code): float(weight) for code, weight in weights.items()}
    if any(not np.isfinite(weight) or weight < 0 for weight in weight_of.values()):
        raise ValueError("compute_composite: weights must be finite and non-negative")
    total_weight = float(sum(weight_of.values()))
    if total_weight <= 0:
        raise ValueError("compute_composite: the weights sum to zero")

    score = _values_as_float(scores["score"])
    indicator_codes, indicators = _sorted_codes(scores["indicator"])
    weight_by_code = np.array([weight_of.get(code, np.nan) for code in indicators], dtype=np.float64)
    in_index = ~np.isnan(weight_by_code[indicator_codes]) if len(indicators) else np.zeros(len(scores), dtype=bool)
    # One integer per group, in the keys' sort order: grouping and the duplicate check work on
    # integers, not on the text columns (docs/architecture.md, "Recompute").
    _codes, first, group_ids = np.unique(_combined_codes(scores, keys), return_index=True, return_inverse=True)
    group_ids = group_ids.reshape(-1)
    with_indicator = group_ids * max(1, len(indicators)) + indicator_codes
    if pd.Series(with_indicator[in_index]).duplicated().any():
        raise ValueError("compute_composite: more than one score per group and indicator")

    available = in_index & ~np.isnan(score)
    weight = np.where(available, np.nan_to_num(weight_by_code[indicator_codes]) if len(indicators) else 0.0, 0.0)
    weighted = np.where(available, weight * score, 0.0)
    # pandas' grouped sum (compensated, in row order within a group): the same figures as
    # grouping by the key columns themselves.
    sums = pd.DataFrame({"_weight": weight, "_weighted": weighted}).groupby(group_ids, sort=True).sum()

    available_weight = sums["_weight"].to_numpy()
    share = available_weight / total_weight
    with np.errstate(divide="ignore", invalid="ignore"):
        index_value = sums["_weighted"].to_numpy() / available_weight
    enough = (share >= coverage - _COVERAGE_TOLERANCE) & (available_weight > 0)
    result = scores[keys].iloc[first].reset_index(drop=True)
    result["index_value"] = np.where(enough, index_value, np.nan)
    result["coverage"] = share
    return result


def _sorted_codes(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes of a column's values in their sort order (missing values last, a code of their own),
    and the values of the codes. A categorical with sorted categories gives its own codes, and
    integers in a narrow range their offsets: neither is hashed (a code may then have no row)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) and dtype.categories.is_monotonic_increasing:
        codes = np.asarray(series.array.codes, dtype=np.int64)
        categories = pd.Index(dtype.categories)
        if (codes < 0).any():
            codes = np.where(codes < 0, len(categories), codes)
            categories = categories.append(pd.Index([np.nan], dtype=categories.dtype))
        return codes, categories
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and len(series):
        values = series.to_numpy(dtype=np.int64)
        low, high = int(values.min()), int(values.max())
        if high - low < 4 * len(values) + 1024:
            return values - low, pd.Index(np.arange(low, high + 1, dtype=np.int64))
    codes, uniques = pd.factorize(series, sort=True, use_na_sentinel=False)
    return codes.astype(np.int64), pd.Index(uniques)


def _combined_codes(df: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """One int64 per row ordering the rows as the ``keys`` columns sort (as `groupby(sort=True,
    dropna=False)` orders its groups): equal for equal keys, smaller for keys sorting first."""
    combined = np.zeros(len(df), dtype=np.int64)
    for key in keys:
        codes, uniques = _sorted_codes(df[key])
        size = max(1, len(uniques))
        if len(combined) and int(combined.max()) >= (2**62) // size:
            combined = np.unique(combined, return_inverse=True)[1].reshape(-1).astype(np.int64)  # same order, dense
        combined = combined * size + codes
    return combined


def standardise_context(context: pd.DataFrame) -> pd.DataFrame:
    """Context variables standardised for the nearest-neighbour peer group.

    Municipalities (rows) with any missing variable are dropped first; each variable is then
    standardised over the remaining municipalities to mean 0 and *population* standard
    deviation 1 (ddof=0: "standard deviation 1 across all municipalities" holds exactly). A
    variable with standard deviation 0 becomes 0 everywhere, so it contributes nothing.
    """
    numeric = pd.DataFrame(
        {column: _values_as_float(context[column]) for column in context.columns},
        index=context.index,
        columns=context.columns,
    )
    complete = numeric.loc[~numeric.isna().any(axis=1)]
    data = complete.to_numpy(dtype=np.float64)
    if len(data) == 0:
        return complete
    centred = data - data.mean(axis=0)
    scale = data.std(axis=0, ddof=0)
    # Test constancy exactly: a rounded mean of equal values leaves a tiny non-zero std.
    constant = data.max(axis=0) == data.min(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        standard = np.where(constant, 0.0, centred / scale)
    return pd.DataFrame(standard, index=complete.index, columns=complete.columns)


def nearest_neighbours(context: pd.DataFrame, k: int) -> dict[str, list[str]]:
    """The ``k`` nearest municipalities of every municipality on the context variables.

    ``context`` has one row per municipality (index = municipality code) and one column per
    context variable. Variables are standardised (:func:`standardise_context`) and distance is
    Euclidean. Missing-value rule: a municipality with any missing variable is neither a
    neighbour nor has any — its entry is an empty list. Tie rule: equal distances are ordered
    by municipality code; squared distances that differ by less than a relative 1e-9 count as
    equal, so that ties in the data are not split by rounding in the standardisation (0, 1,
    2 standardise to values whose differences are not exactly equal). A municipality is never
    its own neighbour; fewer than ``k`` are returned when fewer exist. Keys are every
    municipality of ``context``, lists are nearest first.
    """
    if k < 0:
        raise ValueError("nearest_neighbours: k must not be negative")
    result: dict[str, list[str]] = {str(code): [] for code in context.index}
    standard = standardise_context(context)
    codes = np.array([str(code) for code in standard.index], dtype=object)
    count = len(codes)
    if count < 2 or k == 0:
        return result
    data = standard.to_numpy()
    squared = np.zeros((count, count))
    for variable in range(data.shape[1]):  # one N x N matrix at a time, in column order
        difference = data[:, variable, np.newaxis] - data[np.newaxis, :, variable]
        squared += difference * difference
    np.fill_diagonal(squared, np.inf)
    by_distance = np.argsort(squared, axis=1, kind="stable")
    ordered = np.take_along_axis(squared, by_distance, axis=1)
    # Standardising rounds: municipalities 1 below and 1 above the focal one in the data come
    # out a few ulps apart. Squared distances within a relative _TIE_TOLERANCE of the previous
    # one are a tie, and ties are ordered by code.
    following = ordered[:, 1:]
    with np.errstate(invalid="ignore"):  # inf - inf
        near = np.diff(ordered, axis=1) <= _TIE_TOLERANCE * following
    starts_cluster = ~near | np.isinf(following)  # the focal itself (inf) ties with nobody
    cluster = np.zeros((count, count), dtype=np.int64)
    cluster[:, 1:] = np.cumsum(starts_cluster, axis=1)
    code_position = np.empty(count, dtype=np.int64)
    code_position[np.argsort(codes, kind="stable")] = np.arange(count)
    sort_key = cluster * count + code_position[by_distance]
    order = np.take_along_axis(by_distance, np.argsort(sort_key, axis=1), axis=1)
    take = min(k, count - 1)
    for row, code in enumerate(codes):
        result[code] = [str(codes[column]) for column in order[row, :take]]
    return result


def distance_contributions(context: pd.DataFrame, focal: str, other: str) -> dict[str, float]:
    """Each context variable's share of the squared distance between two municipalities.

    Uses the same standardisation as :func:`nearest_neighbours`. Shares sum to 1; all are 0
    when the distance is 0. Raises ``KeyError`` when either municipality is not in the context
    or was excluded for a missing variable.
    """
    standard = standardise_context(context)
    labels = {str(code): code for code in standard.index}
    for code in (focal, other):
        if code not in labels:
            raise KeyError(f"{code} has no complete context data")
    difference = standard.loc[labels[focal]].to_numpy(dtype=np.float64) - standard.loc[labels[other]].to_numpy(
        dtype=np.float64
    )
    squared = difference * difference
    total = squared.sum()
    shares = squared / total if total > 0 else np.zeros_like(squared)
    return {str(column): float(share) for column, share in zip(standard.columns, shares, strict=True)}
