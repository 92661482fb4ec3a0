"""The awards page: per indicator and period the best performer and the most improved member of
the network, from stored results (a real recompute), with the results visibility rule."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from comparisons.tests.dashboard_fixtures import dashboard_data
from conftest import PERSONAS
from networks.models import Network

MEMBERS = {"staff_a", "staff_b", "viewer_a", "coordinator"}


@pytest.fixture
def data(world):
    return dashboard_data(world)


def awards_html(client, code: str = "T") -> str:
    response = client.get(reverse("learning:network_awards", kwargs={"code": code}))
    assert response.status_code == 200
    return response.content.decode()


def cell(html: str, period: str, indicator: str, kind: str) -> str:
    table = html.split(f'data-period="{period}"')[1].split("</table>")[0]
    row = table.split(f'data-indicator="{indicator}"')[1].split("</tr>")[0]
    return re.search(rf'class="award-{kind}">(.*?)</td>', row, re.S).group(1)


def periods(html: str) -> list[str]:
    return re.findall(r'data-period="([^"]+)"', html)


def test_best_and_most_improved_for_higher_and_lower_polarity(world, data):
    m = data.municipalities
    html = awards_html(world.client("anonymous"))
    assert periods(html) == ["2024", "2023"]
    # SOC (higher): D 50 is best in 2024; A improved most (20 -> 30, +50 %; D only +11 %).
    assert m["d"].name in cell(html, "2024", "SOC", "best")
    assert m["a"].name in cell(html, "2024", "SOC", "improved")
    # COST (lower): D 95 is lowest in 2024; only A went down (130 -> 110).
    assert m["d"].name in cell(html, "2024", "COST", "best")
    assert m["a"].name in cell(html, "2024", "COST", "improved")
    assert "110" in cell(html, "2024", "COST", "improved")
    # 2023 has no previous period: nobody improved. Neutral indicators get no awards.
    assert cell(html, "2023", "SOC", "improved").strip() == "—"
    assert m["d"].name in cell(html, "2023", "SOC", "best")
    assert 'data-indicator="SIZE"' not in html


def test_members_see_the_provisional_round_with_ties(world, data):
    m = data.municipalities
    html = awards_html(world.client("viewer_a"))
    assert periods(html) == ["2025", "2024", "2023"]
    assert m["a"].name in cell(html, "2025", "SOC", "best")
    assert "777" in cell(html, "2025", "SOC", "best")
    # COST 2025: everybody 100, all share rank 1; G went down most (170 -> 100, -41 %).
    best = cell(html, "2025", "COST", "best")
    assert all(municipality.name in best for municipality in m.values())
    assert m["g"].name in cell(html, "2025", "COST", "improved")


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_sees_only_the_rounds_it_may(world, data, persona):
    html = awards_html(world.client(persona))
    if persona in MEMBERS:
        assert periods(html) == ["2025", "2024", "2023"]
    else:
        assert periods(html) == ["2024", "2023"]
        assert "777" not in html


@pytest.mark.parametrize("persona", PERSONAS)
def test_members_only_network_shows_no_awards_to_outsiders(world, data, persona):
    Network.objects.filter(pk=world.network.pk).update(policy=Network.Policy.MEMBERS)
    html = awards_html(world.client(persona))
    assert bool(periods(html)) is (persona in MEMBERS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_another_network_shows_nothing_and_unknown_is_404(world, data, persona):
    client = world.client(persona)
    html = awards_html(client, code=world.other_network.code)
    assert periods(html) == []
    assert client.get(reverse("learning:network_awards", kwargs={"code": "NOPE"})).status_code == 404


def test_activity_page_links_to_the_awards(world, data):
    html = world.client("anonymous").get(reverse("learning:network_activity", kwargs={"code": "T"})).content.decode()
    assert reverse("learning:network_awards", kwargs={"code": "T"}) in html


def test_awards_page_query_count(world, data, django_assert_max_num_queries):
    client = world.client("viewer_a")
    with django_assert_max_num_queries(10):
        awards_html(client)
