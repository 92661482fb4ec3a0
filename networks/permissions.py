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


# --- coordination, good practice, plans, meetings (issue 6) ----------------------------------


def can_deactivate_account(user: AnyUser, network: Network, target, member_ids: set[int] | frozenset[int]) -> bool:
    """A coordinator may switch off accounts whose every role is staff/viewer of the network's members.

    Never their own account, an administrator's, or someone who also holds a role elsewhere.
    """
    if not can_coordinate(user, network) or target.is_superuser or target.pk == user.pk:
        return False
    target_roles = roles_of(target)
    if target_roles.coordinator_of or not target_roles.municipalities:
        return False
    return target_roles.municipalities <= set(member_ids)


def can_edit_indicator(user: AnyUser, indicator_network_ids: set[int] | frozenset[int]) -> bool:
    """An indicator's texts, polarity and formula: administrators, or a coordinator of every
    network that uses it (changing a shared indicator would change other networks' results)."""
    if is_administrator(user):
        return True
    coordinated = roles_of(user).coordinator_of
    return bool(indicator_network_ids) and set(indicator_network_ids) <= coordinated


def can_create_network(user: AnyUser) -> bool:
    """Coordinators (of any network) and administrators set up new networks."""
    return is_administrator(user) or bool(roles_of(user).coordinator_of)


def can_view_round_results(user: AnyUser, round_, member_ids: set[int] | frozenset[int]) -> bool:
    """Published rounds: public when the network's policy says so, otherwise members only.

    Approved figures of rounds not yet published are for members (marked provisional). The same
    rule as `results_visibility` (one rule), as a yes/no.
    """
    return results_visibility(user, round_.network, round_, member_ids) != RESULTS_NONE


def can_submit_practice(user: AnyUser, municipality: Municipality) -> bool:
    """Municipal staff submit their own municipality's good practice."""
    return municipality.pk in roles_of(user).staff_of


def can_view_practice(user: AnyUser, case, member_ids: set[int] | frozenset[int]) -> bool:
    """Published public cases: everyone. Published members-only cases: the network's people.

    A case not yet published: its municipality's staff and the network's coordinators.
    """
    if case.is_published:
        if case.is_public:
            return True
        return is_network_member(user, case.network, member_ids)
    return can_coordinate(user, case.network) or case.municipality_id in roles_of(user).staff_of


def can_edit_practice(user: AnyUser, case) -> bool:
    """The submitting municipality's staff until publication; the network's coordinators always."""
    if can_coordinate(user, case.network):
        return True
    return not case.is_published and case.municipality_id in roles_of(user).staff_of


def can_publish_practice(user: AnyUser, case) -> bool:
    return can_coordinate(user, case.network)


def can_view_plan(user: AnyUser, plan) -> bool:
    """A municipality's improvement plan: its staff and viewers, and the network's coordinators."""
    return can_coordinate(user, plan.network) or plan.municipality_id in roles_of(user).municipalities


def can_edit_plan(user: AnyUser, plan) -> bool:
    """The municipality's staff write their plan (a coordinator reads it); administrators may."""
    return is_administrator(user) or plan.municipality_id in roles_of(user).staff_of


def can_create_plan(user: AnyUser, municipality: Municipality) -> bool:
    return municipality.pk in roles_of(user).staff_of


def can_view_meetings(user: AnyUser, network: Network, member_ids: set[int] | frozenset[int]) -> bool:
    """Meetings, their agendas, minutes and attendees are the network's own business."""
    return is_network_member(user, network, member_ids)


# --- submissions and their review (indicators: staff form, workflow, coordinator review) ------


def can_view_submission(
    user: AnyUser, network: Network, municipality: Municipality, status: str, member_ids: set[int] | frozenset[int]
) -> bool:
    """Draft, submitted and returned figures: the municipality's own staff and the network's
    coordinators (DESIGN.md §3 Visibility). Approved figures: every member of the network."""
    if municipality.pk in roles_of(user).staff_of or can_coordinate(user, network):
        return True
    return status == "approved" and is_network_member(user, network, member_ids)


def can_edit_submission(user: AnyUser, municipality: Municipality, status: str, round_is_open: bool) -> bool:
    """Own staff, while the submission is a draft or returned and the round is open."""
    return can_enter_data(user, municipality) and status in ("draft", "returned") and round_is_open


def can_review_submissions(user: AnyUser, network: Network) -> bool:
    """Approve, return and see the completion of a round: the network's coordinators."""
    return can_coordinate(user, network)


def can_discuss_value(user: AnyUser, network: Network, municipality: Municipality) -> bool:
    """The query thread on a value is between the municipality's staff and the coordinators."""
    return can_enter_data(user, municipality) or can_coordinate(user, network)


# --- results visibility (dashboards, exports and the open-data API: issue 5) -------------------

RESULTS_NONE = "none"
RESULTS_PROVISIONAL = "provisional"
RESULTS_PUBLISHED = "published"


def results_visibility(user: AnyUser, network: Network, round_, member_ids: set[int] | frozenset[int]) -> str:
    """What a person sees of a round's stored results (DESIGN.md §3 Visibility).

    ``published``: the round is published and the network public, or the person is a member.
    ``provisional``: the round is not published yet and the person is a member of the network
    (approved figures, marked provisional). ``none`` otherwise — anonymous visitors and
    outsiders never see a round before its publication.
    """
    member = is_network_member(user, network, member_ids)
    if round_.status == "published":
        return RESULTS_PUBLISHED if (network.is_public or member) else RESULTS_NONE
    return RESULTS_PROVISIONAL if member else RESULTS_NONE


def results_member_network_ids(user: AnyUser) -> set[int] | None:
    """Networks whose unpublished (approved) and members-only results this person may read.

    ``None`` means every network (administrators). Used by the open-data API, which lists rows
    of many networks at once; pages ask `results_visibility` for one round.
    """
    if is_administrator(user):
        return None
    roles = roles_of(user)
    ids = set(roles.coordinator_of)
    if roles.municipalities:
        from .models import Membership

        ids |= set(
            Membership.objects.active()
            .filter(municipality_id__in=roles.municipalities)
            .values_list("network_id", flat=True)
        )
    return ids


# --- comparisons: stored results and their recompute runs ---------------------------------------


def can_view_recompute_run(user: AnyUser, network: Network) -> bool:
    """A recompute's progress is operations detail: the network's coordinators and administrators."""
    return can_coordinate(user, network)


# --- learning: plan progress on the profile, awards (issue 6, learn from the best) -------------------


def can_view_plans_of(user: AnyUser, network: Network, municipality: Municipality) -> bool:
    """A municipality's improvement plans in a network: the same people as `can_view_plan` (its
    staff and viewers, the network's coordinators), asked before any plan is read."""
    return can_coordinate(user, network) or municipality.pk in roles_of(user).municipalities


# --- figures derived from another round: a change against the previous period, an award -----------


def can_view_derived(user: AnyUser, network: Network, source_round, member_ids: set[int] | frozenset[int]) -> bool:
    """A figure derived from the values of another round of the network (a change against the
    previous period, the award for the most improved) is seen only by whoever may see that round's
    results (`results_visibility`): once a round is withdrawn from publication, the changes against
    it leave the public's view too, while members still see them against provisional figures.

    ``source_round`` None: the network has no round for those values (they came from elsewhere);
    only its members then.
    """
    if source_round is None:
        return is_network_member(user, network, member_ids)
    return results_visibility(user, network, source_round, member_ids) != RESULTS_NONE
