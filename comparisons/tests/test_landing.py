"""The first screen after sign-in: the own municipality's strengths and weaknesses in words.

Real stored results (`dashboard_fixtures`): six members, SOC higher-is-better, COST
lower-is-better, SIZE neutral; 2023 and 2024 published, 2025 closed but not published.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from comparisons.landing import strengths_and_weaknesses
from comparisons.models import Result

from .dashboard_fixtures import dashboard_data

MY_WORK = "networks:my_work"
# A's SOC value in the unpublished 2025 round (nobody else has it).
SECRET = "777"


@pytest.fixture
def data(world):
    return dashboard_data(world)


def landing(world, persona, language="en"):
    response = world.client(persona).get(reverse(MY_WORK), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_a_viewer_lands_on_the_own_municipality_with_words(world, data):
    html = landing(world, "viewer_a")
    # The newest period with A's own approved results is 2025 (closed, not published): the
    # member sees it, marked provisional.
    assert "Where Aizkraukle Municipality stands in 2025" in html or "stands in 2025" in html
    assert "Provisional" in html
    assert "Strengths" in html and "Where we are weakest" in html
    # 2025: SOC of A is 777 against a median near 21: far beyond 7.5 MAD, so the words say check it.
    assert "unusually far from the peer median" in html
    assert reverse("comparisons:report", kwargs={"network": "T", "code": world.a.code}) in html


def test_the_landing_page_speaks_latvian(world, data):
    html = landing(world, "viewer_a", language="lv")
    assert "Stiprās puses" in html and "Kur esam vājākie" in html
    assert "salīdzināmo pašvaldību mediān" in html


def test_a_staff_member_of_another_municipality_sees_their_own_and_not_a_secret(world, data):
    html = landing(world, "staff_b")
    assert world.b.display_name in html
    # In the text (a CSRF token may hold any digits).
    text = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(rf"(?<![0-9]){SECRET}(?![0-9])", text)


@pytest.mark.parametrize("persona", ["coordinator", "outsider"])
def test_no_standing_without_an_own_municipality(world, data, persona):
    html = landing(world, persona)
    assert 'data-panel="standing"' not in html


def test_without_results_the_panel_says_what_will_come(world):
    html = landing(world, "viewer_a")
    assert "There are no approved results for your municipality yet" in html


def test_a_newer_round_still_collecting_is_said_with_its_progress(world, data):
    # Publish nothing new, but open 2026 for the network: the landing says it is being collected.
    from indicators.models import Period, Round

    period = Period.objects.create(label="2026", kind="year", start="2026-01-01", end="2026-12-31")
    Round.objects.create(network=world.network, period=period, status=Round.Status.OPEN)
    html = landing(world, "viewer_a")
    assert "A newer period, 2026, is still being collected: 0 of 6" in html


def test_the_landing_page_keeps_its_query_budget(world, data, django_assert_max_num_queries):
    client = world.client("viewer_a")
    with django_assert_max_num_queries(12):
        response = client.get(reverse(MY_WORK))
    assert response.status_code == 200


def test_strengths_and_weaknesses_never_overlap(world, data):
    rows = list(Result.objects.filter(municipality=world.a, peer_group="network").select_related("indicator"))
    for count in (1, 3):
        best, worst = strengths_and_weaknesses(rows, count)
        assert not {id(r) for r in best} & {id(r) for r in worst}
        assert all(r.score is not None for r in best + worst)
        assert [r.score for r in best] == sorted((r.score for r in best), reverse=True)
        assert [r.score for r in worst] == sorted(r.score for r in worst)
        if best and worst:
            assert min(r.score for r in best) >= max(r.score for r in worst)


def test_anonymous_visitors_are_shown_where_to_start_in_the_public_networks(world, data):
    from networks.models import Network

    hidden = Network.objects.create(code="HID", name="Slēptais tīkls", policy=Network.Policy.MEMBERS)
    response = world.client("anonymous").get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "Where to start" in html
    assert reverse("comparisons:overview", kwargs={"network": "T"}) in html
    assert reverse("comparisons:overview", kwargs={"network": hidden.code}) not in html
    signed_in = world.client("viewer_a").get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Where to start" not in signed_in
