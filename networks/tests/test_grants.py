"""No one gains a role they were not given: the grant rule, invitations bound to their addressee,
and a coordinator of one network against another network's municipalities and people.

The attack these tests replay: a coordinator of one network invites their own e-mail as staff
of a municipality that is also a member of another network, accepts, and reaches that other
network's drafts. The role model (docs/security.md) scopes every role a coordinator gives to
their network, and only administrators create networks or give roles for every network.
"""

from __future__ import annotations

import datetime
import re
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicators.models import DataItem, NetworkIndicator, Value
from indicators.tests.factories import IndicatorFactory, page_objects
from networks import permissions, services
from networks.models import Invitation, Membership, Role
from networks.tests.factories import MembershipFactory, MunicipalityFactory, RoleFactory, UserFactory


def _link(world, *, by: str, network_code: str, email: str, municipality, kind: str = "staff") -> str:
    """An invitation sent through the coordinator's page; returns the path of its link."""
    with mock.patch("django.db.transaction.on_commit", side_effect=lambda f, *a, **k: f()):
        response = world.client(by).post(
            reverse("networks:coordination_invite", kwargs={"code": network_code}),
            {"email": email, "kind": kind, "municipality": municipality.code},
        )
    assert response.status_code == 302, response.content.decode()[:500]
    return re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)


@pytest.fixture
def shared(world):
    """Aizkraukle (A) is a member of T and of U; U has its own coordinator, who is hostile to T."""
    MembershipFactory(network=world.other_network, municipality=world.a)
    hostile = UserFactory(username="coordinator-u")
    RoleFactory(user=hostile, kind=Role.Kind.COORDINATOR, network=world.other_network)
    world.users["coordinator_u"] = hostile
    return world


# --- 1. escalation through invitations ----------------------------------------------------------


def test_a_self_invited_coordinator_cannot_reach_another_networks_draft(shared):
    world = shared
    objects = page_objects(world)  # a draft of A in T's round, with one value
    path = _link(world, by="coordinator_u", network_code="U", email="coordinator-u@example.org", municipality=world.a)
    hostile = world.client("coordinator_u")
    assert hostile.post(path).status_code == 302
    role = Role.objects.get(user=world.users["coordinator_u"], kind=Role.Kind.STAFF)
    assert (role.municipality, role.network) == (world.a, world.other_network)

    form = reverse("indicators:submission_form", kwargs={"round_pk": objects["round"].pk, "code": world.a.code})
    assert hostile.get(form).status_code in (403, 404)
    value = Value.objects.get(submission=objects["submission"])
    history = value.history.count()
    item = DataItem.objects.get(code="DWELLINGS")
    response = hostile.post(form, {f"item_{item.pk}": "999", "version": objects["submission"].version})
    assert response.status_code in (403, 404)
    value.refresh_from_db()
    assert value.number == 12
    assert value.history.count() == history
    for name in ("indicators:excel_template", "indicators:excel_upload"):
        url = reverse(name, kwargs={"round_pk": objects["round"].pk, "code": world.a.code})
        assert hostile.get(url).status_code in (403, 404)
    # Within U, the role works as granted.
    user = world.users["coordinator_u"]
    permissions.forget_roles(user)
    assert permissions.can_enter_data(user, world.a, world.other_network)
    assert not permissions.can_enter_data(user, world.a, world.network)


def test_a_coordinator_cannot_create_a_network_to_reach_any_municipality(shared):
    world = shared
    response = world.client("coordinator_u").post(
        reverse("networks:coordination_network_create"), {"code": "EVIL", "name": "Evil", "policy": "members"}
    )
    assert response.status_code == 403
    user = world.users["coordinator_u"]
    with pytest.raises(services.CoordinationError):
        services.network_create(code="EVIL", name="Evil", created_by=user, coordinator=user)


def test_a_coordinator_cannot_grant_a_coordinator_role_or_a_role_for_every_network(shared):
    world = shared
    user = world.users["coordinator_u"]
    victim = world.users["outsider"]
    for kind, municipality, network in (
        (Role.Kind.COORDINATOR, None, world.network),
        (Role.Kind.COORDINATOR, None, world.other_network),
        (Role.Kind.STAFF, world.a, None),
        (Role.Kind.STAFF, world.a, world.network),
        (Role.Kind.VIEWER, world.b, world.other_network),  # B is not a member of U
    ):
        with pytest.raises(services.CoordinationError):
            services.role_grant(user=victim, kind=kind, municipality=municipality, network=network, granted_by=user)
    assert not Role.objects.filter(user=victim).exists()


# --- 2. deactivation and personal data across networks ------------------------------------------


def test_people_page_lists_only_the_networks_own_grants(shared):
    world = shared
    # staff_a is staff of A in every network (an administrator's grant); A is a member of U.
    page = world.client("coordinator_u").get(reverse("networks:coordination_people", kwargs={"code": "U"}))
    text = page.content.decode()
    assert page.status_code == 200
    assert "staff-a@example.org" not in text
    assert "viewer-a@example.org" not in text
    invited = UserFactory(username="invited-u", email="invited-u@example.org")
    RoleFactory(user=invited, kind=Role.Kind.STAFF, municipality=world.a, network=world.other_network)
    text = world.client("coordinator_u").get(reverse("networks:coordination_people", kwargs={"code": "U"})).content
    assert b"invited-u@example.org" in text


@pytest.mark.parametrize("target", ["staff_a", "viewer_a", "coordinator"])
def test_a_coordinator_cannot_deactivate_people_beyond_their_grants(shared, target):
    world = shared
    victim = world.users[target]
    url = reverse("networks:coordination_deactivate", kwargs={"code": "U", "user_id": victim.pk})
    assert world.client("coordinator_u").post(url).status_code in (403, 404)
    victim.refresh_from_db()
    assert victim.is_active


def test_someone_invited_by_two_networks_is_deactivated_by_neither_coordinator(shared):
    world = shared
    person = UserFactory(username="twice")
    RoleFactory(user=person, kind=Role.Kind.STAFF, municipality=world.a, network=world.network)
    RoleFactory(user=person, kind=Role.Kind.VIEWER, municipality=world.a, network=world.other_network)
    for by, code in (("coordinator", "T"), ("coordinator_u", "U")):
        url = reverse("networks:coordination_deactivate", kwargs={"code": code, "user_id": person.pk})
        assert world.client(by).post(url).status_code == 403
    person.refresh_from_db()
    assert person.is_active


# --- 3. invitations are not bearer tokens -------------------------------------------------------


def test_an_invitation_for_someone_else_gives_nothing(world):
    path = _link(world, by="coordinator", network_code="T", email="anna@example.org", municipality=world.a)
    thief = world.client("outsider")  # outsider@example.org
    page = thief.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert "another e-mail address" in page.content.decode()
    thief.post(path)
    assert not Role.objects.filter(user=world.users["outsider"]).exists()
    assert Invitation.objects.get().accepted_at is None
    with pytest.raises(services.CoordinationError):
        services.invitation_accept(token=path.rstrip("/").rsplit("/", 1)[1], user=world.users["outsider"])


def test_an_account_without_an_email_cannot_accept(world):
    path = _link(world, by="coordinator", network_code="T", email="anna@example.org", municipality=world.a)
    nameless = UserFactory(username="nameless", email="")
    client = world.client("anonymous")
    client.force_login(nameless)
    client.post(path)
    assert not Role.objects.filter(user=nameless).exists()
    nameless.refresh_from_db()
    assert nameless.email == ""


def test_the_addressee_accepts_whatever_the_case_of_the_address(world):
    path = _link(world, by="coordinator", network_code="T", email="Outsider@Example.org", municipality=world.b)
    assert world.client("outsider").post(path).status_code == 302
    assert Role.objects.filter(user=world.users["outsider"], municipality=world.b, network=world.network).exists()


def test_an_invitation_dies_with_the_membership(world):
    path = _link(world, by="coordinator", network_code="T", email="outsider@example.org", municipality=world.b)
    membership = Membership.objects.get(network=world.network, municipality=world.b)
    services.membership_end(membership=membership, left=timezone.localdate() - datetime.timedelta(days=1))
    world.client("outsider").post(path)
    assert not Role.objects.filter(user=world.users["outsider"]).exists()


def test_an_invitation_dies_with_the_inviters_coordination(world):
    path = _link(world, by="coordinator", network_code="T", email="outsider@example.org", municipality=world.b)
    Role.objects.filter(user=world.users["coordinator"], kind=Role.Kind.COORDINATOR).delete()
    world.client("outsider").post(path)
    assert not Role.objects.filter(user=world.users["outsider"]).exists()


# --- 8. who owns a shared catalogue entry -------------------------------------------------------


def test_a_coordinator_cannot_take_another_networks_indicator(shared):
    world = shared
    theirs = IndicatorFactory(code="T_OWN")
    NetworkIndicator.objects.create(network=world.network, indicator=theirs)
    url = reverse("indicators:coordination_indicators", kwargs={"code": "U"})
    response = world.client("coordinator_u").post(url, {"indicators": [theirs.pk]}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "ask an administrator" in response.content.decode()
    assert not NetworkIndicator.objects.filter(network=world.other_network).exists()
    # T's coordinator still edits T's own indicator.
    edit = reverse("indicators:coordination_indicator_edit", kwargs={"code": "T", "indicator_code": "T_OWN"})
    assert world.client("coordinator").get(edit).status_code == 200
    # An administrator may share it; then it belongs to the administrators.
    assert world.client("admin").post(url, {"indicators": [theirs.pk]}).status_code == 302
    assert world.client("coordinator").get(edit).status_code == 403


# --- the rule as a property: no grant exceeds the granter's own scope ---------------------------


def _reach(kind: str, municipality_id: int | None, network_id: int | None) -> set[tuple[str, int, int | None]]:
    """What a role reaches: (kind, network, municipality) for every network it works in."""
    if kind == Role.Kind.COORDINATOR:
        return {("coordinator", network_id, None)}
    networks = (
        [network_id]
        if network_id is not None
        else Membership.objects.active().filter(municipality_id=municipality_id).values_list("network_id", flat=True)
    )
    return {(kind, n, municipality_id) for n in networks}


def _scope(user) -> set[tuple[int, int]]:
    """What a granter may give: (network, municipality) for the current members of the networks
    they coordinate."""
    coordinated = permissions.roles_of(user).coordinator_of
    return set(Membership.objects.active().filter(network_id__in=coordinated).values_list("network_id", "municipality"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    granter=st.sampled_from(["coordinator", "coordinator_u", "staff_a", "viewer_a", "outsider"]),
    kind=st.sampled_from(["staff", "viewer", "coordinator"]),
    municipality=st.sampled_from(["a", "b", "c", "d", None]),
    network=st.sampled_from(["network", "other_network", None]),
    through_invitation=st.booleans(),
)
def test_no_grant_exceeds_the_granters_scope(shared, granter, kind, municipality, network, through_invitation):
    world = shared
    if not hasattr(world, "d"):
        world.d = MunicipalityFactory(code="LVD000004", name="Dobeles novads")  # a member of nothing
    user = world.users[granter]
    permissions.forget_roles(user)
    target_municipality = getattr(world, municipality) if municipality else None
    target_network = getattr(world, network) if network else None
    grantee = UserFactory(username=f"grantee-{get_user_model().objects.count()}")
    before = set(Role.objects.filter(user=grantee).values_list("kind", "municipality_id", "network_id"))
    try:
        if through_invitation and target_network and target_municipality:
            _invitation, token = services.invitation_create(
                network=target_network,
                email=grantee.email,
                kind=kind,
                municipality=target_municipality,
                invited_by=user,
            )
            services.invitation_accept(token=token, user=grantee)
        else:
            services.role_grant(
                user=grantee, kind=kind, municipality=target_municipality, network=target_network, granted_by=user
            )
    except services.CoordinationError:
        pass
    gained = set(Role.objects.filter(user=grantee).values_list("kind", "municipality_id", "network_id")) - before
    scope = _scope(user)
    for role_kind, municipality_id, network_id in gained:
        assert role_kind in ("staff", "viewer"), "a coordinator role given by a non-administrator"
        for _kind, n, m in _reach(role_kind, municipality_id, network_id):
            assert (n, m) in scope, f"{granter} gave {role_kind} of {m} in network {n}"
