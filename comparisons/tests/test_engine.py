"""Tests of the statistics engine against hand-worked numbers and an independent implementation.

The naive reference below is written from docs/statistics.md with plain Python loops, sorted lists
and the statistics module: no numpy quantiles, no pandas ranking.
"""

from __future__ import annotations

import itertools
import math
import statistics
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from comparisons.engine import (
    POLARITIES,
    compute_changes,
    compute_composite,
    compute_figures,
    distance_contributions,
    nearest_neighbours,
    standardise_context,
)

NO_DB = settings(database=None, deadline=None, max_examples=150)
FIGURES = ["n", "mean", "median", "q1", "q3", "min", "max", "std", "mad"]
FIGURES += ["rank", "percentile", "band", "z", "score"]


def frame(values: list[float | None], polarity: str = "higher", **keys: str) -> pd.DataFrame:
    """One group: municipalities m1, m2, ... with the given values."""
    return pd.DataFrame(
        {
            "indicator": keys.get("indicator", "IND"),
            "period": keys.get("period", "2024"),
            "peer_group": keys.get("peer_group", "network"),
            "group_key": keys.get("group_key", "T3"),
            "municipality": [f"m{i + 1}" for i in range(len(values))],
            "value": [np.nan if value is None else float(value) for value in values],
            "polarity": polarity,
        }
    )


def column(result: pd.DataFrame, name: str) -> list[object]:
    """A column as plain Python values with None for every kind of missing."""
    return [None if pd.isna(value) else value for value in result[name].tolist()]


def rounded(values: list[object], digits: int = 6) -> list[object]:
    return [None if value is None else round(float(value), digits) for value in values]


# --- hand-worked examples ------------------------------------------------------------------


def test_higher_is_better_worked_example() -> None:
    # Sorted 10, 20, 20, 40. Mean 22.5. Deviations -12.5, -2.5, -2.5, 17.5; squares sum to
    # 156.25 + 6.25 + 6.25 + 306.25 = 475; std = sqrt(475 / 3) = 12.583057392...
    # q1 at h = 0.75: 10 + 0.75 * 10 = 17.5; median at h = 1.5: 20; q3 at h = 2.25: 25.
    result = compute_figures(frame([10, 20, 20, 40]))
    assert column(result, "n") == [4, 4, 4, 4]
    assert column(result, "mean") == [22.5] * 4
    assert column(result, "median") == [20.0] * 4
    assert column(result, "q1") == [17.5] * 4
    assert column(result, "q3") == [25.0] * 4
    assert column(result, "min") == [10.0] * 4
    assert column(result, "max") == [40.0] * 4
    assert result["std"].iloc[0] == pytest.approx(12.583057392117917)
    assert column(result, "rank") == [4, 2, 2, 1]
    # percentile = 100 * (4 - rank) / 3
    assert rounded(column(result, "percentile")) == [0.0, 66.666667, 66.666667, 100.0]
    # green: rank <= 1; red: rank > 3
    assert column(result, "band") == ["red", "yellow", "yellow", "green"]
    # z = (value - 22.5) / 12.583057
    assert rounded(column(result, "z")) == [-0.993399, -0.19868, -0.19868, 1.390759]
    # score = 100 * (value - 10) / 30
    assert rounded(column(result, "score")) == [0.0, 33.333333, 33.333333, 100.0]


def test_lower_is_better_worked_example() -> None:
    result = compute_figures(frame([10, 20, 20, 40], "lower"))
    assert column(result, "rank") == [1, 2, 2, 4]
    assert rounded(column(result, "percentile")) == [100.0, 66.666667, 66.666667, 0.0]
    assert column(result, "band") == ["green", "yellow", "yellow", "red"]
    # Sign flipped: below the mean is good.
    assert rounded(column(result, "z")) == [0.993399, 0.19868, 0.19868, -1.390759]
    # best = 10, worst = 40: score = 100 * (value - 40) / (10 - 40)
    assert rounded(column(result, "score")) == [100.0, 66.666667, 66.666667, 0.0]
    assert math.copysign(1.0, result["score"].iloc[3]) == 1.0  # 0, not -0
    # Group figures do not depend on polarity.
    assert column(result, "median") == [20.0] * 4


def test_neutral_worked_example() -> None:
    result = compute_figures(frame([10, 20, 20, 40, None], "neutral"))
    assert column(result, "rank") == [4, 2, 2, 1, None]  # largest first
    assert rounded(column(result, "percentile")) == [0.0, 66.666667, 66.666667, 100.0, None]
    assert column(result, "band") == [None] * 5  # missing value included: no grey
    assert rounded(column(result, "z")) == [-0.993399, -0.19868, -0.19868, 1.390759, None]
    assert column(result, "score") == [None] * 5


def test_missing_values_get_group_figures_but_no_position() -> None:
    result = compute_figures(frame([None, 10, 20, 20, 40, None]))
    assert column(result, "n") == [4] * 6
    assert column(result, "mean") == [22.5] * 6
    assert column(result, "q1") == [17.5] * 6
    assert column(result, "rank") == [None, 4, 2, 2, 1, None]
    assert column(result, "band") == ["grey", "red", "yellow", "yellow", "green", "grey"]
    for name in ("percentile", "z", "score"):
        assert column(result, name)[0] is None
        assert column(result, name)[5] is None


def test_group_without_any_value() -> None:
    result = compute_figures(frame([None, None], "lower"))
    assert column(result, "n") == [0, 0]
    for name in ("mean", "median", "q1", "q3", "min", "max", "std", "rank", "z", "score"):
        assert column(result, name) == [None, None]
    assert column(result, "band") == ["grey", "grey"]


def test_single_value() -> None:
    result = compute_figures(frame([7.5]))
    assert column(result, "n") == [1]
    assert column(result, "mean") == [7.5]
    assert column(result, "median") == column(result, "q1") == column(result, "q3") == [7.5]
    assert column(result, "std") == [None]
    assert column(result, "rank") == [1]
    assert column(result, "percentile") == [None]
    assert column(result, "z") == [None]
    assert column(result, "score") == [50.0]
    # Taken literally: rank 1 > 3 * 1 / 4.
    assert column(result, "band") == ["red"]


def test_two_values() -> None:
    result = compute_figures(frame([1, 2]))
    assert column(result, "rank") == [2, 1]
    assert column(result, "percentile") == [0.0, 100.0]
    assert column(result, "band") == ["red", "yellow"]  # 1 <= 2/4 is false
    assert column(result, "median") == [1.5, 1.5]
    assert column(result, "q1") == [1.25, 1.25]
    assert column(result, "q3") == [1.75, 1.75]
    assert result["std"].iloc[0] == pytest.approx(math.sqrt(0.5))
    assert rounded(column(result, "z")) == [-0.707107, 0.707107]


def test_all_values_equal() -> None:
    result = compute_figures(frame([0.1, 0.1, 0.1]))
    assert column(result, "rank") == [1, 1, 1]
    assert column(result, "percentile") == [100.0] * 3
    assert column(result, "band") == ["yellow"] * 3  # 1 <= 3/4 false, 1 > 9/4 false
    assert column(result, "std") == [0.0] * 3
    assert column(result, "z") == [None] * 3
    assert column(result, "score") == [50.0] * 3


def test_band_boundaries_with_eight_values() -> None:
    # n = 8: green for rank <= 2, red for rank > 6.
    result = compute_figures(frame([8, 7, 6, 5, 4, 3, 2, 1]))
    assert column(result, "rank") == [1, 2, 3, 4, 5, 6, 7, 8]
    assert column(result, "band") == ["green"] * 2 + ["yellow"] * 4 + ["red"] * 2


def test_ties_at_a_band_boundary_share_the_best_rank() -> None:
    # n = 5: green for rank <= 1.25, red for rank > 3.75.
    result = compute_figures(frame([5, 5, 3, 2, 2]))
    assert column(result, "rank") == [1, 1, 3, 4, 4]
    assert column(result, "band") == ["green", "green", "yellow", "red", "red"]
    assert column(result, "percentile") == [100.0, 100.0, 50.0, 25.0, 25.0]


def test_floats_are_tied_only_when_equal() -> None:
    result = compute_figures(frame([0.1 + 0.2, 0.3, 0.3, -0.0, 0.0]))
    assert column(result, "rank") == [1, 2, 2, 4, 4]


def test_quartiles_match_excel_quartile_inc() -> None:
    # QUARTILE.INC({1,2,3,4},1) = 1.75, (…,2) = 2.5, (…,3) = 3.25.
    result = compute_figures(frame([4, 1, 3, 2]))
    assert (result["q1"].iloc[0], result["median"].iloc[0], result["q3"].iloc[0]) == (
        1.75,
        2.5,
        3.25,
    )
    # Microsoft's documentation example: QUARTILE.INC({1,2,4,7,8,9,10,12},1) = 3.5.
    result = compute_figures(frame([1, 2, 4, 7, 8, 9, 10, 12]))
    assert result["q1"].iloc[0] == 3.5
    assert result["median"].iloc[0] == 7.5
    assert result["q3"].iloc[0] == 9.25  # h = 5.25: 9 + 0.25 * (10 - 9)


def test_groups_are_independent_and_row_order_is_kept() -> None:
    parts = [
        frame([10, 20, 30], group_key="Vidzeme"),
        frame([30, 10], group_key="Latgale"),
        frame([1, 2, 3], period="2023", group_key="Vidzeme"),
        frame([3, 2, 1], indicator="OTHER", group_key="Vidzeme", polarity="lower"),
        frame([5], peer_group="all", group_key="all"),
    ]
    df = pd.concat(parts, ignore_index=True)
    shuffled = df.sample(frac=1.0, random_state=3)
    shuffled.index = [f"row{i}" for i in shuffled.index]  # a non-default index
    result = compute_figures(shuffled)
    assert result.index.equals(shuffled.index)
    assert result[shuffled.columns].equals(shuffled)
    ranks = result.sort_index(key=lambda index: index.str[3:].astype(int))["rank"].tolist()
    assert ranks == [3, 2, 1, 1, 2, 3, 2, 1, 3, 2, 1, 1]
    assert result.loc["row3", "n"] == 2
    assert result.loc["row3", "mean"] == 20.0


def test_duplicate_index_labels_are_kept() -> None:
    df = frame([1, 2, 3])
    df.index = [0, 0, 0]
    result = compute_figures(df)
    assert column(result, "rank") == [3, 2, 1]


def test_result_dtypes_and_input_untouched() -> None:
    df = frame([1, None, 3])
    original = df.copy()
    result = compute_figures(df)
    pd.testing.assert_frame_equal(df, original)
    assert str(result["n"].dtype) == "Int64"
    assert str(result["rank"].dtype) == "Int64"
    assert result["band"].dtype == object
    for name in ("mean", "median", "q1", "q3", "min", "max", "std", "percentile", "z", "score"):
        assert result[name].dtype == np.float64


def test_nullable_values_and_infinities_count_as_missing() -> None:
    df = frame([1, 2, 3, 4])
    df["value"] = pd.array([1.0, None, 3.0, np.inf], dtype="Float64")
    result = compute_figures(df)
    assert column(result, "n") == [2] * 4
    assert column(result, "rank") == [2, None, 1, None]


def test_empty_input() -> None:
    result = compute_figures(frame([]))
    assert len(result) == 0
    assert list(result.columns)[-len(FIGURES) :] == FIGURES


def test_bad_polarity_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown polarity best"):
        compute_figures(frame([1, 2], "best"))
    df = frame([1, 2])
    df.loc[1, "polarity"] = "lower"
    with pytest.raises(ValueError, match="polarity differs"):
        compute_figures(df)


def test_missing_column_is_refused() -> None:
    with pytest.raises(ValueError, match="group_key"):
        compute_figures(frame([1]).drop(columns="group_key"))


# --- property test of compute_figures against a naive implementation ----------------------


def naive_quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between order statistics, from the definition."""
    position = (len(ordered) - 1) * q
    below = int(position)  # floor, position >= 0
    fraction = position - below
    if below + 1 >= len(ordered):
        return ordered[below]
    return ordered[below] + fraction * (ordered[below + 1] - ordered[below])


def naive_figures(values: list[float | None], polarity: str) -> list[dict[str, object]]:
    population = [value for value in values if value is not None]
    n = len(population)
    ordered = sorted(population)
    group: dict[str, object] = {"n": n}
    if n:
        group |= {
            "mean": statistics.fmean(population),
            "median": naive_quantile(ordered, 0.5),
            "q1": naive_quantile(ordered, 0.25),
            "q3": naive_quantile(ordered, 0.75),
            "min": ordered[0],
            "max": ordered[-1],
            "std": statistics.stdev(population) if n >= 2 else None,
            "mad": statistics.median(abs(value - statistics.median(population)) for value in population),
        }
    else:
        group |= dict.fromkeys(["mean", "median", "q1", "q3", "min", "max", "std", "mad"])
    rows = []
    for value in values:
        row = dict(group)
        if value is None:
            row |= {"rank": None, "percentile": None, "z": None, "score": None}
            row["band"] = None if polarity == "neutral" else "grey"
            rows.append(row)
            continue
        if polarity == "lower":
            better = sum(1 for other in population if other < value)
        else:
            better = sum(1 for other in population if other > value)
        rank = better + 1
        row["rank"] = rank
        row["percentile"] = 100 * (n - rank) / (n - 1) if n >= 2 else None
        if polarity == "neutral":
            row["band"] = None
        elif rank <= n / 4:
            row["band"] = "green"
        elif rank > 3 * n / 4:
            row["band"] = "red"
        else:
            row["band"] = "yellow"
        std = group["std"]
        if std is None or std == 0:
            row["z"] = None
        else:
            z = (value - group["mean"]) / std
            row["z"] = -z if polarity == "lower" else z
        if polarity == "neutral":
            row["score"] = None
        elif ordered[0] == ordered[-1]:
            row["score"] = 50.0
        else:
            best, worst = (ordered[-1], ordered[0])
            if polarity == "lower":
                best, worst = worst, best
            row["score"] = 100 * (value - worst) / (best - worst)
        rows.append(row)
    return rows


# Values like real data (two decimals), drawn from a small pool so that ties are common.
tie_prone = st.sampled_from([-2.5, 0.0, 1.0, 1.0, 2.5, 3.0, 100.0])
decimal_values = st.integers(-1_000_000, 1_000_000).map(lambda cents: cents / 100)
values_strategy = st.one_of(tie_prone, decimal_values, st.none())
group_strategy = st.tuples(st.sampled_from(POLARITIES), st.lists(values_strategy, min_size=0, max_size=12))


def close(actual: object, expected: object, *, tolerance: float = 1e-9) -> bool:
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if isinstance(expected, str):
        return actual == expected
    return math.isclose(float(actual), float(expected), rel_tol=tolerance, abs_tol=tolerance)


def check_against_naive(groups: list[tuple[str, list[float | None]]], seed: int) -> None:
    parts = []
    for number, (polarity, values) in enumerate(groups):
        keys = {"indicator": f"I{number % 3}", "period": str(2020 + number % 2)}
        keys["group_key"] = f"G{number}"
        parts.append(frame(values, polarity, **keys))
    df = pd.concat(parts, ignore_index=True) if parts else frame([])
    df = df.sample(frac=1.0, random_state=seed)  # groups interleaved, index shuffled
    result = compute_figures(df)
    assert result.index.equals(df.index)

    for number, (polarity, values) in enumerate(groups):
        expected_rows = naive_figures(values, polarity)
        mine = result[result["group_key"] == f"G{number}"]
        mine = mine.set_index("municipality").loc[[f"m{i + 1}" for i in range(len(values))]]
        for position, expected in enumerate(expected_rows):
            actual = {name: None if pd.isna(value) else value for name, value in mine.iloc[position][FIGURES].items()}
            for name in FIGURES:
                tolerance = 1e-7 if name == "z" else 1e-9
                assert close(actual[name], expected[name], tolerance=tolerance), (
                    name,
                    values,
                    polarity,
                    position,
                    actual[name],
                    expected[name],
                )


@NO_DB
@given(groups=st.lists(group_strategy, min_size=1, max_size=6), seed=st.integers(0, 1000))
def test_figures_match_a_naive_implementation(groups: list[tuple[str, list[float | None]]], seed: int) -> None:
    check_against_naive(groups, seed)


@NO_DB
@given(
    polarity=st.sampled_from(POLARITIES),
    values=st.lists(
        # Any magnitude whose sum cannot overflow (the naive reference computes a mean).
        st.one_of(st.floats(min_value=-1e300, max_value=1e300), st.none()),
        max_size=10,
    ),
)
def test_rank_percentile_and_band_for_any_floats(polarity: str, values: list[float | None]) -> None:
    """Ranking only compares values, so it must be exact for every finite float."""
    result = compute_figures(frame(values, polarity))
    for actual, expected in zip(
        result[["rank", "percentile", "band", "min", "max", "n"]].itertuples(index=False),
        naive_figures(values, polarity),
        strict=True,
    ):
        assert (None if pd.isna(actual.rank) else actual.rank) == expected["rank"]
        assert close(None if pd.isna(actual.percentile) else actual.percentile, expected["percentile"])
        assert actual.band == expected["band"]
        assert actual.n == expected["n"]
        assert (None if pd.isna(actual.min) else actual.min) == expected["min"]


@NO_DB
@given(values=st.lists(decimal_values, min_size=1, max_size=20))
def test_quartiles_equal_numpy_quantile(values: list[float]) -> None:
    result = compute_figures(frame(values)).iloc[0]
    expected = np.quantile(np.array(values), [0.25, 0.5, 0.75])
    assert [result["q1"], result["median"], result["q3"]] == expected.tolist()


# --- compute_changes -----------------------------------------------------------------------


def changes_frame(rows: list[tuple[str, str, str, float | None, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "indicator": indicator,
                "municipality": municipality,
                "period": period,
                "value": np.nan if value is None else value,
                "polarity": polarity,
            }
            for indicator, municipality, period, value, polarity in rows
        ]
    )


def test_changes_worked_example() -> None:
    df = changes_frame(
        [
            ("I", "A", "2022", 100.0, "higher"),
            ("I", "A", "2023", 110.0, "higher"),
            ("I", "A", "2024", 99.0, "higher"),
            ("I", "B", "2024", 5.0, "higher"),  # B has no 2023 row
            ("I", "B", "2022", 4.0, "higher"),
            ("L", "A", "2023", 0.0, "lower"),
            ("L", "A", "2024", -3.0, "lower"),
            ("N", "A", "2023", 2.0, "neutral"),
            ("N", "A", "2024", 4.0, "neutral"),
            ("I", "C", "2023", None, "higher"),
            ("I", "C", "2024", 1.0, "higher"),
            ("L", "C", "2023", 7.0, "lower"),
            ("L", "C", "2024", 7.0, "lower"),
        ]
    )
    result = compute_changes(df, ["2022", "2023", "2024"])
    assert column(result, "previous_period") == [
        None, "2022", "2023", "2023", None, "2022", "2023", "2022", "2023",
        "2022", "2023", "2022", "2023",
    ]  # fmt: skip
    assert column(result, "previous_value") == [
        None, 100.0, 110.0, None, None, None, 0.0, None, 2.0, None, None, None, 7.0,
    ]  # fmt: skip
    assert column(result, "change_abs") == [
        None, 10.0, -11.0, None, None, None, -3.0, None, 2.0, None, None, None, 0.0,
    ]  # fmt: skip
    assert rounded(column(result, "change_rel")) == [
        None, 0.1, -0.1, None, None, None, None, None, 1.0, None, None, None, 0.0,
    ]  # fmt: skip
    assert result["improved"].tolist() == [
        None, True, False, None, None, None, True, None, None, None, None, None, False,
    ]  # fmt: skip
    assert all(type(flag) is bool for flag in result["improved"] if flag is not None)


def test_changes_relative_to_a_negative_previous_value() -> None:
    df = changes_frame([("I", "A", "1", -4.0, "higher"), ("I", "A", "2", -2.0, "higher")])
    result = compute_changes(df, {"1": 1, "2": 2})
    assert column(result, "change_rel") == [None, 0.5]  # 2 / |-4|
    assert column(result, "improved") == [None, True]


def test_changes_with_a_mapping_uses_the_order_not_the_key_distance() -> None:
    df = changes_frame([("I", "A", "2024-Q1", 1.0, "lower"), ("I", "A", "2023-Q4", 2.0, "lower")])
    result = compute_changes(df, {"2023-Q4": 20234, "2024-Q1": 20241, "2023-Q3": 20233})
    assert column(result, "previous_period") == ["2023-Q4", "2023-Q3"]
    assert column(result, "change_abs") == [-1.0, None]
    assert column(result, "improved") == [True, None]


def test_changes_refuse_ambiguous_input() -> None:
    df = changes_frame([("I", "A", "1", 1.0, "higher"), ("I", "A", "1", 2.0, "higher")])
    with pytest.raises(ValueError, match="more than one row"):
        compute_changes(df, ["1"])
    with pytest.raises(ValueError, match="not in period_order: 1"):
        compute_changes(df.iloc[:1], ["2"])
    with pytest.raises(ValueError, match="share a sort key"):
        compute_changes(df.iloc[:1], {"1": 1, "2": 1})


@NO_DB
@given(
    cells=st.dictionaries(
        st.tuples(st.sampled_from(["I", "J"]), st.sampled_from(["A", "B", "C"]), st.integers(0, 4)),
        st.one_of(st.sampled_from([0.0, 1.0, 2.0, -1.0]), decimal_values, st.none()),
        max_size=30,
    ),
    polarities=st.fixed_dictionaries({"I": st.sampled_from(POLARITIES), "J": st.sampled_from(POLARITIES)}),
    as_mapping=st.booleans(),
    seed=st.integers(0, 100),
)
def test_changes_match_a_naive_implementation(
    cells: dict[tuple[str, str, int], float | None],
    polarities: dict[str, str],
    as_mapping: bool,
    seed: int,
) -> None:
    periods = ["P0", "P1", "P2", "P3", "P4"]
    rows = [
        (indicator, municipality, periods[p], value, polarities[indicator])
        for (indicator, municipality, p), value in cells.items()
    ]
    df = changes_frame(rows)
    if not rows:
        df = pd.DataFrame(columns=["indicator", "municipality", "period", "value", "polarity"])
    df = df.sample(frac=1.0, random_state=seed)
    order: dict[str, int] | list[str] = (
        {period: 10 * i + 3 for i, period in enumerate(periods)} if as_mapping else periods
    )
    result = compute_changes(df, order)
    assert result.index.equals(df.index)
    for (indicator, municipality, p), value in cells.items():
        row = result[
            (result["indicator"] == indicator)
            & (result["municipality"] == municipality)
            & (result["period"] == periods[p])
        ].iloc[0]
        previous = cells.get((indicator, municipality, p - 1)) if p > 0 else None
        assert row["previous_period"] == (periods[p - 1] if p > 0 else None)
        if value is None or previous is None:
            assert pd.isna(row["change_abs"])
            assert pd.isna(row["change_rel"])
            assert row["improved"] is None
            continue
        change = value - previous
        assert row["previous_value"] == previous
        assert row["change_abs"] == change
        if previous == 0:
            assert pd.isna(row["change_rel"])
        else:
            assert row["change_rel"] == change / abs(previous)
        polarity = polarities[indicator]
        expected = {"higher": change > 0, "lower": change < 0, "neutral": None}[polarity]
        assert row["improved"] is expected


# --- compute_composite ---------------------------------------------------------------------


def scores_frame(rows: list[tuple[str, str, float | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "municipality": municipality,
                "period": "2024",
                "peer_group": "network",
                "group_key": "T3",
                "indicator": indicator,
                "score": np.nan if score is None else score,
            }
            for municipality, indicator, score in rows
        ]
    )


def test_composite_worked_example() -> None:
    weights = {"A": 3.0, "B": 2.0, "C": 1.0}
    df = scores_frame(
        [
            ("m1", "A", 100.0),
            ("m1", "B", 40.0),
            ("m1", "C", 10.0),
            ("m1", "OTHER", 0.0),  # not an index indicator: ignored
            ("m2", "A", 50.0),  # 3 of 6 = 50 %: not enough
            ("m2", "B", None),
            ("m3", "A", 20.0),  # 4 of 6 = 66.7 %
            ("m3", "C", 80.0),
            ("m4", "OTHER", 1.0),  # no index indicator at all
        ]
    )
    result = compute_composite(df, weights).set_index("municipality")
    # m1: (3 * 100 + 2 * 40 + 1 * 10) / 6 = 390 / 6 = 65
    assert result.loc["m1", "index_value"] == 65.0
    assert result.loc["m1", "coverage"] == 1.0
    assert np.isnan(result.loc["m2", "index_value"])
    assert result.loc["m2", "coverage"] == 0.5
    # m3: (3 * 20 + 1 * 80) / 4 = 35
    assert result.loc["m3", "index_value"] == 35.0
    assert result.loc["m3", "coverage"] == pytest.approx(4 / 6)
    assert np.isnan(result.loc["m4", "index_value"])
    assert result.loc["m4", "coverage"] == 0.0
    assert list(result.columns) == ["period", "peer_group", "group_key", "index_value", "coverage"]


@pytest.mark.parametrize(
    ("weights", "available", "given_"),
    [
        ({"A": 3, "B": 2}, ["A"], True),  # exactly 60 %
        ({"A": 3, "B": 2}, ["B"], False),  # 40 %
        ({code: 0.1 for code in "ABCDEFGHIJ"}, list("ABCDEF"), True),  # 0.1 * 6 / 1.0
        ({code: 0.1 for code in "ABCDEFGHIJ"}, list("ABCDE"), False),
        ({code: 0.2 for code in "ABCDE"}, list("ABC"), True),
        ({code: 1 / 3 for code in "ABCDEFGHIJ"}, list("GHIJAB"), True),
        ({"A": 0.7, "B": 0.1, "C": 0.2}, ["A"], True),  # 0.7 / 1.0
        ({"A": 0.6, "B": 0.4 - 1e-6}, ["B"], False),
        ({"A": 0.6 - 1e-6, "B": 0.4 + 1e-6}, ["A"], False),  # just below 60 %
    ],
)
def test_composite_sixty_percent_boundary(weights: dict[str, float], available: list[str], given_: bool) -> None:
    df = scores_frame([("m1", code, 50.0 if code in available else None) for code in weights])
    result = compute_composite(df, weights)
    assert (not np.isnan(result["index_value"].iloc[0])) is given_
    if given_:
        assert result["index_value"].iloc[0] == pytest.approx(50.0)


def test_composite_refuses_bad_weights() -> None:
    df = scores_frame([("m1", "A", 1.0)])
    with pytest.raises(ValueError, match="non-negative"):
        compute_composite(df, {"A": -1.0})
    with pytest.raises(ValueError, match="sum to zero"):
        compute_composite(df, {"A": 0.0})
    with pytest.raises(ValueError, match="more than one score"):
        compute_composite(pd.concat([df, df]), {"A": 1.0})


@NO_DB
@given(
    weights=st.dictionaries(st.sampled_from("ABCDEF"), st.integers(0, 20), min_size=1),
    cells=st.dictionaries(
        st.tuples(st.sampled_from(["m1", "m2", "m3"]), st.sampled_from("ABCDEFG")),
        st.one_of(st.floats(0, 100), st.none()),
        min_size=1,
    ),
    threshold=st.sampled_from([0.6, 0.5, 1.0]),
)
def test_composite_matches_a_naive_implementation(
    weights: dict[str, int], cells: dict[tuple[str, str], float | None], threshold: float
) -> None:
    assume(sum(weights.values()) > 0)
    df = scores_frame([(m, indicator, score) for (m, indicator), score in cells.items()])
    result = compute_composite(df, weights, coverage=threshold).set_index("municipality")
    total = sum(weights.values())
    municipalities = sorted({m for m, _ in cells})
    assert sorted(result.index) == municipalities
    for municipality in municipalities:
        available = {
            indicator: score
            for (m, indicator), score in cells.items()
            if m == municipality and indicator in weights and score is not None
        }
        weight = sum(weights[indicator] for indicator in available)
        coverage = Fraction(weight, total)
        row = result.loc[municipality]
        assert row["coverage"] == pytest.approx(float(coverage))
        if weight > 0 and coverage >= Fraction(threshold).limit_denominator(10):
            expected = sum(weights[i] * s for i, s in available.items()) / weight
            assert row["index_value"] == pytest.approx(expected, rel=1e-12, abs=1e-9)
        else:
            assert np.isnan(row["index_value"])


@NO_DB
@given(
    rows=st.lists(
        st.tuples(
            st.integers(1, 4),
            st.sampled_from(["network", "all", "region", "nearest:2"]),
            st.sampled_from(["T", "Kurzeme", "Zemgale", "a"]),
            st.sampled_from("ABCDE"),
            st.one_of(st.floats(-1e6, 1e6), st.none()),
        ),
        min_size=1,
        unique_by=lambda row: row[:4],
    ),
    text_keys=st.booleans(),
)
def test_composite_is_bit_identical_to_grouping_by_the_key_columns(rows, text_keys: bool) -> None:
    # The engine groups on one integer code per group; the figures, their order and the key
    # columns' types are those of a grouped sum over the key columns themselves.
    df = pd.DataFrame(rows, columns=["municipality", "peer_group", "group_key", "indicator", "score"])
    df["period"] = 7
    df["score"] = df["score"].astype("float64")
    if text_keys:
        df["peer_group"] = df["peer_group"].astype("string")
        df["group_key"] = df["group_key"].astype("string")
    weights = {"A": 2.0, "B": 1.0, "C": 0.5, "D": 3.0}
    result = compute_composite(df, weights)

    keys = ["municipality", "period", "peer_group", "group_key"]
    frame = df[keys].copy()
    available = df["indicator"].isin(list(weights)).to_numpy() & ~np.isnan(df["score"].to_numpy())
    weight = df["indicator"].map(weights).fillna(0).to_numpy()
    frame["_weight"] = np.where(available, weight, 0.0)
    frame["_weighted"] = np.where(available, weight * df["score"].to_numpy(), 0.0)
    sums = frame.groupby(keys, sort=True, dropna=False)[["_weight", "_weighted"]].sum()
    expected = sums.index.to_frame(index=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        index_value = sums["_weighted"].to_numpy() / sums["_weight"].to_numpy()
    share = sums["_weight"].to_numpy() / sum(weights.values())
    expected["index_value"] = np.where((share >= 0.6 - 1e-9) & (sums["_weight"].to_numpy() > 0), index_value, np.nan)
    expected["coverage"] = share
    pd.testing.assert_frame_equal(result, expected, check_exact=True)
    for column in ("index_value", "coverage"):
        assert result[column].to_numpy().tobytes() == expected[column].to_numpy().tobytes()


# --- nearest neighbours --------------------------------------------------------------------


def test_nearest_neighbours_worked_example_and_tie_rule() -> None:
    context = pd.DataFrame(
        {"population": [0.0, 1.0, 2.0, 3.0, 100.0, np.nan]},
        index=["a", "b", "c", "d", "z", "x"],
    )
    result = nearest_neighbours(context, 2)
    assert result["a"] == ["b", "c"]
    assert result["b"] == ["a", "c"]  # a and c tie at distance 1: by code
    assert result["c"] == ["b", "d"]
    assert result["z"] == ["d", "c"]
    assert result["x"] == []  # missing context: excluded
    assert all("x" not in neighbours for neighbours in result.values())
    assert nearest_neighbours(context, 1)["b"] == ["a"]
    assert nearest_neighbours(context, 10)["a"] == ["b", "c", "d", "z"]
    assert nearest_neighbours(context, 0)["a"] == []


def test_tie_rule_uses_code_not_input_order() -> None:
    context = pd.DataFrame({"v": [5.0, 1.0, 5.0, 5.0]}, index=["q", "focal", "b", "m"])
    assert nearest_neighbours(context, 2)["focal"] == ["b", "m"]


def test_standardisation_is_mean_zero_population_std_one() -> None:
    context = pd.DataFrame(
        {"x": [0.0, 0.0, 2.0, 2.0, 9.0], "y": [0.0, 1.0, 2.0, 3.0, np.nan], "k": 0.1},
        index=["m0", "m1", "m2", "m3", "m4"],
    )
    standard = standardise_context(context)
    assert list(standard.index) == ["m0", "m1", "m2", "m3"]  # m4 has a missing value
    assert standard["x"].tolist() == [-1.0, -1.0, 1.0, 1.0]  # mean 1, population std 1
    assert standard["y"].mean() == pytest.approx(0.0)
    assert standard["y"].std(ddof=0) == pytest.approx(1.0)
    assert standard["k"].tolist() == [0.0] * 4  # zero spread contributes nothing


def test_distance_contributions_worked_example() -> None:
    # Over m0..m3: x = 0, 0, 2, 2 -> z = -1, -1, 1, 1 (mean 1, population std 1);
    # y = 0, 1, 2, 3 -> mean 1.5, population std sqrt(1.25). Between m0 and m3:
    # dx^2 = 4, dy^2 = 9 / 1.25 = 7.2; shares 4 / 11.2 = 5/14 and 7.2 / 11.2 = 9/14.
    context = pd.DataFrame(
        {"x": [0.0, 0.0, 2.0, 2.0, 9.0], "y": [0.0, 1.0, 2.0, 3.0, np.nan], "k": 0.1},
        index=["m0", "m1", "m2", "m3", "m4"],
    )
    shares = distance_contributions(context, "m0", "m3")
    assert list(shares) == ["x", "y", "k"]
    assert shares["x"] == pytest.approx(5 / 14)
    assert shares["y"] == pytest.approx(9 / 14)
    assert shares["k"] == 0.0
    assert distance_contributions(context, "m0", "m0") == {"x": 0.0, "y": 0.0, "k": 0.0}
    with pytest.raises(KeyError, match="m4"):
        distance_contributions(context, "m0", "m4")
    with pytest.raises(KeyError, match="nowhere"):
        distance_contributions(context, "nowhere", "m0")


def brute_force_standardise(rows: dict[str, list[float | None]], variables: int) -> dict[str, list[float]]:
    complete = {code: values for code, values in rows.items() if None not in values}
    columns = []
    for variable in range(variables):
        data = [values[variable] for values in complete.values()]
        mean = statistics.fmean(data) if data else 0.0
        spread = statistics.pstdev(data) if data else 0.0
        constant = not data or min(data) == max(data)
        columns.append([0.0 if constant else (x - mean) / spread for x in data])
    return {code: [column[i] for column in columns] for i, code in enumerate(complete)}


@NO_DB
@given(
    rows=st.dictionaries(
        st.text(alphabet="abcdefgh", min_size=1, max_size=3),
        st.lists(
            st.one_of(st.sampled_from([0.0, 1.0, 2.0, 5.0]), decimal_values, st.none()),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=12,
    ),
    variables=st.integers(1, 3),
    k=st.integers(0, 5),
)
def test_nearest_neighbours_match_brute_force(rows: dict[str, list[float | None]], variables: int, k: int) -> None:
    rows = {code: values[:variables] for code, values in rows.items()}
    context = pd.DataFrame(
        [[np.nan if v is None else v for v in values] for values in rows.values()],
        index=list(rows),
        columns=[f"v{i}" for i in range(variables)],
    )
    result = nearest_neighbours(context, k)
    standard = brute_force_standardise(rows, variables)
    assert set(result) == set(rows)

    def squared_distance(a: str, b: str) -> float:
        return sum((x - y) ** 2 for x, y in zip(standard[a], standard[b], strict=True))

    for code in rows:
        if code not in standard:
            assert result[code] == []
            continue
        actual = result[code]
        others = sorted((squared_distance(code, other), other) for other in standard if other != code)
        # Tie rule from the definition: distances equal up to float noise, then by code.
        tie_groups: list[list[tuple[float, str]]] = []
        for entry in others:
            if tie_groups and entry[0] - tie_groups[-1][-1][0] <= 1e-9 * entry[0]:
                tie_groups[-1].append(entry)
            else:
                tie_groups.append([entry])
        expected = [name for group in tie_groups for _, name in sorted(group, key=lambda e: e[1])]
        expected = expected[:k]
        assert len(actual) == len(expected)
        assert len(set(actual)) == len(actual) and code not in actual
        # The same distances in the same order, up to float noise ...
        for name, expected_name in zip(actual, expected, strict=True):
            assert math.isclose(squared_distance(code, name), squared_distance(code, expected_name), rel_tol=1e-9)
        # ... and exactly the same list unless two distances are too close to call.
        ambiguous = any(1e-13 * b < b - a <= 1e-7 * b for (a, _), (b, _) in itertools.pairwise(others))
        if not ambiguous:
            assert actual == expected

        for other in actual:
            shares = distance_contributions(context, code, other)
            squared = [(x - y) ** 2 for x, y in zip(standard[code], standard[other], strict=True)]
            total = sum(squared)
            for share, part in zip(shares.values(), squared, strict=True):
                assert math.isclose(share, part / total if total else 0.0, abs_tol=1e-9)
            assert math.isclose(sum(shares.values()), 1.0 if total else 0.0, abs_tol=1e-9)
