"""Every "may this user see or do this?" question of the portal is answered here.

Views, templates (through the navigation context) and the API ask these functions and
nothing else, so one module is the whole access policy and one test suite covers it
(`networks/tests/test_permissions.py`, `networks/tests/test_pages.py`,
`networks/tests/test_grants.py`).

The role model (docs/security.md): staff and viewers belong to a municipality, either within
one network (the roles a coordinator grants) or in every network the municipality belongs to
(only an administrator grants those); coordinators belong to a network; administrators
(superusers) to the installation. One person may hold several roles. No grant can exceed the
granter's own scope: `can_grant` is the one rule, and every service that creates a role asks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .models import Membership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from .models import Municipality, Network

    AnyUser = AbstractBaseUser | AnonymousUser

_CACHE_ATTR = "_benchlearning_roles"

# A municipal role's scope: a network id, or EVERY_NETWORK for a role an administrator gave
# that reaches the municipality in every network it belongs to.
EVERY_NETWORK = None
Scoped = frozenset[tuple[int | None, int]]


@dataclass(frozen=True)
class UserRoles:
    """What a user's roles reach; loaded once per request (one query).

    `staff` and `viewer` hold (network id or EVERY_NETWORK, municipality id) pairs.
    """

    staff: Scoped = field(default_factory=frozenset)
    viewer: Scoped = field(default_factory=frozenset)
    coordinator_of: frozenset[int] = field(default_factory=frozenset)

    @property
    def staff_of(self) -> frozenset[int]:
        """Municipalities the person is staff of in at least one network (for menus, not access)."""
        return frozenset(m for _n, m in self.staff)

    @property
    def municipalities(self) -> frozenset[int]:
        """Municipalities the person is staff or viewer of in at least one network."""
        return frozenset(m for _n, m in self.staff | self.viewer)

    def staff_in(self, network_id: int) -> frozenset[int]:
        """Municipalities whose figures the person enters in this network."""
        return _in_network(self.staff, network_id)

    def municipalities_in(self, network_id: int) -> frozenset[int]:
        """Municipalities the person is staff or viewer of in this network."""
        return _in_network(self.staff | self.viewer, network_id)

    @property
    def is_empty(self) -> bool:
        return not (self.staff or self.viewer or self.coordinator_of)


def _in_network(pairs: Scoped, network_id: int) -> frozenset[int]:
    return frozenset(m for n, m in pairs if n is EVERY_NETWORK or n == network_id)


def roles_of(user: AnyUser) -> UserRoles:
    if not user.is_authenticated or not user.is_active:
        return UserRoles()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    rows = Role.objects.filter(user=user).values_list("kind", "municipality_id", "network_id")
    return remember_roles(user, rows)


def remember_roles(user: AnyUser, rows: Iterable[tuple[str, int | None, int | None]]) -> UserRoles:
    """What (kind, municipality id, network id) rows of the user's roles reach, remembered for the
    request: a page that reads the roles anyway (the landing page lists them) saves the query."""
    staff, viewer, coordinator = set(), set(), set()
    for kind, municipality_id, network_id in rows:
        if kind == Role.Kind.STAFF:
            staff.add((network_id, municipality_id))
        elif kind == Role.Kind.VIEWER:
            viewer.add((network_id, municipality_id))
        elif kind == Role.Kind.COORDINATOR:
            coordinator.add(network_id)
    roles = UserRoles(frozenset(staff), frozenset(viewer), frozenset(coordinator))
    if user.is_authenticated and user.is_active:
        setattr(user, _CACHE_ATTR, roles)
    return roles


def scoped_rows(pairs: Scoped) -> Q:
    """Rows with `municipality_id` and `network_id` that the (network, municipality) pairs reach:
    a role for every network reaches the municipality's rows in any network. Matches nothing
    when there are no pairs."""
    rule = Q(pk__in=[])
    for network_id, municipality_id in pairs:
        if network_id is EVERY_NETWORK:
            rule |= Q(municipality_id=municipality_id)
        else:
            rule |= Q(municipality_id=municipality_id, network_id=network_id)
    return rule


def roles_reaching_network(network_id: int, prefix: str = "") -> Q:
    """Role rows (through `prefix`, e.g. ``"roles__"``) whose municipal scope reaches the network:
    the same rule as `UserRoles.staff_in`, as a query for mail lists and people pages."""
    return Q(**{f"{prefix}network__isnull": True}) | Q(**{f"{prefix}network_id": network_id})


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


def can_enter_data(user: AnyUser, municipality: Municipality, network: Network) -> bool:
    """Only the municipality's own staff enter its figures, in the networks their role reaches."""
    return municipality.pk in roles_of(user).staff_in(network.pk)


def is_staff_somewhere(user: AnyUser, municipality: Municipality) -> bool:
    """Staff of the municipality in at least one network: for links and menus, never for access."""
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
    return bool(roles_of(user).municipalities_in(network.pk) & set(member_ids))


def can_follow(user: AnyUser, network: Network, member_ids: set[int] | frozenset[int]) -> bool:
    """Follow a network's municipality or indicator (e-mails on publication): a signed-in person
    who may see the network's published results — anyone for a public network, members otherwise.
    What the e-mail then says is checked again when it is sent (`results_visibility`)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return network.is_public or is_network_member(user, network, member_ids)


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


# --- granting roles: no grant exceeds the granter's own scope -----------------------------------


def can_grant(
    user: AnyUser,
    *,
    kind: str,
    municipality: Municipality | None,
    network: Network | None,
    member_ids: set[int] | frozenset[int],
) -> bool:
    """May `user` give someone the role (kind, municipality, network)?

    Administrators give any role. A coordinator gives staff and viewer roles scoped to a network
    they coordinate, for one of its current members (`member_ids`), and nothing else: no
    coordinator role, no role without a network (that would reach every network), no role in
    another network. This is the one rule every granting service asks.
    """
    if is_administrator(user):
        return True
    if kind not in ("staff", "viewer") or network is None or municipality is None:
        return False
    return network.pk in roles_of(user).coordinator_of and municipality.pk in set(member_ids)


def can_manage_people(user: AnyUser, network: Network) -> bool:
    """The network's people page (names, e-mails, roles): its coordinators and administrators."""
    return can_coordinate(user, network)


def can_deactivate_account(user: AnyUser, network: Network, target, member_ids: set[int] | frozenset[int]) -> bool:
    """A coordinator may switch off an account whose every role they could have granted: staff or
    viewer roles scoped to this network, for its current members.

    Never their own account, an administrator's, a coordinator's, or someone whose role reaches
    another network (including a role an administrator gave for every network).
    """
    if not can_coordinate(user, network) or target.is_superuser or target.pk == user.pk:
        return False
    if is_administrator(user):
        return True
    target_roles = roles_of(target)
    pairs = target_roles.staff | target_roles.viewer
    if target_roles.coordinator_of or not pairs:
        return False
    members = set(member_ids)
    return all(n == network.pk and m in members for n, m in pairs)


def can_edit_indicator(user: AnyUser, indicator_network_ids: set[int] | frozenset[int]) -> bool:
    """An indicator's texts, polarity and formula: administrators, or a coordinator of every
    network that uses it (changing a shared indicator would change other networks' results).

    Who owns a catalogue entry: the network that alone uses it; an entry several networks share
    belongs to the administrators (docs/security.md). `can_add_to_indicator_set` keeps a
    coordinator from taking another network's indicator and so locking its coordinators out.
    """
    if is_administrator(user):
        return True
    coordinated = roles_of(user).coordinator_of
    return bool(indicator_network_ids) and set(indicator_network_ids) <= coordinated


def can_add_to_indicator_set(user: AnyUser, network: Network, indicator_network_ids: set[int] | frozenset[int]) -> bool:
    """Adding an indicator to a network's set: the network's coordinators, for an indicator that
    no network outside the ones they coordinate uses; sharing another network's indicator is an
    administrator's decision (it takes the indicator out of that network's sole care)."""
    if is_administrator(user):
        return True
    if not can_coordinate(user, network):
        return False
    return set(indicator_network_ids) <= roles_of(user).coordinator_of


def can_import_official(user: AnyUser, item_network_ids: set[int] | frozenset[int]) -> bool:
    """Importing a statistics office's table as official values of a data item writes them into
    every network that uses the item: the item's owner decides, as for a catalogue entry — the
    coordinators of the one network that uses it; an item several networks use (population),
    the administrators (docs/security.md, docs/official.md)."""
    if is_administrator(user):
        return True
    return len(item_network_ids) == 1 and set(item_network_ids) <= roles_of(user).coordinator_of


def can_create_network(user: AnyUser) -> bool:
    """Only administrators set up networks: a network's coordinator decides who its members are,
    so creating one is the power to reach any municipality."""
    return is_administrator(user)


def can_use_coordination(user: AnyUser) -> bool:
    """The coordinator workspace: coordinators of any network and administrators."""
    return is_administrator(user) or bool(roles_of(user).coordinator_of)


# --- good practice, plans, meetings -------------------------------------------------------------


def can_view_round_results(user: AnyUser, round_, member_ids: set[int] | frozenset[int]) -> bool:
    """Published rounds: public when the network's policy says so, otherwise members only.

    Approved figures of rounds not yet published are for members (marked provisional). The same
    rule as `results_visibility` (one rule), as a yes/no.
    """
    return results_visibility(user, round_.network, round_, member_ids) != RESULTS_NONE


def can_submit_practice(user: AnyUser, municipality: Municipality, network: Network) -> bool:
    """Municipal staff submit their own municipality's good practice, in a network their role reaches."""
    return can_enter_data(user, municipality, network)


def can_view_practice(user: AnyUser, case, member_ids: set[int] | frozenset[int]) -> bool:
    """Published public cases: everyone. Published members-only cases: the network's people.

    A case not yet published: its municipality's staff and the network's coordinators.
    """
    if case.is_published:
        if case.is_public:
            return True
        return is_network_member(user, case.network, member_ids)
    return can_coordinate(user, case.network) or case.municipality_id in roles_of(user).staff_in(case.network_id)


def can_edit_practice(user: AnyUser, case) -> bool:
    """The submitting municipality's staff until publication; the network's coordinators always."""
    if can_coordinate(user, case.network):
        return True
    return not case.is_published and case.municipality_id in roles_of(user).staff_in(case.network_id)


def can_publish_practice(user: AnyUser, case) -> bool:
    return can_coordinate(user, case.network)


def can_view_plan(user: AnyUser, plan) -> bool:
    """A municipality's improvement plan: its staff and viewers, and the network's coordinators."""
    return can_coordinate(user, plan.network) or plan.municipality_id in roles_of(user).municipalities_in(
        plan.network_id
    )


def can_edit_plan(user: AnyUser, plan) -> bool:
    """The municipality's staff write their plan (a coordinator reads it); administrators may."""
    return is_administrator(user) or plan.municipality_id in roles_of(user).staff_in(plan.network_id)


def can_create_plan(user: AnyUser, municipality: Municipality, network: Network) -> bool:
    return can_enter_data(user, municipality, network)


def can_view_meetings(user: AnyUser, network: Network, member_ids: set[int] | frozenset[int]) -> bool:
    """Meetings, their agendas, minutes and attendees are the network's own business."""
    return is_network_member(user, network, member_ids)


# --- submissions and their review (indicators: staff form, workflow, coordinator review) ------


def can_view_submission(
    user: AnyUser, network: Network, municipality: Municipality, status: str, member_ids: set[int] | frozenset[int]
) -> bool:
    """Draft, submitted and returned figures: the municipality's own staff and the network's
    coordinators (docs/security.md). Approved figures: every member of the network."""
    if municipality.pk in roles_of(user).staff_in(network.pk) or can_coordinate(user, network):
        return True
    return status == "approved" and is_network_member(user, network, member_ids)


def can_edit_submission(
    user: AnyUser, municipality: Municipality, network: Network, status: str, round_is_open: bool
) -> bool:
    """Own staff, while the submission is a draft or returned and the round is open."""
    return can_enter_data(user, municipality, network) and status in ("draft", "returned") and round_is_open


def can_withdraw_submission(
    user: AnyUser, municipality: Municipality, network: Network, status: str, round_is_open: bool
) -> bool:
    """Own staff take a submitted submission back to draft while the round is open (the workflow
    then refuses once the review has started: `indicators.services.submissions.submission_withdraw`)."""
    return can_enter_data(user, municipality, network) and status == "submitted" and round_is_open


def can_review_submissions(user: AnyUser, network: Network) -> bool:
    """Approve, return and see the completion of a round: the network's coordinators."""
    return can_coordinate(user, network)


def can_discuss_value(user: AnyUser, network: Network, municipality: Municipality) -> bool:
    """The query thread on a value is between the municipality's staff and the coordinators."""
    return can_enter_data(user, municipality, network) or can_coordinate(user, network)


# --- results visibility (dashboards, exports and the open-data API) ----------------------------

RESULTS_NONE = "none"
RESULTS_PROVISIONAL = "provisional"
RESULTS_PUBLISHED = "published"


def results_visibility(user: AnyUser, network: Network, round_, member_ids: set[int] | frozenset[int]) -> str:
    """What a person sees of a round's stored results (docs/security.md).

    ``published``: the round is published and the network public, or the person is a member.
    ``provisional``: the round is not published yet and the person is a member of the network
    (approved figures, marked provisional). ``none`` otherwise — anonymous visitors and
    outsiders never see a round before its publication.
    """
    member = is_network_member(user, network, member_ids)
    if round_.status == "published":
        return RESULTS_PUBLISHED if (network.is_public or member) else RESULTS_NONE
    return RESULTS_PROVISIONAL if member else RESULTS_NONE


def can_view_round_values(user: AnyUser, network: Network, round_, member_ids: set[int] | frozenset[int]) -> bool:
    """A round's approved values as a page shows them next to its results (a funnel plot's counts
    and denominators): whoever may see the round's results (`results_visibility`), and only the
    approved values — draft, submitted and returned ones stay with `can_view_submission`.

    A figure derived from a value is seen only by those who may see the value (docs/security.md):
    the results of a round are derived from exactly these values, so the rule is the same.
    """
    return results_visibility(user, network, round_, member_ids) != RESULTS_NONE


def results_member_network_ids(user: AnyUser) -> set[int] | None:
    """Networks whose unpublished (approved) and members-only results this person may read.

    ``None`` means every network (administrators). Used by the open-data API, which lists rows
    of many networks at once; pages ask `results_visibility` for one round.
    """
    if is_administrator(user):
        return None
    roles = roles_of(user)
    ids = set(roles.coordinator_of)
    if roles.staff or roles.viewer:
        ids |= set(member_networks(user).values_list("network_id", flat=True))
    return ids


def member_networks(user: AnyUser):
    """The ids of the networks the person's staff and viewer roles make them a member of (their
    municipality is a current member and the role reaches the network), as a lazy query that
    can serve as a subquery. Coordinators' networks are not included."""
    roles = roles_of(user)
    return Membership.objects.active().filter(scoped_rows(roles.staff | roles.viewer)).values("network_id")


# --- comparisons: stored results and their recompute runs ---------------------------------------


def can_view_recompute_run(user: AnyUser, network: Network) -> bool:
    """A recompute's progress is operations detail: the network's coordinators and administrators."""
    return can_coordinate(user, network)


# --- learning: plan progress on the profile, awards -------------------


def can_view_plans_of(user: AnyUser, network: Network, municipality: Municipality) -> bool:
    """A municipality's improvement plans in a network: the same people as `can_view_plan` (its
    staff and viewers, the network's coordinators), asked before any plan is read."""
    return can_coordinate(user, network) or municipality.pk in roles_of(user).municipalities_in(network.pk)


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


# --- results visibility as a query condition: many rounds at once (the open-data API) ----------


def results_round_condition(user: AnyUser, *, prefix: str = "") -> Q:
    """The rounds whose stored results the person may see, as a condition on round rows (through
    ``prefix``, e.g. ``"round__"``): `results_visibility` for every round at once.

    Published rounds of public networks for anyone; every round of a network the person is a
    member of (`results_member_network_ids`: staff or viewer of a current member municipality in
    a role that reaches the network, or its coordinator); every round for administrators. Which
    rounds it matches is what `results_visibility` says of each one, round by round
    (comparisons/tests/test_visibility_rule.py compares both for every persona and round status).
    """
    return results_rounds_of(results_member_network_ids(user), prefix=prefix)


def results_rounds_of(member_network_ids: set[int] | None, *, prefix: str = "") -> Q:
    """`results_round_condition` for a caller that already holds the person's
    `results_member_network_ids` (one query less)."""
    if member_network_ids is None:
        return Q()
    public = Q(**{f"{prefix}status": "published", f"{prefix}network__policy": "public"})
    return public | Q(**{f"{prefix}network_id__in": member_network_ids})
