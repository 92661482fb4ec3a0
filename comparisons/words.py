"""Figures said in words for decision makers (docs/statistics.md, "Words").

Pure functions of stored figures — no database, no request — so one table of cases tests every
rule. A sentence compares a municipality's value with its peer group's median, in bands of the
distance measured in the group's median absolute deviation (MAD, ``Result.mad``):

* distance = |value - median| / MAD;
* below 0.5: "broadly similar to"; 0.5 up to 1.5: "slightly better/worse than"; 1.5 up to and
  including 3: "better/worse than"; above 3 up to and including 7.5: "much better/worse than";
  above 7.5: the value is unusual and should be checked, neither praised nor blamed;
* better or worse follows the indicator's polarity; a neutral indicator says higher or lower;
* no sentence when fewer than five municipalities have a figure or the MAD is 0 (then the
  figures stand alone), nor when the median is unknown.

The figures are always in the sentence itself: words never stand without the numbers they
describe, and never judge ("expensive", "failing").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from django.utils.translation import gettext_lazy, ngettext

from networks.models import page_gettext as _

from .dashboard_views.tables import number

MIN_PEERS = 5
SIMILAR_BELOW = 0.5
SLIGHTLY_BELOW = 1.5
CLEARLY_UP_TO = 3.0
UNUSUAL_ABOVE = 7.5

# Tones: what the sentence says, for the page's colour and icon (never the only signal).
BETTER, WORSE, SIMILAR, HIGHER, LOWER, UNUSUAL, MISSING = (
    "better",
    "worse",
    "similar",
    "higher",
    "lower",
    "unusual",
    "missing",
)


@dataclass(frozen=True)
class Words:
    text: str
    tone: str


def _present(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _figure(value: float, decimals: int | None, unit: str) -> str:
    text = number(value, decimals)
    return f"{text}\u00a0{unit}" if unit else text


def distance_band(distance: float) -> str:
    """``similar``, ``slightly``, ``clearly``, ``much`` or ``unusual`` for a distance in MAD."""
    if distance < SIMILAR_BELOW:
        return "similar"
    if distance < SLIGHTLY_BELOW:
        return "slightly"
    if distance <= CLEARLY_UP_TO:
        return "clearly"
    if distance <= UNUSUAL_ABOVE:
        return "much"
    return "unusual"


# The comparison phrase of each band and direction. Lazy: a page of a thousand cells translates
# the one phrase each cell says, not all twelve.
PHRASES = {
    ("slightly", "better"): gettext_lazy("slightly better than the peer median (%(median)s)"),
    ("clearly", "better"): gettext_lazy("better than the peer median (%(median)s)"),
    ("much", "better"): gettext_lazy("much better than the peer median (%(median)s)"),
    ("slightly", "worse"): gettext_lazy("slightly worse than the peer median (%(median)s)"),
    ("clearly", "worse"): gettext_lazy("worse than the peer median (%(median)s)"),
    ("much", "worse"): gettext_lazy("much worse than the peer median (%(median)s)"),
    ("slightly", "higher"): gettext_lazy("slightly higher than the peer median (%(median)s)"),
    ("clearly", "higher"): gettext_lazy("higher than the peer median (%(median)s)"),
    ("much", "higher"): gettext_lazy("much higher than the peer median (%(median)s)"),
    ("slightly", "lower"): gettext_lazy("slightly lower than the peer median (%(median)s)"),
    ("clearly", "lower"): gettext_lazy("lower than the peer median (%(median)s)"),
    ("much", "lower"): gettext_lazy("much lower than the peer median (%(median)s)"),
}


def _comparison(band: str, direction: str, median: str) -> str:
    """The comparison phrase for a band and a direction (better/worse/higher/lower)."""
    return str(PHRASES[(band, direction)]) % {"median": median}


def comparison_words(
    *,
    value: float | None,
    median: float | None,
    mad: float | None,
    n: int | None,
    polarity: str,
    decimals: int | None = None,
    unit: str = "",
    reconstructed: bool = False,
    missing_reason: str = "",
) -> Words | None:
    """The sentence comparing ``value`` with the peer group's median, or None (figures alone).

    ``polarity`` is ``higher``, ``lower`` or ``neutral``; ``n`` is the number of municipalities
    with a figure in the peer group; ``reconstructed`` marks a value rebuilt from predecessor
    municipalities after a reform. A missing value gets a sentence saying so (with the reason
    when one was given); too few peers, a MAD of 0 or no median give None.
    """
    if not _present(value):
        text = _("No figure for this period.")
        if missing_reason:
            text = _("No figure for this period: %(reason)s.") % {"reason": missing_reason.rstrip(".")}
        return Words(text=text, tone=MISSING)
    if not _present(median) or not _present(mad) or mad <= 0 or (n or 0) < MIN_PEERS:
        return None
    shown_value = _figure(value, decimals, unit)
    shown_median = _figure(median, decimals, unit)
    band = distance_band(abs(value - median) / mad)
    if band == "unusual":
        text = _(
            "%(value)s is unusually far from the peer median (%(median)s): check the figure before drawing conclusions."
        )
        words = Words(text=text % {"value": shown_value, "median": shown_median}, tone=UNUSUAL)
    elif band == "similar":
        text = _("%(value)s is broadly similar to the peer median (%(median)s).")
        words = Words(text=text % {"value": shown_value, "median": shown_median}, tone=SIMILAR)
    else:
        above = value > median
        if polarity == "neutral":
            direction = HIGHER if above else LOWER
        else:
            direction = BETTER if above == (polarity == "higher") else WORSE
        text = _("%(value)s is %(comparison)s.") % {
            "value": shown_value,
            "comparison": _comparison(band, direction, shown_median),
        }
        words = Words(text=text, tone=direction)
    if reconstructed:
        words = Words(
            text=words.text + " " + _("(Reconstructed from the predecessor municipalities.)"), tone=words.tone
        )
    return words


def indicator_words(
    indicator,
    *,
    value: float | None,
    median: float | None,
    mad: float | None,
    n: int | None,
    missing_reason: str = "",
    reconstructed: bool = False,
    unit: str | None = None,
) -> Words | None:
    """`comparison_words` in ``indicator``'s polarity, decimals and unit (in the UI's language;
    ``unit``: that unit already looked up, for a page that says thousands of sentences)."""
    return comparison_words(
        value=value,
        median=median,
        mad=mad,
        n=n,
        polarity=indicator.polarity,
        decimals=indicator.decimals,
        unit=indicator.display_unit if unit is None else unit,
        missing_reason=missing_reason,
        reconstructed=reconstructed,
    )


def result_words(row, indicator, *, reconstructed: bool = False) -> Words | None:
    """`indicator_words` for a stored row of ``indicator`` (a `Result` or a record with ``value``,
    ``median``, ``mad`` and ``n``, and optionally ``missing_reason``); ``reconstructed``: the
    municipality did not exist yet in the row's period (`shared.is_reconstructed`)."""
    return indicator_words(
        indicator,
        value=row.value,
        median=row.median,
        mad=row.mad,
        n=row.n,
        missing_reason=getattr(row, "missing_reason", ""),
        reconstructed=reconstructed,
    )


def trend_words(*, values: Sequence[float | None], polarity: str) -> str:
    """The direction over the last three periods (oldest first); "" when it cannot be said.

    Two steps the same way: improving/worsening (rising/falling for a neutral indicator); one
    step each way: no steady direction; only the last two periods known: the last step alone.
    A gap is not bridged: the steps counted are those between consecutive known periods at the
    end of the series.
    """
    last = list(values)[-3:]
    known: list[float] = []
    for value in reversed(last):
        if not _present(value):
            break
        known.insert(0, value)
    if len(known) < 2:
        return ""
    steps = [b - a for a, b in pairwise(known)]

    def way(step: float) -> int:
        if step == 0:
            return 0
        if polarity == "lower":
            return 1 if step < 0 else -1
        return 1 if step > 0 else -1

    ways = [way(step) for step in steps]
    if len(ways) == 2 and ways[0] == ways[1] != 0:
        if polarity == "neutral":
            return (
                _("Rising over the last three periods.") if steps[-1] > 0 else _("Falling over the last three periods.")
            )
        return (
            _("Improving over the last three periods.") if ways[0] > 0 else _("Worsening over the last three periods.")
        )
    if len(ways) == 2 and ways[0] != ways[1] and 0 not in ways:
        return _("No steady direction over the last three periods.")
    if ways[-1] == 0:
        return _("Unchanged since the period before.")
    if polarity == "neutral":
        return _("Higher than the period before.") if steps[-1] > 0 else _("Lower than the period before.")
    return _("Better than the period before.") if ways[-1] > 0 else _("Worse than the period before.")


def changes_summary(*, improved: int, worsened: int) -> str:
    """How many indicators went the better and the worse way since the previous period."""
    if not improved and not worsened:
        return ""
    better = ngettext("%(count)s indicator improved", "%(count)s indicators improved", improved) % {"count": improved}
    worse = ngettext("%(count)s indicator got worse", "%(count)s indicators got worse", worsened) % {"count": worsened}
    return _("Since the previous period: %(better)s, %(worse)s.") % {"better": better, "worse": worse}
