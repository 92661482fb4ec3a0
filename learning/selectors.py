"""Reads of the learning app, shaped for the pages (no N+1)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet

from networks import permissions
from networks.models import Membership, Network

from .models import ImprovementPlan, Meeting, PracticeCase


def practice_visible(*, user) -> QuerySet[PracticeCase]:
    """The cases `user` may read; the same rule as `permissions.can_view_practice`, as a query."""
    cases = PracticeCase.objects.all()
    if permissions.is_administrator(user):
        return cases
    roles = permissions.roles_of(user)
    published = Q(status=PracticeCase.Status.PUBLISHED)
    rule = published & Q(visibility=PracticeCase.Visibility.PUBLIC)
    if roles.municipalities:
        # A subquery, not a separate round trip: the networks the user's municipalities belong to now.
        member_networks = Membership.objects.active().filter(municipality_id__in=roles.municipalities)
        rule |= published & Q(network_id__in=member_networks.values("network_id"))
    if roles.coordinator_of:
        rule |= Q(network_id__in=roles.coordinator_of)
    if roles.staff_of:
        rule |= Q(municipality_id__in=roles.staff_of)
    return cases.filter(rule)


def practice_search(
    *,
    user,
    query: str = "",
    network_id: int | None = None,
    indicator_id: int | None = None,
    municipality_id: int | None = None,
    status: str = "",
) -> QuerySet[PracticeCase]:
    """Full-text search over title, summary, text (both languages) and tags, with filters.

    `icontains` works on every database; on PostgreSQL a full-text vector also matches word
    forms (Latvian has no stemming dictionary in PostgreSQL, so `simple` is used).
    """
    cases = practice_visible(user=user)
    if network_id:
        cases = cases.filter(network_id=network_id)
    if indicator_id:
        cases = cases.filter(indicators__id=indicator_id)
    if municipality_id:
        cases = cases.filter(municipality_id=municipality_id)
    if status:
        cases = cases.filter(status=status)
    if query:
        words = query.split()[:8]
        for word in words:
            match = (
                Q(title__icontains=word)
                | Q(title_en__icontains=word)
                | Q(summary__icontains=word)
                | Q(summary_en__icontains=word)
                | Q(text__icontains=word)
                | Q(text_en__icontains=word)
                | Q(tags__name__icontains=word)
            )
            if connection.vendor == "postgresql":
                from django.contrib.postgres.search import SearchQuery, SearchVector

                vector = SearchVector("title", "title_en", "summary", "summary_en", "text", "text_en", config="simple")
                ids = PracticeCase.objects.annotate(search=vector).filter(search=SearchQuery(word, config="simple"))
                match |= Q(pk__in=ids.values("pk"))
            cases = cases.filter(match)
    # Tag and indicator joins may repeat a case.
    return (
        PracticeCase.objects.filter(pk__in=cases.values("pk"))
        .select_related("municipality", "network")
        .prefetch_related("tags")
        .order_by("-published_at", "-created_at")
    )


def practice_detail_queryset() -> QuerySet[PracticeCase]:
    return PracticeCase.objects.select_related("municipality", "network", "period").prefetch_related(
        "tags", "indicators", "attachments"
    )


def plans_of_network(*, network: Network) -> QuerySet[ImprovementPlan]:
    return (
        ImprovementPlan.objects.filter(network=network)
        .select_related("municipality", "network")
        .prefetch_related("targets__indicator", "targets__target_period")
        .order_by("municipality__name", "-created_at")
    )


def plans_of_municipalities(*, municipality_ids) -> QuerySet[ImprovementPlan]:
    return (
        ImprovementPlan.objects.filter(municipality_id__in=municipality_ids)
        .select_related("municipality", "network")
        .order_by("network__code", "municipality__name", "-created_at")
    )


def plan_detail_queryset() -> QuerySet[ImprovementPlan]:
    return ImprovementPlan.objects.select_related("municipality", "network").prefetch_related(
        "targets__indicator", "targets__target_period", "targets__baseline_period", "actions"
    )


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
    from indicators.models import Round

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
