"""Which rounds' results a person may see, per network, for the learning pages
(`permissions.results_visibility`; docs/security.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

from indicators.models import Round
from networks import permissions
from networks.models import Membership, Network


@dataclass
class NetworkRounds:
    """A network's rounds (with their periods) and current member ids, as the visibility rules need them."""

    network: Network
    rounds: list = field(default_factory=list)
    member_ids: set[int] = field(default_factory=set)


def rounds_of(networks) -> dict[int, NetworkRounds]:
    """Per network id its rounds and members: two queries, whatever the number of networks."""
    found = {n.pk: NetworkRounds(network=n) for n in networks}
    if not found:
        return {}
    for network_id, municipality_id in (
        Membership.objects.active().filter(network_id__in=found).values_list("network_id", "municipality_id")
    ):
        found[network_id].member_ids.add(municipality_id)
    for round_ in Round.objects.filter(network_id__in=found).select_related("period"):
        round_.network = found[round_.network_id].network
        found[round_.network_id].rounds.append(round_)
    return found


def periods_seen(user, of: NetworkRounds) -> dict[int, str]:
    """The periods of the network's rounds `user` may see results of, with the visibility."""
    seen = {}
    for round_ in of.rounds:
        visibility = permissions.results_visibility(user, of.network, round_, of.member_ids)
        if visibility != permissions.RESULTS_NONE:
            seen[round_.period_id] = visibility
    return seen


def visible_periods(*, user, networks) -> dict[int, dict[int, str]]:
    """Per network id, the periods of its rounds `user` may see results of, with the visibility
    (`published` or `provisional`). Two queries, whatever the number of networks."""
    return {network_id: periods_seen(user, of) for network_id, of in rounds_of(networks).items()}
