"""Improvement plans' progress to target, from stored results: the plan page, the coordinator's
overview and the municipality profile; a new round approved through the engine moves it."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comparisons.tests.dashboard_fixtures import dashboard_data
from comparisons.tests.factories import submissions_create
from conftest import PERSONAS
from indicators.models import Period, Submission
from indicators.services.periods import period_get_or_create
from indicators.services.submissions import submission_approve
from learning.selectors import target_progress_compute
from learning.tests.factories import ImprovementPlanFactory, PlanTargetFactory

# --- the rule, without a database ----------------------------------------------------------------


def _target(*, target: float, by: int, polarity: str = "higher", baseline_period_id=None):
    return SimpleNamespace(
        target_value=Decimal(str(target)),
        baseline_period_id=baseline_period_id,
        indicator=SimpleNamespace(polarity=polarity),
        target_period=SimpleNamespace(start=datetime.date(by, 1, 1)),
    )


def _rows(**values):
    return [
        SimpleNamespace(
            value=v, period=SimpleNamespace(start=datetime.date(int(y[1:]), 1, 1), label=y[1:]), period_id=int(y[1:])
        )
        for y, v in values.items()
    ]


def test_share_of_the_way_and_open_before_the_target_period():
    progress = target_progress_compute(
        target=_target(target=60, by=2026), baseline=30.0, rows=_rows(y2024=30, y2025=45)
    )
    assert (progress.current, progress.percent, progress.status) == (45, 50, "open")


def test_met_when_reached_by_the_target_period_in_the_direction_of_the_target():
    # Going down: baseline 110, target 90 (whatever the polarity says, target - baseline decides).
    progress = target_progress_compute(target=_target(target=90, by=2025), baseline=110.0, rows=_rows(y2025=88))
    assert (progress.status, progress.percent, progress.met) == ("met", 110, True)
    assert progress.bar_percent == 100


def test_missed_when_the_target_period_has_a_value_short_of_the_target():
    progress = target_progress_compute(
        target=_target(target=90, by=2025), baseline=110.0, rows=_rows(y2025=100, y2026=85)
    )
    # The 2026 value would reach it, but the target was for 2025.
    assert (progress.status, progress.current) == ("missed", 85)


def test_wrong_direction_gives_a_negative_share_and_no_data_says_so():
    progress = target_progress_compute(target=_target(target=60, by=2026), baseline=30.0, rows=_rows(y2025=15))
    assert (progress.percent, progress.bar_percent) == (-50, 0)
    assert target_progress_compute(target=_target(target=60, by=2026), baseline=30.0, rows=[]).status == "nodata"


def test_without_a_baseline_the_polarity_decides_and_the_baseline_period_gives_it():
    lower = _target(target=90, by=2025, polarity="lower")
    assert target_progress_compute(target=lower, baseline=None, rows=_rows(y2025=80)).status == "met"
    assert target_progress_compute(target=lower, baseline=None, rows=_rows(y2025=95)).status == "missed"
    with_period = _target(target=60, by=2026, baseline_period_id=2024)
    progress = target_progress_compute(target=with_period, baseline=None, rows=_rows(y2024=40, y2025=50))
    assert (progress.baseline, progress.percent) == (40, 50)


# --- through the engine ----------------------------------------------------------------------------


@pytest.fixture
def data(world):
    return dashboard_data(world)


@pytest.fixture
def plan(world, data):
    plan = ImprovementPlanFactory(municipality=world.a, network=world.network, title="Izmaksu plāns")
    # A's COST: 2023 130, 2024 110, 2025 100 (approved, not published). Lower is better.
    PlanTargetFactory(
        plan=plan,
        indicator=data.cost,
        baseline=Decimal(110),
        baseline_period=Period.objects.get(label="2024"),
        target_value=Decimal(90),
        target_period=period_get_or_create(label="2026"),
    )
    return plan


def status_of(html: str) -> list[str]:
    return re.findall(r'data-status="([a-z]+)"', html)


def approve_2026(world, data, *, cost_a: float) -> None:
    """A new round 2026: the others approved, A's submission approved by the coordinator, which
    enqueues (after commit) the recompute that the tests run in process."""
    m = data.municipalities
    others = {m[k]: {"SOCIAL": 10, "POPULATION": 1000, "COST": 120} for k in "bdefg"}
    submissions_create(network=world.network, period="2026", values=others)
    own = submissions_create(
        network=world.network,
        period="2026",
        values={m["a"]: {"SOCIAL": 30, "POPULATION": 1000, "COST": cost_a}},
        status=Submission.Status.SUBMITTED,
    )[m["a"]]
    submission_approve(submission=own, user=world.users["coordinator"])


def test_progress_moves_and_met_flips_when_a_new_round_is_approved(
    world, data, plan, django_capture_on_commit_callbacks
):
    client = world.client("staff_a")
    url = reverse("learning:plan_detail", kwargs={"pk": plan.pk})
    html = client.get(url).content.decode()
    # 2025 (provisional): 100, half way from 110 to 90.
    assert 'class="progress-value">100<' in html
    assert "50 %" in html
    assert status_of(html) == ["open"]

    with django_capture_on_commit_callbacks(execute=True):
        approve_2026(world, data, cost_a=85)

    html = client.get(url).content.decode()
    assert 'class="progress-value">85<' in html
    assert "125 %" in html  # (110 - 85) / (110 - 90)
    assert status_of(html) == ["met"]

    overview = world.client("coordinator").get(reverse("learning:network_plans", kwargs={"code": "T"}))
    assert status_of(overview.content.decode()) == ["met"]


def test_a_target_not_reached_by_its_period_is_missed(world, data, plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        approve_2026(world, data, cost_a=95)
    html = world.client("coordinator").get(reverse("learning:plan_detail", kwargs={"pk": plan.pk})).content.decode()
    assert 'class="progress-value">95<' in html
    assert status_of(html) == ["missed"]


def test_coordinator_overview_counts_the_targets_met(world, data, plan):
    other = ImprovementPlanFactory(municipality=data.municipalities["b"], network=world.network, title="Bauskas plāns")
    # B's SOC: 2024 10, 2025 11 -> reached 11 by 2025.
    PlanTargetFactory(
        plan=other,
        indicator=data.soc,
        baseline=Decimal(10),
        target_value=Decimal(11),
        target_period=Period.objects.get(label="2025"),
    )
    response = world.client("coordinator").get(reverse("learning:network_plans", kwargs={"code": "T"}))
    html = response.content.decode()
    assert response.status_code == 200
    # By municipality name: A's target (100 in 2025, on the way to 90 by 2026), then B's (met).
    assert status_of(html) == ["open", "met"]
    sentence = re.findall(r'class="targets-met">([^<]*)<', html)[0]
    assert re.findall(r"\d+", sentence) == ["1", "2"]  # "1 of 2 targets met."
    assert "Izmaksu plāns" in html and "Bauskas plāns" in html


@pytest.mark.parametrize("persona", PERSONAS)
def test_profile_shows_progress_only_to_those_who_may_read_the_plan(world, data, plan, persona):
    url = reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})
    response = world.client(persona).get(url, {"period": "2024"})
    assert response.status_code == 200
    html = response.content.decode()
    allowed = persona in {"staff_a", "viewer_a", "coordinator"}
    assert ("plan-progress" in html) is allowed
    if allowed:
        assert "Izmaksu plāns" in html
        assert 'class="progress-value">100<' in html  # the newest round they may see (2025, provisional)
    else:
        assert "Izmaksu plāns" not in html


@pytest.mark.parametrize("persona", PERSONAS)
def test_plan_page_with_progress_per_persona(world, data, plan, persona):
    response = world.client(persona).get(reverse("learning:plan_detail", kwargs={"pk": plan.pk}))
    if persona == "anonymous":
        assert response.status_code == 302
    elif persona in {"staff_a", "viewer_a", "coordinator"}:
        assert response.status_code == 200
        assert status_of(response.content.decode()) == ["open"]
    else:
        assert response.status_code == 403


def test_profile_query_count_with_plans(world, data, plan, django_assert_max_num_queries):
    client = world.client("staff_a")
    url = reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


def test_overview_and_plan_page_query_counts(world, data, plan, django_assert_max_num_queries):
    coordinator, staff = world.client("coordinator"), world.client("staff_a")
    with django_assert_max_num_queries(10):
        assert coordinator.get(reverse("learning:network_plans", kwargs={"code": "T"})).status_code == 200
    with django_assert_max_num_queries(12):
        assert staff.get(reverse("learning:plan_detail", kwargs={"pk": plan.pk})).status_code == 200


def test_a_profile_without_plans_reads_no_result_for_them(world, data):
    """Most profiles are of a municipality with no plan: the panel's one query is then the list
    of targets, not a read of the results (which is planned over every period's partition)."""
    client = world.client("staff_a")
    url = reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    plan_queries = [q["sql"] for q in captured.captured_queries if "learning_plantarget" in q["sql"]]
    assert len(plan_queries) == 1
    assert "comparisons_result" not in plan_queries[0]


def test_the_plan_shows_the_baseline_read_from_its_period_when_none_was_entered(world, data):
    plan = ImprovementPlanFactory(municipality=world.a, network=world.network, title="Bez bāzes")
    # A's COST in 2024 is 110: the baseline the progress is measured from.
    PlanTargetFactory(
        plan=plan,
        indicator=data.cost,
        baseline=None,
        baseline_period=Period.objects.get(label="2024"),
        target_value=Decimal(90),
        target_period=period_get_or_create(label="2026"),
    )
    url = reverse("learning:plan_detail", kwargs={"pk": plan.pk})
    html = world.client("staff_a").get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-label="Baseline">110 (2024)</td>' in html
    profile = world.client("staff_a").get(
        reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code}), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert 'data-label="Baseline">110</td>' in profile.content.decode()
