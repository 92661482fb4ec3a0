"""Funnel plots: exact control limits for an indicator whose numerator is a count.

What it is: pure functions (no ORM, no request, no settings) that say how far a municipality's
rate or proportion may lie from the peer value by chance alone, given its denominator, and on
which side of those limits each municipality lies. The construction is Spiegelhalter (2005),
"Funnel plots for comparing institutional performance", Statistics in Medicine 24:1185-1202,
appendix A.1.1: exact quantiles of the count's distribution with interpolation.

The model. The peer value ``p0`` is the pooled rate of the peer group: the sum of the numerators
divided by the sum of the denominators (not the mean of the rates, which would give a small
municipality the weight of a large one). For a municipality with denominator ``n``:

* ``poisson`` (a count of events, e.g. births per 1000 inhabitants): the count O is
  Poisson(p0 * n); ``n`` may be any positive number.
* ``binomial`` (a count out of a total, e.g. children in kindergarten out of all children): O is
  Binomial(n, p0); ``n`` is a whole number (rounded to the nearest), ``p0`` at most 1.

The limit at probability ``P`` (0.025 and 0.975 for the 95 % limits, 0.001 and 0.999 for
99.8 %) is ``(r - a) / n`` on the scale of O / n, where ``r`` is the smallest count with
F(r) >= P (F the distribution function) and ``a = (F(r) - P) / (F(r) - F(r - 1))``: the
interpolation makes the limit a smooth curve in ``n`` instead of a staircase. Limits are
clipped to what O / n can take (from 0; for a proportion at most 1) and multiplied by the
formula's constant (``1000`` in ``1000 * BIRTHS / POPULATION``).

Rules every function shares. A denominator that is missing, zero or negative, or a missing
numerator, gives no limits and no classification (NaN / None), never an error. ``p0 = 0``
gives limits of 0 (and ``p0 = 1`` for a proportion limits of 1): nothing else is possible by
chance. A value exactly on a limit is inside it (ties go to "not distinguishable").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from indicators.formula import BinaryOp, Code, Formula, Node, Number, parse_formula

POISSON = "poisson"
BINOMIAL = "binomial"
KINDS = (POISSON, BINOMIAL)

# The two limits of a funnel plot, as coverages; each is drawn as a lower and an upper curve.
LEVELS = (0.95, 0.998)

# Where a municipality lies: inside the 95 % limits, or beyond the 95 % (but within 99.8 %) or
# beyond the 99.8 % limits, above or below.
INSIDE = "inside"
ABOVE_95 = "above_95"
BELOW_95 = "below_95"
ABOVE_998 = "above_998"
BELOW_998 = "below_998"


@dataclass(frozen=True, slots=True)
class FunnelForm:
    """An indicator formula of the form ``[k *] NUMERATOR / DENOMINATOR``."""

    numerator: str
    denominator: str
    multiplier: float


def funnel_form(formula: Formula | str) -> FunnelForm | None:
    """The count, the denominator and the constant of a formula, or None for any other form.

    Accepted: ``A / B``, ``k * A / B``, ``A * k / B``, ``k * (A / B)``, ``(A / B) * k`` and
    ``A / B * k`` with ``k`` a positive number and ``A``, ``B`` two different data item codes.
    Anything else (sums, differences, a minus sign, a product of two items, a constant in the
    denominator) has no funnel plot: its numerator is not one count.
    """
    if isinstance(formula, str):
        try:
            formula = parse_formula(formula)
        except ValueError:
            return None
    root: Node = formula.root
    multiplier = 1.0
    if isinstance(root, BinaryOp) and root.op == "*":
        if isinstance(root.left, Number) and _is_ratio(root.right):
            multiplier, root = root.left.value, root.right
        elif isinstance(root.right, Number) and _is_ratio(root.left):
            multiplier, root = root.right.value, root.left
    if not (isinstance(root, BinaryOp) and root.op == "/" and isinstance(root.right, Code)):
        return None
    numerator = root.left
    if isinstance(numerator, BinaryOp) and numerator.op == "*":
        if isinstance(numerator.left, Number) and isinstance(numerator.right, Code):
            multiplier, numerator = multiplier * numerator.left.value, numerator.right
        elif isinstance(numerator.right, Number) and isinstance(numerator.left, Code):
            multiplier, numerator = multiplier * numerator.right.value, numerator.left
    if not isinstance(numerator, Code) or numerator.name == root.right.name or not multiplier > 0:
        return None
    return FunnelForm(numerator=numerator.name, denominator=root.right.name, multiplier=multiplier)


def _is_ratio(node: Node) -> bool:
    return (
        isinstance(node, BinaryOp) and node.op == "/" and isinstance(node.left, Code) and isinstance(node.right, Code)
    )


def pooled_rate(numerators, denominators) -> float | None:
    """The peer value: sum of the numerators / sum of the denominators, over the municipalities
    that have both (a positive denominator and a numerator); None when there are none."""
    o = np.asarray(numerators, dtype=np.float64)
    n = np.asarray(denominators, dtype=np.float64)
    kept = np.isfinite(o) & np.isfinite(n) & (n > 0)
    if not kept.any():
        return None
    return float(o[kept].sum() / n[kept].sum())


def exact_limit(kind: str, p0: float, denominators, probability: float) -> np.ndarray:
    """The limit at ``probability`` on the scale of O / n, for every denominator (module docstring).

    ``kind``: ``poisson`` or ``binomial``. Returns float64, NaN where a denominator is missing
    or not positive (or ``p0`` is missing, negative, or above 1 for a proportion).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind of count: {kind!r}")
    n = np.atleast_1d(np.asarray(denominators, dtype=np.float64))
    if kind == BINOMIAL:
        n = np.round(n)
    result = np.full(n.shape, np.nan)
    valid = np.isfinite(n) & (n > 0)
    if p0 is None or not np.isfinite(p0) or p0 < 0 or (kind == BINOMIAL and p0 > 1) or not valid.any():
        return result
    size = n[valid]
    if p0 == 0 or (kind == BINOMIAL and p0 == 1):
        result[valid] = p0  # the count cannot vary: every O / n equals p0
        return result
    distribution = stats.poisson(p0 * size) if kind == POISSON else stats.binom(size, p0)
    r = distribution.ppf(probability)
    # The quantile as defined (smallest r with F(r) >= P), whatever the floating point did.
    r = np.where(distribution.cdf(r - 1) >= probability, r - 1, r)
    r = np.where(distribution.cdf(r) < probability, r + 1, r)
    at, below = distribution.cdf(r), distribution.cdf(r - 1)
    step = at - below
    alpha = np.where(step > 0, (at - probability) / np.where(step > 0, step, 1), 0.0)
    limit = (r - alpha) / size
    upper = 1.0 if kind == BINOMIAL else np.inf
    result[valid] = np.clip(limit, 0.0, upper)
    return result


def limit_probabilities(level: float) -> tuple[float, float]:
    """The lower and upper probabilities of a two-sided coverage (0.95 -> 0.025, 0.975)."""
    tail = (1 - level) / 2
    return tail, 1 - tail


def _level_key(level: float) -> str:
    return f"{level * 100:g}".replace(".", "")  # 0.95 -> "95", 0.998 -> "998"


def funnel_curves(
    kind: str, p0: float, *, multiplier: float = 1.0, low: float, high: float, points: int = 120
) -> pd.DataFrame:
    """The funnel's limits over a range of denominators, for drawing the curves.

    Denominators from about ``low`` to about ``high`` (a geometric sequence — the funnel bends
    most at small denominators — rounded to two significant figures, without repeats; for a
    proportion whole numbers). Columns ``denominator``,
    ``lower_95``, ``upper_95``, ``lower_998``, ``upper_998``, in the indicator's unit (times
    ``multiplier``). Empty when the range has no positive denominator.
    """
    low, high = max(float(low), 0.0), float(high)
    if not np.isfinite(high) or high <= 0:
        return pd.DataFrame(columns=["denominator", *_limit_columns()])
    low = low if low > 0 else min(1.0, high)
    denominators = np.geomspace(low, high, num=max(points, 2)) if high > low else np.array([high])
    # A drawing grid: two significant figures (steps of 1-10 %) are smooth on screen and keep
    # the page's JSON short; the limits are exact at each grid point.
    denominators = np.unique([float(f"{d:.2g}") for d in denominators])
    if kind == BINOMIAL:
        denominators = np.unique(np.maximum(np.round(denominators), 1))
    frame = pd.DataFrame({"denominator": denominators})
    for level in LEVELS:
        lower, upper = limit_probabilities(level)
        key = _level_key(level)
        frame[f"lower_{key}"] = exact_limit(kind, p0, denominators, lower) * multiplier
        frame[f"upper_{key}"] = exact_limit(kind, p0, denominators, upper) * multiplier
    return frame


def _limit_columns() -> list[str]:
    return [f"{side}_{_level_key(level)}" for level in LEVELS for side in ("lower", "upper")]


def funnel_points(frame: pd.DataFrame, *, kind: str, multiplier: float = 1.0) -> tuple[float | None, pd.DataFrame]:
    """The peer value and, for each municipality, its value, limits and place in the funnel.

    ``frame``: one row per municipality with ``numerator`` (the count) and ``denominator``,
    other columns kept. Returns ``(p0 * multiplier, frame)`` with added ``value`` (``multiplier
    * numerator / denominator``), the four limit columns at the municipality's denominator and
    ``position``: ``inside``, ``above_95``, ``below_95``, ``above_998``, ``below_998`` or None
    (missing figures, a denominator not positive, or for a proportion a count above its total).
    ``p0`` is None, and every position None, when no municipality has both figures.
    """
    result = frame.copy()
    o = pd.to_numeric(result["numerator"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    n = pd.to_numeric(result["denominator"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    usable = np.isfinite(o) & np.isfinite(n) & (n > 0) & (o >= 0)
    if kind == BINOMIAL:
        usable &= o <= n
    p0 = pooled_rate(o[usable], n[usable])
    with np.errstate(all="ignore"):
        result["value"] = np.where(usable, multiplier * o / np.where(usable, n, 1), np.nan)
    positions: list[str | None] = [None] * len(result)
    for level in LEVELS:
        lower, upper = limit_probabilities(level)
        key = _level_key(level)
        result[f"lower_{key}"] = np.where(usable, exact_limit(kind, p0, n, lower) * multiplier, np.nan)
        result[f"upper_{key}"] = np.where(usable, exact_limit(kind, p0, n, upper) * multiplier, np.nan)
    if p0 is not None:
        values = result["value"].to_numpy()
        for index in np.flatnonzero(usable):
            positions[index] = classify(
                values[index],
                lower_95=result["lower_95"].iat[index],
                upper_95=result["upper_95"].iat[index],
                lower_998=result["lower_998"].iat[index],
                upper_998=result["upper_998"].iat[index],
            )
    result["position"] = pd.Series(positions, index=result.index, dtype=object)
    return (None if p0 is None else p0 * multiplier), result


def classify(value: float, *, lower_95: float, upper_95: float, lower_998: float, upper_998: float) -> str | None:
    """Where ``value`` lies against the limits (all in the same unit); on a limit is inside."""
    if not all(np.isfinite(x) for x in (value, lower_95, upper_95, lower_998, upper_998)):
        return None
    if value > upper_998:
        return ABOVE_998
    if value < lower_998:
        return BELOW_998
    if value > upper_95:
        return ABOVE_95
    if value < lower_95:
        return BELOW_95
    return INSIDE
