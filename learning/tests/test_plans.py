"""Improvement plans: targets on the network's indicators, actions with owners and due dates."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import PERSONAS
from indicators.models import NetworkIndicator
from indicators.tests.factories import IndicatorFactory
from learning.models import ImprovementPlan, PlanAction, PlanTarget
from learning.tests.factories import ImprovementPlanFactory, PlanActionFactory, PlanTargetFactory
from networks.models import Role
from networks.tests.factories import RoleFactory, UserFactory


@pytest.fixture
def indicator(world):
    indicator = IndicatorFactory(code="SOC_HOUSING", name="Sociālie dzīvokļi uz 1000", decimals=1)
    NetworkIndicator.objects.create(network=world.network, indicator=indicator)
    return indicator


def test_staff_make_a_plan_with_targets_and_actions(world, indicator):
    client = world.client("staff_a")
    response = client.post(
        reverse("learning:plan_new"),
        {"network": world.network.pk, "municipality": world.a.pk, "title": "Mājokļu plāns", "status": "active"},
    )
    assert response.status_code == 302
    plan = ImprovementPlan.objects.get()
    assert (plan.municipality, plan.network, plan.status) == (world.a, world.network, "active")

    client.post(
        reverse("learning:plan_target_add", kwargs={"pk": plan.pk}),
        {
            "target-indicator": indicator.code,
            "target-baseline": "4.2",
            "target-baseline_period": "2024",
            "target-target_value": "6",
            "target-target_period": "2026",
        },
    )
    target = PlanTarget.objects.get()
    assert (target.baseline, target.target_value, target.target_period.label) == (Decimal("4.2"), 6, "2026")

    client.post(
        reverse("learning:plan_action_add", kwargs={"pk": plan.pk}),
        {
            "action-description": "Pārbūvēt skolas ēku par sociālajām mājām",
            "action-owner": "Būvvalde",
            "action-due_date": "2026-09-30",
            "action-status": "in_progress",
        },
    )
    action = PlanAction.objects.get()
    assert (action.owner, action.due_date, action.status) == ("Būvvalde", datetime.date(2026, 9, 30), "in_progress")

    html = world.client("viewer_a").get(reverse("learning:plan_detail", kwargs={"pk": plan.pk})).content.decode()
    assert "SOC_HOUSING" in html
    assert "Būvvalde" in html
    assert "4,2" in html  # the Latvian way
    # A viewer reads but gets no forms.
    assert reverse("learning:plan_target_add", kwargs={"pk": plan.pk}) not in html


def test_target_must_be_in_the_network_set_and_after_the_baseline(world, indicator):
    plan = ImprovementPlanFactory(municipality=world.a, network=world.network)
    foreign = IndicatorFactory(code="FOREIGN")
    client = world.client("staff_a")
    url = reverse("learning:plan_target_add", kwargs={"pk": plan.pk})
    client.post(url, {"target-indicator": foreign.code, "target-target_value": "1", "target-target_period": "2026"})
    response = client.post(
        url,
        {
            "target-indicator": indicator.code,
            "target-target_value": "1",
            "target-target_period": "2024",
            "target-baseline_period": "2025",
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "must come after the baseline" in response.content.decode()
    assert not PlanTarget.objects.exists()


@pytest.mark.parametrize("persona", [*PERSONAS, "admin"])
def test_plan_changes_only_by_the_municipalitys_staff(world, indicator, persona):
    plan = ImprovementPlanFactory(municipality=world.a, network=world.network, title="Sākotnējais")
    target = PlanTargetFactory(plan=plan, indicator=indicator)
    action = PlanActionFactory(plan=plan)
    client = world.client(persona)
    may = persona in {"staff_a", "admin"}
    client.post(reverse("learning:plan_edit", kwargs={"pk": plan.pk}), {"title": "Mainīts", "status": "active"})
    client.post(
        reverse("learning:plan_action_edit", kwargs={"pk": action.pk}),
        {"description": "Cits", "owner": "X", "status": "done"},
    )
    client.post(reverse("learning:plan_target_delete", kwargs={"pk": target.pk}))
    plan.refresh_from_db()
    action.refresh_from_db()
    assert (plan.title == "Mainīts") is may
    assert (action.status == "done") is may
    assert PlanTarget.objects.filter(pk=target.pk).exists() is not may


def test_coordinator_sees_all_members_plans_but_not_another_networks(world, indicator):
    ImprovementPlanFactory(municipality=world.a, network=world.network, title="A plāns")
    ImprovementPlanFactory(municipality=world.b, network=world.network, title="B plāns")
    u_plan = ImprovementPlanFactory(municipality=world.c, network=world.other_network, title="C plāns")
    client = world.client("coordinator")
    html = client.get(reverse("learning:network_plans", kwargs={"code": "T"})).content.decode()
    assert "A plāns" in html
    assert "B plāns" in html
    assert "C plāns" not in html
    assert client.get(reverse("learning:network_plans", kwargs={"code": "U"})).status_code == 403
    assert client.get(reverse("learning:plan_detail", kwargs={"pk": u_plan.pk})).status_code == 403
    # staff of B see only their own municipality's plans
    html = world.client("staff_b").get(reverse("learning:plan_list")).content.decode()
    assert "B plāns" in html
    assert "A plāns" not in html


def test_staff_cannot_plan_for_another_network(world):
    staff_c = UserFactory(username="staff-c")
    RoleFactory(user=staff_c, kind=Role.Kind.STAFF, municipality=world.c)
    client = world.client("staff_a")
    response = client.post(
        reverse("learning:plan_new"), {"network": world.other_network.pk, "municipality": world.a.pk, "title": "X"}
    )
    assert response.status_code == 200  # U is not among A's networks
    assert not ImprovementPlan.objects.exists()


def test_network_plans_query_count(world, indicator, django_assert_max_num_queries):
    for municipality in (world.a, world.b):
        plan = ImprovementPlanFactory(municipality=municipality, network=world.network)
        PlanTargetFactory(plan=plan, indicator=indicator)
    client = world.client("coordinator")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("learning:network_plans", kwargs={"code": "T"}))
    assert response.content.decode().count("SOC_HOUSING") == 2
