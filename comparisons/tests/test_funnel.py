"""Funnel limits against an independent computation: the probabilities summed term by term.

`comparisons.funnel` asks scipy for the distribution functions; here each probability is the sum
of the probability mass function written out with `math.lgamma`, the quantile found by walking
up the counts, and Spiegelhalter's interpolation applied by hand. Two quantiles are also checked
against printed tables of the Poisson distribution.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from comparisons import funnel

# --- the independent computation ----------------------------------------------------------------


def poisson_pmf(k: int, mean: float) -> float:
    return math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))


def binomial_pmf(k: int, n: int, p: float) -> float:
    return math.exp(
        math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(p) + (n - k) * math.log1p(-p)
    )


def by_hand(kind: str, p0: float, n: float, probability: float) -> float:
    """Spiegelhalter (2005) A.1.1 step by step: r the smallest count with F(r) >= P,
    a = (F(r) - P) / (F(r) - F(r - 1)), the limit (r - a) / n, clipped to the possible values."""
    size = round(n) if kind == "binomial" else n

    def pmf(k: int) -> float:
        return poisson_pmf(k, p0 * size) if kind == "poisson" else binomial_pmf(k, size, p0)

    below, r = 0.0, 0
    while True:
        at = below + pmf(r)
        if at >= probability:
            break
        below, r = at, r + 1
    alpha = (at - probability) / (at - below)
    limit = (r - alpha) / size
    return min(max(limit, 0.0), 1.0 if kind == "binomial" else math.inf)


POINTS = [
    ("poisson", p0, n, probability)
    for p0 in (0.0009, 0.0123, 0.3)
    for n in (1, 7.5, 100, 2345, 40000)
    for probability in (0.001, 0.025, 0.975, 0.999)
] + [
    ("binomial", p0, n, probability)
    for p0 in (0.05, 0.5, 0.93)
    for n in (1, 3, 20, 500, 5000)
    for probability in (0.001, 0.025, 0.975, 0.999)
]


@pytest.mark.parametrize(("kind", "p0", "n", "probability"), POINTS)
def test_limits_match_the_probabilities_summed_by_hand(kind, p0, n, probability):
    (limit,) = funnel.exact_limit(kind, p0, [n], probability)
    assert limit == pytest.approx(by_hand(kind, p0, n, probability), rel=1e-9, abs=1e-12)


def test_quantiles_of_printed_poisson_tables():
    """Mean 10: P(O <= 16) = 0.9730 and P(O <= 17) = 0.9857, so the 97.5 % quantile is 17 and
    the interpolated limit lies between 16 and 17 counts; P(O <= 3) = 0.0103 and
    P(O <= 4) = 0.0293, so the 2.5 % quantile is 4."""
    (upper,) = funnel.exact_limit("poisson", 0.01, [1000], 0.975)
    (lower,) = funnel.exact_limit("poisson", 0.01, [1000], 0.025)
    assert 0.016 < upper < 0.017
    assert upper == pytest.approx((17 - (0.98572 - 0.975) / (0.98572 - 0.97296)) / 1000, abs=1e-6)
    assert 0.003 < lower < 0.004
    assert lower == pytest.approx((4 - (0.02925 - 0.025) / (0.02925 - 0.01034)) / 1000, abs=1e-6)


def test_the_limits_narrow_as_the_denominator_grows():
    curves = funnel.funnel_curves("poisson", 0.0123, multiplier=1000, low=50, high=50000)
    widths = (curves["upper_95"] - curves["lower_95"]).to_numpy()
    # Counts are whole numbers: at a mean below ~10 the limits may wobble; beyond, they narrow.
    settled = widths[curves["denominator"].to_numpy() * 0.0123 >= 10]
    assert len(settled) > 50 and np.all(np.diff(settled) < 0)
    assert widths[-1] < widths[0] / 10
    assert (curves["upper_998"] >= curves["upper_95"]).all() and (curves["lower_998"] <= curves["lower_95"]).all()
    # At a mean of 615 the normal approximation is close: p0 + 1.96 sqrt(p0 / n).
    assert curves["upper_95"].iloc[-1] == pytest.approx(1000 * (0.0123 + 1.96 * math.sqrt(0.0123 / 50000)), rel=0.002)


# --- edge cases -----------------------------------------------------------------------------------


def test_no_limits_without_a_positive_denominator():
    limits = funnel.exact_limit("poisson", 0.01, [0, -5, float("nan")], 0.975)
    assert np.isnan(limits).all()
    assert np.isnan(funnel.exact_limit("binomial", 0.5, [0.2], 0.975)).all()  # rounds to 0 trials


def test_a_peer_value_of_zero_gives_limits_of_zero():
    for kind in funnel.KINDS:
        for probability in (0.001, 0.975):
            assert funnel.exact_limit(kind, 0.0, [1, 100], probability).tolist() == [0.0, 0.0]
    assert funnel.exact_limit("binomial", 1.0, [3], 0.025).tolist() == [1.0]


def test_a_missing_or_impossible_peer_value_gives_no_limits():
    assert np.isnan(funnel.exact_limit("poisson", None, [10], 0.975)).all()
    assert np.isnan(funnel.exact_limit("binomial", 1.5, [10], 0.975)).all()
    with pytest.raises(ValueError, match="unknown kind"):
        funnel.exact_limit("normal", 0.5, [10], 0.975)


def test_tiny_denominators():
    # Mean 0.0009: even one event is beyond the upper 95 % limit; the lower limits are 0.
    assert funnel.exact_limit("poisson", 0.0009, [1], 0.975)[0] == pytest.approx(by_hand("poisson", 0.0009, 1, 0.975))
    assert funnel.exact_limit("poisson", 0.0009, [1], 0.025)[0] == 0.0
    # One trial: the limits lie between 0 and 1.
    upper = funnel.exact_limit("binomial", 0.3, [1], 0.975)[0]
    assert upper == pytest.approx(1 - 0.025 / 0.3)


# --- the municipalities -----------------------------------------------------------------------------


def test_pooled_rate_is_the_sum_of_numerators_over_the_sum_of_denominators():
    assert funnel.pooled_rate([1, 9, None], [10, 990, 5]) == pytest.approx(0.01)
    assert funnel.pooled_rate([1], [0]) is None


def test_each_municipality_is_placed_inside_or_outside():
    frame = pd.DataFrame(
        {
            "name": ["large", "typical", "high", "very high", "low", "small", "no denominator", "missing"],
            "numerator": [1000, 100, 127, 150, 0, 0, 3, None],
            "denominator": [100000, 10000, 10000, 10000, 2000, 50, 0, 100],
        }
    )
    p0, points = funnel.funnel_points(frame, kind="poisson", multiplier=1000)
    p = 1377 / 132050
    assert p0 == pytest.approx(1000 * p)
    positions = dict(zip(points["name"], points["position"], strict=True))
    assert positions == {
        "large": funnel.INSIDE,
        "typical": funnel.INSIDE,
        "high": funnel.ABOVE_95,
        "very high": funnel.ABOVE_998,
        "low": funnel.BELOW_998,
        "small": funnel.INSIDE,  # none out of 50 is what chance gives a small municipality
        "no denominator": None,
        "missing": None,
    }
    row = points.iloc[2]
    assert row["value"] == pytest.approx(12.7)
    assert row["upper_95"] == pytest.approx(1000 * by_hand("poisson", p, 10000, 0.975))
    assert row["upper_998"] == pytest.approx(1000 * by_hand("poisson", p, 10000, 0.999))
    assert row["lower_95"] < 1000 * p < row["upper_95"] < row["value"] < row["upper_998"]


def test_a_proportion_above_its_total_is_not_placed():
    frame = pd.DataFrame({"numerator": [5, 12, 40], "denominator": [10, 10, 100]})
    p0, points = funnel.funnel_points(frame, kind="binomial", multiplier=100)
    assert p0 == pytest.approx(100 * 45 / 110)
    assert points["position"].tolist()[1] is None
    assert points["position"].tolist()[0] == funnel.INSIDE


def test_no_peer_value_when_nobody_has_both_figures():
    frame = pd.DataFrame({"numerator": [None, 1], "denominator": [10, 0]})
    p0, points = funnel.funnel_points(frame, kind="poisson")
    assert p0 is None
    assert points["position"].tolist() == [None, None]


def test_a_value_on_a_limit_is_inside():
    limits = {"lower_95": 1.0, "upper_95": 2.0, "lower_998": 0.5, "upper_998": 3.0}
    assert funnel.classify(2.0, **limits) == funnel.INSIDE
    assert funnel.classify(1.0, **limits) == funnel.INSIDE
    assert funnel.classify(3.0, **limits) == funnel.ABOVE_95
    assert funnel.classify(0.4, **limits) == funnel.BELOW_998
    assert funnel.classify(float("nan"), **limits) is None


# --- which formulas have a funnel ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000 * BIRTHS / POPULATION", ("BIRTHS", "POPULATION", 1000.0)),
        ("BIRTHS / POPULATION", ("BIRTHS", "POPULATION", 1.0)),
        ("BIRTHS * 100 / POPULATION", ("BIRTHS", "POPULATION", 100.0)),
        ("100 * (BIRTHS / POPULATION)", ("BIRTHS", "POPULATION", 100.0)),
        ("(BIRTHS / POPULATION) * 100", ("BIRTHS", "POPULATION", 100.0)),
        ("BIRTHS / POPULATION * 100", ("BIRTHS", "POPULATION", 100.0)),
        ("(BIRTHS + DEATHS) / POPULATION", None),
        ("1000 * BIRTHS / POPULATION - 1", None),
        ("-BIRTHS / POPULATION", None),
        ("BIRTHS / (POPULATION / 1000)", None),
        ("BIRTHS * DEATHS / POPULATION", None),
        ("BIRTHS / BIRTHS", None),
        ("0 * BIRTHS / POPULATION", None),
        ("BIRTHS", None),
        ("1000 *", None),
    ],
)
def test_the_form_of_the_formula(text, expected):
    form = funnel.funnel_form(text)
    assert (None if form is None else (form.numerator, form.denominator, form.multiplier)) == expected
