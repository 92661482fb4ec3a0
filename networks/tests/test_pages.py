"""Every URL of the project, requested as every persona, hostile ones included.

A new URL pattern without an entry in PAGES fails `test_every_url_has_an_entry`: whoever adds
a page decides here who may see it. Anything not allowed must be a redirect to the login page,
403 or 404.

Besides the roles of the shared fixture, three hostile personas (`hostile_world`) try every
page: the coordinator of another network U that Aizkraukle (A) also belongs to; that
coordinator after inviting their own e-mail as A's staff through U and accepting; and an
account that tried to accept an invitation addressed to someone else. They see what an outsider
sees, plus U's own business — never T's drafts, people or members-only pages.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from comparisons.tests.factories import recompute_run_for
from indicators.tests.factories import page_objects
from learning.tests.factories import coordination_objects, learning_objects

ALL = {"staff_a", "staff_b", "viewer_a", "coordinator", "outsider", "anonymous", "admin"}
SIGNED_IN = ALL - {"anonymous"}
HOSTILE = ("coordinator_u", "self_invited", "wrong_invitee")
# What the hostile personas may see beyond an outsider's pages: their own network U's workspace,
# and (for the self-invited account, staff of A within U) the forms that start a case or a plan.
HOSTILE_EXTRA = {
    "networks:coordination_home": {"coordinator_u", "self_invited"},
    "learning:practice_new": {"self_invited"},
    "learning:plan_new": {"self_invited"},
}

# name -> (kwargs from the world, personas that get 200)
PAGES = {
    "home": (None, ALL),
    "networks:municipality_list": (None, ALL),
    "networks:municipality_detail": (lambda w: {"code": w.a.code}, ALL),
    "networks:network_list": (None, ALL),
    "networks:network_detail": (lambda w: {"code": w.network.code}, ALL),
    "networks:my_work": (None, SIGNED_IN),
    "healthz": (None, ALL),
    "login": (None, ALL),
    "password_reset": (None, ALL),
    "password_reset_done": (None, ALL),
    "password_reset_complete": (None, ALL),
    "password_change": (None, SIGNED_IN),
    "password_change_done": (None, SIGNED_IN),
    "admin:index": (None, {"admin"}),
    # indicators: the staff form and the coordinator's review (a draft of A in a round of T)
    "indicators:my_rounds": (None, SIGNED_IN),
    "indicators:submission_form": (
        lambda w: {"round_pk": page_objects(w)["round"].pk, "code": w.a.code},
        {"staff_a", "coordinator", "admin"},
    ),
    "indicators:round_matrix": (lambda w: {"round_pk": page_objects(w)["round"].pk}, {"coordinator", "admin"}),
    "indicators:round_bulk_approve_confirm": (
        lambda w: {"round_pk": page_objects(w)["round"].pk},
        {"coordinator", "admin"},
    ),
    "indicators:submission_review": (lambda w: {"pk": page_objects(w)["submission"].pk}, {"coordinator", "admin"}),
    # indicators: the Excel round trip (A's own staff) and the round's values export (members: approved only)
    "indicators:excel_template": (lambda w: {"round_pk": page_objects(w)["round"].pk, "code": w.a.code}, {"staff_a"}),
    "indicators:excel_upload": (lambda w: {"round_pk": page_objects(w)["round"].pk, "code": w.a.code}, {"staff_a"}),
    "indicators:round_values_export": (
        lambda w: {"round_pk": page_objects(w)["round"].pk, "fmt": "csv"},
        {"staff_a", "staff_b", "viewer_a", "coordinator", "admin"},
    ),
    # comparisons: a recompute run's progress (JSON), for the network's coordinators
    "comparisons:run_progress": (lambda w: {"pk": recompute_run_for(w).pk}, {"coordinator", "admin"}),
    # comparisons: dashboards. Without a round every persona gets the page ("nothing yet");
    # who sees which round is tested in comparisons/tests/test_dashboards.py and test_api.py.
    "comparisons:index": (None, ALL),
    "comparisons:overview": (lambda w: {"network": "T"}, ALL),
    "comparisons:map": (lambda w: {"network": "T"}, ALL),
    "comparisons:indicator": (
        lambda w: {"network": "T", "indicator": page_objects(w)["round"].network.indicators.first().code},
        ALL,
    ),
    "comparisons:profile": (lambda w: {"network": "T", "code": w.a.code}, ALL),
    "comparisons:report": (lambda w: {"network": "T", "code": w.a.code}, ALL),
    "api:schema": (None, ALL),
    "api:network_list": (None, ALL),
    "api:indicator_list": (None, ALL),
    "api:result_list": (None, ALL),
    "api:composite_list": (None, ALL),
    # coordinator workspace (networks/views_coordination.py): the network T's coordinator and admins
    "networks:coordination_home": (None, {"coordinator", "admin"}),
    "networks:coordination_network_create": (None, {"admin"}),
    "networks:coordination_network": (lambda w: {"code": "T"}, {"coordinator", "admin"}),
    "networks:coordination_network_edit": (lambda w: {"code": "T"}, {"coordinator", "admin"}),
    "networks:coordination_member_end": (
        lambda w: {"code": "T", "pk": w.network.memberships.get(municipality=w.a).pk},
        {"coordinator", "admin"},
    ),
    "networks:coordination_invite": (lambda w: {"code": "T"}, {"coordinator", "admin"}),
    "networks:coordination_people": (lambda w: {"code": "T"}, {"coordinator", "admin"}),
    "indicators:coordination_indicators": (lambda w: {"code": "T"}, {"coordinator", "admin"}),
    "indicators:coordination_indicator_edit": (
        lambda w: {"code": "T", "indicator_code": coordination_objects(w)["indicator"].code},
        {"coordinator", "admin"},
    ),
    "indicators:coordination_round_open": (lambda w: {"code": "T"}, {"coordinator", "admin"}),
    "indicators:official_upload": (lambda w: {"code": "T"}, {"coordinator", "admin"}),
    "indicators:coordination_round": (
        lambda w: {"code": "T", "period": coordination_objects(w)["round"].period.label},
        {"coordinator", "admin"},
    ),
    "indicators:coordination_round_confirm": (
        lambda w: {"code": "T", "period": coordination_objects(w)["round"].period.label, "action": "close"},
        {"coordinator", "admin"},
    ),
    # learning: good practice, plans and meetings of A in T
    "learning:practice_list": (None, ALL),
    "learning:practice_new": (None, {"staff_a", "staff_b"}),
    "learning:practice_detail": (
        lambda w: {"pk": learning_objects(w)["published"].pk},
        {"staff_a", "staff_b", "viewer_a", "coordinator", "admin"},
    ),
    "learning:practice_edit": (
        lambda w: {"pk": learning_objects(w)["submitted"].pk},
        {"staff_a", "coordinator", "admin"},
    ),
    "learning:plan_list": (None, SIGNED_IN),
    "learning:plan_new": (None, {"staff_a", "staff_b"}),
    "learning:plan_detail": (
        lambda w: {"pk": learning_objects(w)["plan"].pk},
        {"staff_a", "viewer_a", "coordinator", "admin"},
    ),
    "learning:plan_edit": (lambda w: {"pk": learning_objects(w)["plan"].pk}, {"staff_a", "admin"}),
    "learning:plan_action_edit": (lambda w: {"pk": learning_objects(w)["action"].pk}, {"staff_a", "admin"}),
    "learning:network_plans": (lambda w: {"code": "T"}, {"coordinator", "admin"}),
    "learning:meeting_list": (lambda w: {"code": "T"}, {"staff_a", "staff_b", "viewer_a", "coordinator", "admin"}),
    "learning:meeting_new": (lambda w: {"code": "T"}, {"coordinator", "admin"}),
    "learning:meeting_detail": (
        lambda w: {"pk": learning_objects(w)["meeting"].pk},
        {"staff_a", "staff_b", "viewer_a", "coordinator", "admin"},
    ),
    "learning:meeting_edit": (lambda w: {"pk": learning_objects(w)["meeting"].pk}, {"coordinator", "admin"}),
    "learning:network_activity": (lambda w: {"code": "T"}, ALL),
    "learning:network_awards": (lambda w: {"code": "T"}, ALL),
    "learning:follows": (None, SIGNED_IN),
}
# Pages that only answer POST, or need a token: checked by their own tests.
NOT_GET_PAGES = {
    "logout": "POST only (Django 5): tested in test_auth",
    "set_language": "POST only: tested in test_i18n",
    "password_reset_confirm": "needs a one-time token: tested in test_auth",
    "indicators:round_bulk_approve": "POST only: tested in indicators/tests/test_workflow.py and test_review.py",
    "indicators:value_query_post": "POST only: tested in indicators/tests/test_review.py",
    "indicators:submission_value_check": "POST only: every persona tested in indicators/tests/test_staff_form.py",
    "indicators:submission_withdraw": "POST only: every persona tested in indicators/tests/test_staff_form.py",
    "indicators:excel_commit": "POST only: tested in indicators/tests/test_excel.py",
    "indicators:official_confirm": "POST only: every persona tested in indicators/tests/test_official_upload.py",
    "networks:coordination_member_add": "POST only: tested in networks/tests/test_coordination.py",
    "networks:coordination_deactivate": "POST only: tested in networks/tests/test_coordination.py",
    "indicators:coordination_round_action": "POST only: tested in networks/tests/test_coordination.py",
    "networks:invitation_accept": "needs a one-time token: tested in networks/tests/test_coordination.py",
    "learning:practice_publish": "POST only: tested in learning/tests/test_practice.py",
    "learning:practice_unpublish": "POST only: tested in learning/tests/test_practice.py",
    "learning:attachment_download": "needs a stored file: every persona tested in learning/tests/test_practice.py",
    "learning:attachment_delete": "POST only: tested in learning/tests/test_practice.py",
    "learning:plan_target_add": "POST only: tested in learning/tests/test_plans.py",
    "learning:plan_target_delete": "POST only: tested in learning/tests/test_plans.py",
    "learning:plan_action_add": "POST only: tested in learning/tests/test_plans.py",
    "learning:follow": "POST only: every persona tested in learning/tests/test_follows.py",
    "learning:unsubscribe": "needs a signed token: tested in learning/tests/test_follows.py",
}
# Pages that need more than 8 queries, with the reason (still a constant, asserted here).
QUERY_LIMITS = {
    # items, values, last period's values, the network's distribution, threads, events, history
    "indicators:submission_form": 15,
    # the template: round, municipality, submission, items, values, last period's round and values
    "indicators:excel_template": 12,
    # dashboards: at most 12 queries each, asserted with real results in comparisons/tests
    "comparisons:overview": 12,
    "comparisons:map": 12,
    "comparisons:indicator": 12,
    "comparisons:profile": 12,
    "comparisons:report": 12,
    # submission, round items, values, last period's round and values, the network's distribution,
    # threads, value history, events
    "indicators:submission_review": 12,
    # round, members, submissions, municipalities without one, round items (2), the round's values,
    # last period's values: the review list and the bulk confirmation, whatever the number of members
    "indicators:round_matrix": 11,
    "indicators:round_bulk_approve_confirm": 11,
    # network, rounds, memberships, the add-member form's municipalities, indicator set, invitations
    "networks:coordination_network": 9,
    # roles, networks, and the task panels: staff 5 (memberships, open rounds, submissions, items,
    # values), coordinators 6 (networks, rounds, memberships, submissions, items, values), whatever
    # the number of rounds, members and items (indicators/tests/test_tasks_panels.py)
    "networks:my_work": 10,
    # the plan, its actions, the target form's indicators, and progress: members, rounds, targets with values
    "learning:plan_detail": 10,
}
# Namespaces whose every page has one rule, checked on their index page.
NAMESPACES = {"admin": "admin:index"}


def _names(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _names(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{prefix}{pattern.name}"


def test_every_url_has_an_entry():
    missing = []
    for name in set(_names(get_resolver().url_patterns)):
        namespace = name.split(":", 1)[0] if ":" in name else None
        if name in PAGES or name in NOT_GET_PAGES or namespace in NAMESPACES:
            continue
        missing.append(name)
    assert not missing, f"URL patterns without an entry in the permission matrix: {sorted(missing)}"


@pytest.fixture
def hostile_world(world):
    """The world, with A also a member of U and the hostile personas made through the services
    a real person would use."""
    from networks import services
    from networks.models import Role
    from networks.tests.factories import MembershipFactory, RoleFactory, UserFactory

    MembershipFactory(network=world.other_network, municipality=world.a)
    coordinator_u = UserFactory(username="coordinator-u")
    RoleFactory(user=coordinator_u, kind=Role.Kind.COORDINATOR, network=world.other_network)
    self_invited = UserFactory(username="self-invited")
    RoleFactory(user=self_invited, kind=Role.Kind.COORDINATOR, network=world.other_network)
    _invitation, token = services.invitation_create(
        network=world.other_network,
        email=self_invited.email,
        kind=Role.Kind.STAFF,
        municipality=world.a,
        invited_by=self_invited,
    )
    services.invitation_accept(token=token, user=self_invited)
    wrong_invitee = UserFactory(username="wrong-invitee")
    _invitation, token = services.invitation_create(
        network=world.network,
        email="someone.else@example.org",
        kind=Role.Kind.STAFF,
        municipality=world.a,
        invited_by=world.users["coordinator"],
    )
    with pytest.raises(services.CoordinationError):
        services.invitation_accept(token=token, user=wrong_invitee)
    mail.outbox.clear()
    world.users.update(coordinator_u=coordinator_u, self_invited=self_invited, wrong_invitee=wrong_invitee)
    return world


def _allowed(name: str, persona: str) -> bool:
    allowed = PAGES[name][1]
    if persona in HOSTILE:
        return "outsider" in allowed or persona in HOSTILE_EXTRA.get(name, set())
    return persona in allowed


CASES = [(name, persona) for name in sorted(PAGES) for persona in sorted(ALL) + list(HOSTILE)]


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_page_for_persona(hostile_world, name, persona):
    world = hostile_world
    kwargs_for, _allowed_personas = PAGES[name]
    url = reverse(name, kwargs=kwargs_for(world) if kwargs_for else None)
    response = world.client(persona).get(url)
    if _allowed(name, persona):
        assert response.status_code == 200, f"{persona} should see {url}"
    else:
        assert response.status_code in (302, 403, 404), f"{persona} must not see {url}"
        if response.status_code == 302:
            assert "login" in response["Location"]


def test_unknown_objects_are_404(world):
    client = world.client("coordinator")
    assert client.get(reverse("networks:municipality_detail", kwargs={"code": "NOPE"})).status_code == 404
    assert client.get(reverse("networks:network_detail", kwargs={"code": "NOPE"})).status_code == 404


@pytest.mark.parametrize("persona", sorted(ALL))
def test_coordinator_names_only_for_the_networks_people(world, persona):
    response = world.client(persona).get(reverse("networks:network_detail", kwargs={"code": "T"}))
    shown = "Ilze Koordinatore" in response.content.decode()
    assert shown is (persona in {"staff_a", "staff_b", "viewer_a", "coordinator", "admin"})


NAVIGATION = {
    # persona: (administration, my work, reporting rounds, improvement plans, coordination)
    "anonymous": (False, False, False, False, False),
    "outsider": (False, True, False, False, False),
    "staff_a": (False, True, True, True, False),
    "viewer_a": (False, True, False, True, False),
    "coordinator": (False, True, True, True, True),
    "admin": (True, True, False, False, True),
}


@pytest.mark.parametrize("persona", sorted(NAVIGATION))
def test_navigation_shows_each_role_what_it_may_do(world, persona):
    html = world.client(persona).get(reverse("home")).content.decode()
    links = (
        "admin:index",
        "networks:my_work",
        "indicators:my_rounds",
        "learning:plan_list",
        "networks:coordination_home",
    )
    shown = tuple(f'href="{reverse(name)}"' in html for name in links)
    assert shown == NAVIGATION[persona]
    assert (reverse("login") in html) is (persona == "anonymous")


def test_my_work_lists_own_roles(world):
    html = world.client("staff_a").get(reverse("networks:my_work")).content.decode()
    assert "Aizkraukles novads" in html
    assert "Bauskas novads" not in html


def test_pages_query_counts(world, django_assert_max_num_queries):
    """Each page is counted as every persona who may see it (a 403 costs few queries and would
    hide a slow page), and the page must answer 200 for them."""
    clients = {persona: world.client(persona) for persona in ALL}
    for name, (kwargs_for, allowed) in PAGES.items():
        if name.startswith("admin:"):
            continue
        url = reverse(name, kwargs=kwargs_for(world) if kwargs_for else None)
        for persona in sorted(allowed):
            with django_assert_max_num_queries(QUERY_LIMITS.get(name, 8)):
                assert clients[persona].get(url).status_code == 200, f"{persona} {url}"
