"""Awards: per period and indicator the best performer(s) and the most improved member, from the
stored results of the rounds the person may see."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from comparisons.dashboard_selectors import network_indicator_list
from comparisons.models import Result
from comparisons.selectors import previous_round
from networks import permissions
from networks.collation import latvian_key

from .ranking import NETWORK_PEER_GROUP, better_direction, improvement_key
from .visibility import periods_seen, rounds_of


@dataclass
class Award:
    period: object
    indicator: object
    best: list = field(default_factory=list)  # Result rows of rank 1 (ties share it)
    improved: object = None  # the Result row of the largest improvement
    provisional: bool = False


def network_awards(*, user, network) -> list[Award]:
    """Per period (newest first) and indicator (the network's order): the best performer(s) and
    the most improved member of the `network` peer group, from stored results of the rounds
    `user` may see. Neutral indicators have no awards. Four queries."""
    of = rounds_of([network])[network.pk]
    seen = periods_seen(user, of)
    if not seen:
        return []
    # The most improved is measured against the previous period: only where the person may see
    # that period's round too (a withdrawn round takes its improvements out of public view).
    improvable = [
        round_.period_id
        for round_ in of.rounds
        if round_.period_id in seen
        and permissions.can_view_derived(user, network, previous_round(of.rounds, round_), of.member_ids)
    ]
    indicators = [i for i in network_indicator_list(network=network) if better_direction(i.polarity)]
    position = {ind.pk: n for n, ind in enumerate(indicators)}
    rows = (
        Result.objects.filter(
            network=network,
            peer_group=NETWORK_PEER_GROUP,
            period_id__in=list(seen),
            indicator_id__in=list(position),
            value__isnull=False,
        )
        .filter(Q(rank=1) | Q(improved=True, period_id__in=improvable))
        .select_related("period", "municipality")
    )
    awards: dict[tuple[int, int], Award] = {}
    by_pk = {ind.pk: ind for ind in indicators}
    for row in rows:
        key = (row.period_id, row.indicator_id)
        award = awards.get(key)
        if award is None:
            award = awards[key] = Award(
                period=row.period,
                indicator=by_pk[row.indicator_id],
                provisional=seen[row.period_id] == permissions.RESULTS_PROVISIONAL,
            )
        if row.rank == 1:
            award.best.append(row)
        if row.improved and row.period_id in improvable:
            direction = better_direction(award.indicator.polarity)
            if award.improved is None or improvement_key(row, direction) < improvement_key(award.improved, direction):
                award.improved = row
    for award in awards.values():
        award.best.sort(key=lambda r: latvian_key(r.municipality.display_name))
    return sorted(awards.values(), key=lambda a: (-a.period.start.toordinal(), position[a.indicator.pk]))
