"""The answer on the first screen: the signed-in person's municipality, in figures and words.

A panel of the landing page (`networks.sections.workspace_panel_register`): for a viewer or staff
member of a municipality, the newest period in which *their own* municipality has approved
results they may see, its three strongest and three weakest indicators by score with the value,
the peer median and the sentence (`comparisons.words`), the composite index position, what
changed since the previous period, a line when a newer period is still provisional, and links to
the profile and the printable report. Stored results only, read through the same scope as the
dashboards (`dashboard_selectors.dashboard_scope`), so the visibility rule is the pages' own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from indicators.models import Submission
from indicators.services.reform import reconstructed_period
from networks import permissions
from networks.models import Municipality

from .dashboard_selectors import DashboardScope, ProfileRow, composite_rows, dashboard_scope, profile_rows
from .dashboard_views.tables import number
from .models import Result
from .words import Words, changes_summary, result_words

STRENGTHS = 3


@dataclass(frozen=True)
class Standing:
    """One indicator of the own municipality as the landing page says it."""

    name: str
    code: str
    value: str
    unit: str
    median: str
    band: str
    words: Words | None
    url: str


Scored = TypeVar("Scored", ProfileRow, Result)


def _standing(scope: DashboardScope, row: ProfileRow, municipality: Municipality) -> Standing:
    indicator = row.indicator
    unit = indicator.display_unit
    query = urlencode({"period": scope.period.label, "m": municipality.code})
    return Standing(
        name=indicator.display_short_name,
        code=indicator.code,
        value=number(row.value, indicator.decimals),
        unit=unit,
        median=number(row.median, indicator.decimals),
        band=row.band,
        words=result_words(
            row, indicator, reconstructed=reconstructed_period(municipality.valid_from, scope.period.end)
        ),
        url=reverse("comparisons:indicator", kwargs={"network": scope.network.code, "indicator": indicator.code})
        + "?"
        + query,
    )


def strengths_and_weaknesses(rows: list[Scored], count: int = STRENGTHS) -> tuple[list[Scored], list[Scored]]:
    """The ``count`` best and worst rows by score (best first, worst first); a row is never both.
    A row: a `ProfileRow` or a `Result` (with its indicator).

    Ties are broken by the indicator's code, so the choice is stable. Neutral indicators and
    missing values have no score and are in neither list.
    """
    scored = sorted((r for r in rows if r.score is not None), key=lambda r: (-r.score, r.indicator.code))
    best = scored[: min(count, len(scored) // 2 + len(scored) % 2)]
    rest = scored[len(best) :]
    worst = sorted(rest, key=lambda r: (r.score, r.indicator.code))[:count]
    return best, worst


def _own_periods(own: dict[int, frozenset[int]]) -> tuple[str, int, frozenset[int]] | None:
    """(network code, municipality id, period ids) of the network in which one of the person's
    municipalities has its newest approved figure, with every period in which it has one there.

    ``own`` maps municipality id -> the networks the person's role for it reaches (None: every
    network). Visibility is not decided here: `dashboard_scope` applies the pages' rule and
    chooses the newest of these periods the person may see.
    """
    found: dict[tuple[str, int], set[int]] = {}
    order: list[tuple[str, int]] = []
    for code, network_id, municipality_id, period_id in (
        Result.objects.filter(municipality_id__in=own, peer_group="network", value__isnull=False)
        .values_list("network__code", "network_id", "municipality_id", "period_id")
        .order_by("-period__start", "network__code", "municipality_id")
        .distinct()
    ):
        reach = own[municipality_id]
        if reach is not None and network_id not in reach:
            continue
        key = (code, municipality_id)
        if key not in found:
            found[key] = set()
            order.append(key)
        found[key].add(period_id)
    if not order:
        return None
    code, municipality_id = order[0]
    return code, municipality_id, frozenset(found[order[0]])


def _newer_round(scope: DashboardScope) -> dict | None:
    """The newest visible round after the chosen one, with how far its submissions are."""
    newer = [(r, seen) for r, seen in scope.rounds if r.period.start > scope.round.period.start]
    if not newer:
        return None
    round_, seen = newer[0]
    counts = dict(
        Submission.objects.filter(round=round_, municipality_id__in=scope.member_ids)
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return {
        "period": round_.period.label,
        "provisional": seen == permissions.RESULTS_PROVISIONAL,
        "approved": counts.get(Submission.Status.APPROVED, 0),
        "members": len(scope.member_ids),
    }


def landing_panel(request) -> dict | None:
    """The panel's context, or None when the person has no municipality with results to see."""
    user = request.user
    roles = permissions.roles_of(user)
    own: dict[int, frozenset[int] | None] = {}
    for network_id, municipality_id in roles.staff | roles.viewer:
        if network_id is permissions.EVERY_NETWORK or own.get(municipality_id, frozenset()) is None:
            own[municipality_id] = None
        else:
            own[municipality_id] = own.get(municipality_id, frozenset()) | {network_id}
    if not own:
        return None
    newest = _own_periods(own)
    if newest is None:
        return {"empty": True}
    network_code, municipality_id, period_ids = newest
    scope = dashboard_scope(user=user, network_code=network_code, prefer_period_ids=period_ids)
    municipality = scope.municipalities.get(municipality_id)
    if municipality is None or not scope.ready or scope.round.period_id not in period_ids:
        return {"empty": True}
    period_label = scope.period.label
    rows = profile_rows(scope=scope, municipality=municipality)
    best, worst = strengths_and_weaknesses(rows)
    composite = composite_rows(scope=scope)
    own = next((c for c in composite if c.municipality_id == municipality.pk), None)
    position = None
    if own is not None and own.index_value is not None:
        ranked = [c for c in composite if c.group_key == own.group_key and c.index_value is not None]
        position = {
            "position": 1 + sum(1 for c in ranked if c.index_value > own.index_value),
            "n": len(ranked),
            "value": number(own.index_value, 1),
        }
    improved = sum(1 for r in rows if r.improved is True)
    worsened = sum(1 for r in rows if r.improved is False and r.change_abs is not None)
    profile_url = reverse("comparisons:profile", kwargs={"network": network_code, "code": municipality.code})
    return {
        "empty": False,
        "municipality": municipality,
        "network": scope.network,
        "period": period_label,
        "provisional": scope.provisional,
        "strengths": [_standing(scope, r, municipality) for r in best],
        "weaknesses": [_standing(scope, r, municipality) for r in worst],
        "position": position,
        "changes": changes_summary(improved=improved, worsened=worsened) if scope.changes_visible else "",
        "newer": _newer_round(scope),
        "profile_url": profile_url + "?" + urlencode({"period": period_label}),
        "report_url": reverse("comparisons:report", kwargs={"network": network_code, "code": municipality.code})
        + "?"
        + urlencode({"period": period_label}),
        "computed_at": scope.run.finished_at if scope.run else None,
    }
