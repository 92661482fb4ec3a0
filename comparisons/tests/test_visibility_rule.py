"""One rule decides who sees which round's results: `results_visibility` (one round, the pages
and their exports) and `results_round_condition` (every round at once, the open-data API) agree
for every persona, round status and network policy, including former and future members; and
the API lists exactly the periods the dashboard offers the same person."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone

from comparisons.dashboard_selectors import dashboard_scope
from conftest import PERSONAS
from indicators.models import Round
from indicators.tests.factories import PeriodFactory, RoundFactory
from networks import permissions
from networks.models import Membership, Network

from .dashboard_fixtures import dashboard_data

STATUSES = [Round.Status.OPEN, Round.Status.CLOSED, Round.Status.PUBLISHED]


def _user(world, persona):
    return world.users.get(persona) or AnonymousUser()


def _rounds(world) -> list[Round]:
    rounds = []
    for network in (world.network, world.other_network):
        for year, status in zip((2021, 2022, 2023), STATUSES, strict=True):
            rounds.append(RoundFactory(network=network, period=PeriodFactory(label=str(year)), status=status))
    return rounds


def _agree(world, rounds, persona) -> None:
    user = _user(world, persona)
    matched = set(Round.objects.filter(permissions.results_round_condition(user)).values_list("pk", flat=True))
    for round_ in Round.objects.filter(pk__in=[r.pk for r in rounds]).select_related("network"):
        member_ids = set(
            Membership.objects.active().filter(network=round_.network).values_list("municipality_id", flat=True)
        )
        seen = permissions.results_visibility(user, round_.network, round_, member_ids) != permissions.RESULTS_NONE
        assert (round_.pk in matched) == seen, (persona, round_.network.code, round_.status, round_.network.policy)


@pytest.mark.parametrize("policy", [Network.Policy.PUBLIC, Network.Policy.MEMBERS])
@pytest.mark.parametrize("persona", [*PERSONAS, "admin"])
def test_the_round_condition_agrees_with_the_visibility_of_each_round(world, persona, policy):
    Network.objects.update(policy=policy)
    _agree(world, _rounds(world), persona)


@pytest.mark.parametrize("change", ["left", "joins_later"])
@pytest.mark.parametrize("persona", ["staff_b", "staff_a", "viewer_a"])
def test_former_and_future_members_are_outsiders_in_both(world, persona, change):
    # B left network T yesterday, or (the other case) A joins it only tomorrow.
    today = timezone.localdate()
    if change == "left":
        Membership.objects.filter(network=world.network, municipality=world.b).update(
            left=today - datetime.timedelta(days=1)
        )
    else:
        Membership.objects.filter(network=world.network, municipality=world.a).update(
            joined=today + datetime.timedelta(days=1)
        )
    Network.objects.update(policy=Network.Policy.MEMBERS)
    _agree(world, _rounds(world), persona)


@pytest.mark.parametrize("policy", [Network.Policy.PUBLIC, Network.Policy.MEMBERS])
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_api_lists_the_periods_the_dashboard_offers(world, persona, policy):
    dashboard_data(world)
    Network.objects.update(policy=policy)
    user = _user(world, persona)
    scope = dashboard_scope(user=user, network_code=world.network.code)
    offered = {round_.period.label for round_, _seen in scope.rounds}
    client = world.client(persona)
    listed, url = set(), reverse("api:result_list") + "?network=T&page_size=1000"
    while url:
        body = client.get(url).json()
        listed |= {row["period"] for row in body["results"]}
        url = body["next"]
    assert listed == offered
