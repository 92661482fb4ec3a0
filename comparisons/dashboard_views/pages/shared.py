"""What every dashboard page builder shares: peer-group names, separators, the chart entry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from indicators.services.reform import reconstructed_period
from networks.attributes import attribute_label

from ... import charts

# Marks a figure reconstructed from the predecessors' figures (docs/official.md); the legend says so.
RECONSTRUCTED_MARK = "*"
# Marks the first period of a series that is not comparable with the earlier ones (a break note,
# docs/official.md); the page lists the notes under the series.
BREAK_MARK = "¦"


def is_reconstructed(municipality, period) -> bool:
    """Whether the municipality's figure for the period is reconstructed: it did not exist yet
    then (a pure test of the dates, no query)."""
    return municipality is not None and period is not None and reconstructed_period(municipality.valid_from, period.end)


def marked(text: str, reconstructed: bool, broken: bool = False) -> str:
    """A period's label with its marks: reconstructed (`*`), a series that breaks there (`¦`)."""
    if reconstructed:
        text = f"{text} {RECONSTRUCTED_MARK}"
    return f"{text} {BREAK_MARK}" if broken else text


def separators() -> str:
    """Plotly's decimal and thousands separators for the current language (lv: `1 234,5`)."""
    return ",\u00a0" if (get_language() or "").startswith("lv") else ".,"


def peer_group_label(name: str) -> str:
    fixed = {
        "network": _("the network"),
        "all": _("all municipalities with data"),
        "kind": _("the same kind"),
        "region": _("the same planning region"),
    }
    if name in fixed:
        return fixed[name]
    if name.startswith("attr:"):
        return _("the same %(attribute)s") % {"attribute": attribute_label(name[len("attr:") :])}
    if name.startswith("custom:"):
        return _("the group %(group)s") % {"group": name[len("custom:") :]}
    if name.startswith("nearest:"):
        return _("the %(k)s nearest neighbours") % {"k": name[len("nearest:") :]}
    return name


def chart_entry(chart_id: str, figure, summary: str) -> dict:
    """A figure as `comparisons/_chart.html` draws it, with the sentence that says it in words."""
    return {"id": chart_id, "data": charts.figure_data(figure), "summary": summary}


def period_label(scope) -> str:
    return scope.period.label if scope.period else ""


STATE_KEYS = ("theme", "m", "indicator", "sort", "cols")


def page_state(scope, query: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The page's choices as its query string keeps them (so every view can be bookmarked):
    period, peer group, then ``extra`` or the query's theme, municipality, indicator, sort and
    column page, in that order (the links are compared as text)."""
    state = {}
    if scope.round is not None:
        state["period"] = scope.round.period.label
    if scope.peer_group != "network":
        state["peer"] = scope.peer_group
    for key in STATE_KEYS:
        value = extra.get(key, query.get(key, ""))
        if value:
            state[key] = value
    return state


def indicator_labels(indicators) -> dict[int, str]:
    """Each indicator's short name as a column or axis shows it, by pk. Two indicators with the
    same short name are told apart by their full names (a chart's axis merges equal labels)."""
    labels = {i.pk: i.display_short_name for i in indicators}
    counts = Counter(labels.values())
    for i in indicators:
        if counts[labels[i.pk]] > 1:
            labels[i.pk] = i.display_name
    counts = Counter(labels.values())
    seen: Counter = Counter()
    for i in indicators:
        label = labels[i.pk]
        if counts[label] > 1:
            seen[label] += 1
            labels[i.pk] = f"{label} ({seen[label]})"
    return labels
