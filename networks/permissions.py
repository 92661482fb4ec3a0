"""Every "may this user see or do this?" question of the portal is answered here.

Views, templates (through the navigation context) and the API ask these functions and
nothing else, so one module is the whole access policy and one test suite covers it
(`networks/tests/test_permissions.py`, `networks/tests/test_pages.py`).

Roles (DESIGN.md §1): staff and viewers belong to a municipality, coordinators to a
network, administrators (superusers) to the installation. One person may hold several.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from .models import Municipality, Network

    AnyUser = AbstractBaseUser | AnonymousUser

_CACHE_ATTR = "_benchlearning_roles"


@dataclass(frozen=True)
class UserRoles:
    """The ids a user's roles reach; loaded once per request (one query)."""

    staff_of: frozenset[int] = field(default_factory=frozenset)
    viewer_of: frozenset[int] = field(default_factory=frozenset)
    coordinator_of: frozenset[int] = field(default_factory=frozenset)

    @property
    def municipalities(self) -> frozenset[int]:
        return self.staff_of | self.viewer_of

    @property
    def is_empty(self) -> bool:
        return not (self.staff_of or self.viewer_of or self.coordinator_of)


def roles_of(user: AnyUser) -> UserRoles:
    if not user.is_authenticated or not user.is_active:
        return UserRoles()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    from .models import Role

    staff, viewer, coordinator = set(), set(), set()
    for kind, municipality_id, network_id in Role.objects.filter(user=user).values_list(
        "kind", "municipality_id", "network_id"
    ):
        if kind == Role.Kind.STAFF:
            staff.add(municipality_id)
        elif kind == Role.Kind.VIEWER:
            viewer.add(municipality_id)
        elif kind == Role.Kind.COORDINATOR:
            coordinator.add(network_id)
    roles = UserRoles(frozenset(staff), frozenset(viewer), frozenset(coordinator))
    setattr(user, _CACHE_ATTR, roles)
    return roles


def forget_roles(user: AnyUser) -> None:
    """Drop the per-request cache after roles change (tests, services granting roles)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def is_administrator(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


# --- reference data: municipalities and networks are public facts -------------------------


def can_view_municipality(user: AnyUser, municipality: Municipality) -> bool:
    """Names, codes, kinds and regions are public reference data (the statistics office's)."""
    return True


def can_view_network(user: AnyUser, network: Network) -> bool:
    """That a network exists, its theme, members and coordinators are public; results are not."""
    return True


# --- data entry and coordination -------------------------------------------------------------


def can_enter_data(user: AnyUser, municipality: Municipality) -> bool:
    """Only the municipality's own staff enter its figures."""
    return municipality.pk in roles_of(user).staff_of


def can_coordinate(user: AnyUser, network: Network) -> bool:
    """Coordinators run their own networks; administrators every network."""
    return is_administrator(user) or network.pk in roles_of(user).coordinator_of


def is_network_member(user: AnyUser, network: Network, member_ids: set[int] | frozenset[int]) -> bool:
    """Staff or viewer of a member municipality, a coordinator of the network, or an administrator.

    `member_ids` are the ids of the network's member municipalities (the caller has them).
    """
    if can_coordinate(user, network):
        return True
    return bool(roles_of(user).municipalities & set(member_ids))


def can_use_workspace(user: AnyUser) -> bool:
    """The personal start page ("my work") is for every signed-in person."""
    return bool(user.is_authenticated and user.is_active)


def can_use_admin(user: AnyUser) -> bool:
    """The Django admin is for administrators only; coordinators have their own pages."""
    return is_administrator(user)


def require(allowed: bool) -> None:
    """Raise 403 unless allowed; views call this with one of the predicates above."""
    if not allowed:
        raise PermissionDenied
