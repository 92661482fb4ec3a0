"""A network's meetings and what happened in it: published rounds, good practice, meetings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import QuerySet

from indicators.models import Round
from networks.models import Network

from ..models import Meeting, PracticeCase


def meetings_of_network(*, network: Network) -> QuerySet[Meeting]:
    return network.meetings.select_related("host").prefetch_related("attendees").order_by("-date")


@dataclass
class Activity:
    rounds: list = field(default_factory=list)
    practices: list = field(default_factory=list)
    meetings: list = field(default_factory=list)


def network_activity(*, network: Network, since: datetime.datetime | None = None, public_only: bool = True) -> Activity:
    """What happened in a network: published rounds, published good practice, meetings.

    `public_only` leaves out what only members may see (members-only cases, meetings, and rounds of
    a members-only network).
    """
    rounds = Round.objects.filter(network=network, status=Round.Status.PUBLISHED).select_related("period")
    practices = PracticeCase.objects.filter(network=network, status=PracticeCase.Status.PUBLISHED).select_related(
        "municipality"
    )
    meetings = Meeting.objects.filter(network=network).select_related("host")
    if since is not None:
        rounds = rounds.filter(published_at__gt=since)
        practices = practices.filter(published_at__gt=since)
    if public_only:
        practices = practices.filter(visibility=PracticeCase.Visibility.PUBLIC)
        if not network.is_public:
            rounds = rounds.none()
        meetings = meetings.none()
    return Activity(
        rounds=list(rounds.order_by("-published_at")[:20]),
        practices=list(practices.order_by("-published_at")[:20]),
        meetings=list(meetings.order_by("-date")[:20]),
    )
