""" "Learn from the best" on the indicator page: the network's top performers and most improved
members of the round, from stored results (a real recompute), with their good practice on the
indicator and its contact, as each persona may see them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from comparisons.tests.dashboard_fixtures import dashboard_data
from conftest import PERSONAS
from learning.models import PracticeCase
from learning.tests.factories import PracticeCaseFactory


@pytest.fixture
def data(world):
    data = dashboard_data(world)
    m = data.municipalities
    cases = {
        "dobele": PracticeCaseFactory(
            title="Dobeles mājokļu fonds",
            municipality=m["d"],
            network=world.network,
            contact_name="Dace Dobele",
            contact_email="dace@dobele.example",
        ),
        "engure_members": PracticeCaseFactory(
            title="Engures iekšējā prakse",
            municipality=m["e"],
            network=world.network,
            visibility=PracticeCase.Visibility.MEMBERS,
        ),
        "dobele_cost": PracticeCaseFactory(title="Dobeles izmaksu prakse", municipality=m["d"], network=world.network),
        "bauska": PracticeCaseFactory(title="Bauskas prakse", municipality=m["b"], network=world.network),
        "aizkraukle_draft": PracticeCaseFactory(
            title="Aizkraukles melnraksts",
            municipality=m["a"],
            network=world.network,
            status=PracticeCase.Status.SUBMITTED,
            published_at=None,
        ),
    }
    for key in ("dobele", "engure_members", "bauska", "aizkraukle_draft"):
        cases[key].indicators.add(data.soc)
    cases["dobele_cost"].indicators.add(data.cost)
    return data


def section(client, indicator: str, **query) -> str:
    response = client.get(reverse("comparisons:indicator", kwargs={"network": "T", "indicator": indicator}), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="learn-from-best' in html
    return html.split('class="learn-from-best')[1].split("</section>")[0]


def listed(html: str, kind: str) -> list[str]:
    """The municipality codes of one list (`best` or `improved`), in the order shown."""
    block = html.split(f"performers-{kind}")[1].split("</ol>")[0]
    return re.findall(r'data-municipality="([^"]+)"', block)


def test_top_performers_and_most_improved_of_a_higher_is_better_indicator(world, data):
    m = data.municipalities
    html = section(world.client("anonymous"), "SOC", period="2024")
    # 2024: D 50, E 40, A 30 are the top three; A (20 -> 30, +50 %) and D (45 -> 50, +11 %) improved.
    assert listed(html, "best") == [m["d"].code, m["e"].code, m["a"].code]
    assert listed(html, "improved") == [m["a"].code, m["d"].code]
    # D's published public case on SOC with its contact; its case on another indicator is not here.
    assert "Dobeles mājokļu fonds" in html
    assert "Dace Dobele" in html and "mailto:dace@dobele.example" in html
    assert "Dobeles izmaksu prakse" not in html
    # B is not among the best or the improved; a members-only case is not for the public; a draft for nobody.
    assert "Bauskas prakse" not in html
    assert "Engures iekšējā prakse" not in html
    assert "Aizkraukles melnraksts" not in html


def test_members_see_members_only_cases(world, data):
    html = section(world.client("viewer_a"), "SOC", period="2024")
    assert "Engures iekšējā prakse" in html
    assert "Aizkraukles melnraksts" not in html


def test_lower_is_better_indicator(world, data):
    m = data.municipalities
    html = section(world.client("anonymous"), "COST", period="2024")
    # 2024 COST: D 95, B 105, A 110 lowest; only A went down (130 -> 110).
    assert listed(html, "best") == [m["d"].code, m["b"].code, m["a"].code]
    assert listed(html, "improved") == [m["a"].code]
    assert "Dobeles izmaksu prakse" in html
    assert "Dobeles mājokļu fonds" not in html


def test_provisional_round_for_members_only(world, data):
    m = data.municipalities
    html = section(world.client("viewer_a"), "SOC")  # the newest visible round: 2025, not published
    # 2025: A 777, D 51, E 41; improved most: A (30 -> 777), B (10 -> 11, +10 %), F (20 -> 21, +5 %).
    assert listed(html, "best") == [m["a"].code, m["d"].code, m["e"].code]
    assert listed(html, "improved") == [m["a"].code, m["b"].code, m["f"].code]
    # The public's newest round is 2024: A is third there, and 777 never shows.
    public = section(world.client("anonymous"), "SOC")
    assert listed(public, "best") == [m["d"].code, m["e"].code, m["a"].code]
    assert "777" not in public


def test_neutral_indicator_has_no_best(world, data):
    html = section(world.client("viewer_a"), "SIZE", period="2024")
    assert "performers-best" not in html


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_persona_sees_the_section_of_a_published_round(world, data, persona):
    m = data.municipalities
    html = section(world.client(persona), "SOC", period="2024")
    assert listed(html, "best") == [m["d"].code, m["e"].code, m["a"].code]
    member = persona in {"staff_a", "staff_b", "viewer_a", "coordinator"}
    assert ("Engures iekšējā prakse" in html) is member
