"""What the rest of the portal calls when stored results may no longer be true.

indicators' services call `results_stale` after approving, returning or editing an approved
submission, and after publishing or withdrawing a round (another network's values enter the wider
peer groups only once its round is published and the network public); the comparisons app decides
what to recompute. Catalogue changes call `results_stale_network` for a wider run. A network's
publication policy reaches `results_policy_changed` through `networks.events` (subscribed in
`apps.ComparisonsConfig.ready`).

The request is recorded in the caller's transaction: a pending `RecomputeRun` per scope, saved
(or rolled back) with the approval itself. Only sending it to the workers waits for the commit.
Whatever fails after the commit (the broker is down, another after-commit step raises, the
process dies), the pending run is in the database, and the next request of its scope, the
resend sweep (`pending_runs_resend_task`, every few minutes) or the nightly recompute runs it.
Scopes are requested in one order (network id, period id), so two transactions that make the
same scopes stale queue on their lock rows instead of deadlocking.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Q

from indicators.models import DataItem, Indicator, Period, Round
from networks.models import Network

from .runs import recompute_request, recompute_scopes
from .selectors import next_periods


def results_stale(*, round_id: int, item_ids: Iterable[int] | None = None) -> None:
    """The approved values of `round_id` changed (for `item_ids`, or all items when None).

    Requests a recompute of just the indicators that read those items in the round's
    network/period; of the same indicators in every other network with a round in that period
    (their `all` and other cross-network peer groups include this municipality); and of the
    next period's rounds (their change against the previous period). The other networks'
    scopes read only values allowed to enter them (`selectors.entering_submissions`); publishing
    or withdrawing the round calls this too, so its values enter or leave them. A change of a
    nearest-neighbour context item recomputes the whole scope. Nothing is requested if the
    transaction rolls back.
    """
    ids = None if item_ids is None else sorted(set(item_ids))
    _request_for_round(round_id, ids)


def results_stale_network(*, network_id: int, period_id: int | None = None, reason: str = "") -> None:
    """Recompute a whole network (one period or all of its rounds): publication, a catalogue change."""
    network = Network.objects.get(pk=network_id)
    period = Period.objects.get(pk=period_id) if period_id is not None else None
    for scope_network, scope_period in _in_lock_order(recompute_scopes(network=network, period=period)):
        recompute_request(network=scope_network, period=scope_period, reason=reason or "network changed")


def _in_lock_order(scopes: Iterable[tuple]) -> list[tuple]:
    return sorted(scopes, key=lambda scope: (scope[0].pk, scope[1].pk))


def results_policy_changed(*, network_id: int) -> None:
    """A network's publication policy changed (called after commit, by `networks.events`).

    The values of its published rounds now enter, or leave, the other networks' wider peer
    groups of those periods: every other network's round of such a period is recomputed. Its own
    results, and the periods it has not published, do not change.
    """
    published = Round.objects.filter(network_id=network_id, status=Round.Status.PUBLISHED).values("period_id")
    others = (
        Round.objects.filter(period_id__in=published)
        .exclude(network_id=network_id)
        .select_related("network", "period")
        .order_by("period__start", "network__code")
    )
    scopes = _in_lock_order((other.network, other.period) for other in others)
    for scope_network, scope_period in scopes:
        recompute_request(network=scope_network, period=scope_period, reason="publication policy changed")


def _request_for_round(round_id: int, item_ids: list[int] | None) -> None:
    round_ = Round.objects.select_related("network", "period").filter(pk=round_id).first()
    if round_ is None:
        return
    indicator_ids: list[int] | None = None
    if item_ids is not None:
        codes = set(DataItem.objects.filter(pk__in=item_ids).values_list("code", flat=True))
        if codes & set(settings.COMPARISON_NEAREST_CONTEXT):
            indicator_ids = None  # the neighbours themselves may change
        else:
            indicator_ids = sorted(
                set(
                    Indicator.objects.filter(
                        # An indicator without a formula is the data item of the same code.
                        Q(items__in=item_ids) | Q(code__in=codes, formula="") | Q(formula__in=codes)
                    ).values_list("pk", flat=True)
                )
            )
            if not indicator_ids:
                return
    scopes = [(round_.network, round_.period)]
    others = Round.objects.filter(period=round_.period).exclude(network=round_.network).select_related("network")
    if indicator_ids is not None:
        others = others.filter(network__indicators__in=indicator_ids).distinct()
    scopes += [(other.network, round_.period) for other in others]
    # A period ending on the last day there is (`9999`, from before labels were bounded) has no next one.
    if round_.period.end < datetime.date.max:
        following = Round.objects.filter(period__in=next_periods(round_.period), network=round_.network)
        scopes += [(later.network, later.period) for later in following.select_related("network", "period")]
    reason = "values changed"
    for network, period in _in_lock_order(scopes):
        recompute_request(network=network, period=period, indicator_ids=indicator_ids, reason=reason)
