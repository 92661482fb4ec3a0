"""Who sees which round: the one access check of every dashboard page.

The rule itself is `networks.permissions.results_visibility` (docs/security.md); the scope
applies it to every round of the network and keeps the visible ones.
"""

from __future__ import annotations

from django.http import HttpRequest

from .. import dashboard_selectors
from ..dashboard_selectors import DashboardScope


def scope_for(request: HttpRequest, network: str, *, municipality_code: str = "") -> DashboardScope:
    """The network's dashboard scope for this person: the rounds they may see and the chosen one.

    404 for an unknown network or period, 403 for a period whose round the person may not see
    (its existence is no secret: the network's rounds are listed on its public page). The period
    and peer group come from the query string, bounded (a longer value names nothing). A page
    about one municipality (``municipality_code``) opens by default on the newest period in which
    that municipality has a figure, not on a newer one it has none in yet.
    """
    period_label = request.GET.get("period", "")[:16]
    return dashboard_selectors.dashboard_scope(
        user=request.user,
        network_code=network,
        period_label=period_label,
        peer_group=request.GET.get("peer", "")[:120],
        figures_of="" if period_label else municipality_code,
    )
