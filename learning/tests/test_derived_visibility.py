"""Awards and plan progress derive from stored results: each is seen only by whoever may see the
rounds it derives from. When a round is withdrawn from publication, the award for improving
against it and the progress measured with it leave the public's view too."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from comparisons.tests.dashboard_fixtures import dashboard_data
from indicators.models import Period
from indicators.services.periods import period_get_or_create
from indicators.services.rounds import round_unpublish
from learning.tests.factories import ImprovementPlanFactory, PlanTargetFactory
from networks.models import Membership


@pytest.fixture
def withdrawn(world, django_capture_on_commit_callbacks):
    """2023 and 2024 published, 2025 provisional; then 2023 withdrawn from publication."""
    data = dashboard_data(world)
    with django_capture_on_commit_callbacks(execute=True):
        round_unpublish(
            round=data.rounds["2023"], reason="an error in the 2023 figures", user=world.users["coordinator"]
        )
    return data


def awards_html(client) -> str:
    response = client.get(reverse("learning:network_awards", kwargs={"code": "T"}))
    assert response.status_code == 200
    return response.content.decode()


def cell(html: str, period: str, indicator: str, kind: str) -> str:
    table = html.split(f'data-period="{period}"')[1].split("</table>")[0]
    row = table.split(f'data-indicator="{indicator}"')[1].split("</tr>")[0]
    return re.search(rf'class="award-{kind}">(.*?)</td>', row, re.S).group(1).strip()


@pytest.mark.parametrize("persona", ["anonymous", "outsider"])
def test_no_award_for_improving_against_a_withdrawn_period(world, withdrawn, persona):
    m = withdrawn.municipalities
    html = awards_html(world.client(persona))
    assert re.findall(r'data-period="([^"]+)"', html) == ["2024"]
    # The best of 2024 is 2024's own figure: still public.
    assert m["d"].name in cell(html, "2024", "SOC", "best")
    # The most improved is measured against 2023, which the public may no longer see.
    assert cell(html, "2024", "SOC", "improved") == "—"
    assert cell(html, "2024", "COST", "improved") == "—"
    assert "130" not in html  # A's withdrawn 2023 COST


@pytest.mark.parametrize("persona", ["viewer_a", "coordinator"])
def test_members_keep_the_award_against_the_provisional_period(world, withdrawn, persona):
    m = withdrawn.municipalities
    html = awards_html(world.client(persona))
    assert m["a"].name in cell(html, "2024", "SOC", "improved")
    assert m["a"].name in cell(html, "2024", "COST", "improved")


def test_plan_progress_leaves_out_a_withdrawn_round(world, django_capture_on_commit_callbacks):
    """A's staff after A left the network are no longer its members: the plan's progress uses only
    the rounds they may see, and a round withdrawn from publication is no longer one of them."""
    data = dashboard_data(world)
    plan = ImprovementPlanFactory(municipality=world.a, network=world.network, title="Izmaksu plāns")
    # A's COST: 2023 130, 2024 110 (published), 2025 100 (not published). Lower is better.
    PlanTargetFactory(
        plan=plan,
        indicator=data.cost,
        baseline=Decimal(130),
        baseline_period=Period.objects.get(label="2023"),
        target_value=Decimal(90),
        target_period=period_get_or_create(label="2026"),
    )
    Membership.objects.filter(network=world.network, municipality=world.a).update(
        left=timezone.localdate() - datetime.timedelta(days=1)
    )
    url = reverse("learning:plan_detail", kwargs={"pk": plan.pk})
    client = world.client("staff_a")
    assert 'class="progress-value">110<' in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        round_unpublish(round=data.rounds["2024"], reason="an error", user=world.users["coordinator"])
    html = client.get(url).content.decode()
    assert 'class="progress-value">130<' in html
    assert 'class="progress-value">110<' not in html
