"""Reads of municipalities, networks and people, shaped for the pages (no N+1)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .collation import latvian
from .models import Membership, Municipality, Network, Role


def municipality_list(*, include_former: bool = False, query: str = "") -> QuerySet[Municipality]:
    municipalities = Municipality.objects.all() if include_former else Municipality.objects.current()
    if query:
        municipalities = municipalities.filter(
            Q(name__icontains=query) | Q(name_en__icontains=query) | Q(code__iexact=query)
        )
    return municipalities.order_by(latvian("name"))


def municipality_memberships(*, municipality: Municipality) -> QuerySet[Membership]:
    return municipality.memberships.select_related("network").order_by("network__code", "-joined")


def network_list() -> QuerySet[Network]:
    today = timezone.localdate()
    active = Q(memberships__left__isnull=True) | Q(memberships__left__gte=today)
    return Network.objects.annotate(member_count=Count("memberships", filter=active)).order_by("code")


def network_members(*, network: Network) -> QuerySet[Membership]:
    return network.memberships.active().select_related("municipality").order_by(latvian("municipality__name"))


def network_coordinators(*, network: Network) -> list:
    return [
        role.user for role in Role.objects.filter(network=network, kind=Role.Kind.COORDINATOR).select_related("user")
    ]


def user_roles(*, user) -> QuerySet[Role]:
    return (
        Role.objects.filter(user=user)
        .select_related("municipality", "network")
        .order_by("kind", "network__code", latvian("municipality__name"))
    )


def member_networks_list(*, municipality_ids) -> QuerySet[Network]:
    """The networks the municipalities are current members of, by code (one query)."""
    memberships = Membership.objects.active().filter(municipality_id__in=municipality_ids)
    return Network.objects.filter(pk__in=memberships.values("network_id")).order_by("code")
