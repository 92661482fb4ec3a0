"""The funnel plot on the indicator page: drawn for a count, said in words, and its counts and
denominators shown only to those who may see the round's values.

SOC of the dashboard fixture is `1000 * SOCIAL / POPULATION` flagged `poisson`. 2024 (published,
network T public): A 30, B 10, D 50, E 40, F 20, G 5 social dwellings, 1000 inhabitants each,
so the peer average is 1000 * 155 / 6000 = 25.8 per 1000. 2025 is approved but not published;
A's count there is 777 (a marker only members may see).
"""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from comparisons import dashboard_selectors, funnel
from comparisons.runs import recompute_request, recompute_run_execute
from conftest import PERSONAS
from indicators.models import DataItem, Indicator, Period, Round, Submission
from networks import permissions
from networks.models import Membership, Network, Role
from networks.tests.factories import RoleFactory, UserFactory

from .dashboard_fixtures import dashboard_data
from .test_dashboards import chart_figures, html_of


@pytest.fixture
def data(world):
    return dashboard_data(world)


def indicator_url(code: str = "SOC") -> str:
    return reverse("comparisons:indicator", kwargs={"network": "T", "indicator": code})


def funnel_points(figure: dict) -> dict[str, tuple[float, float]]:
    """Municipality name -> (denominator, value) of the funnel's point traces."""
    found = {}
    for trace in figure["data"]:
        if trace.get("mode") == "markers":
            for name, x, y in zip(trace["text"], trace["x"], trace["y"], strict=True):
                found[name] = (x, y)
    return found


def test_the_funnel_is_drawn_with_names_and_units_not_codes(world, data):
    DataItem.objects.filter(code="POPULATION").update(
        name="Iedzīvotāju skaits", name_en="Population", short_name_en="Inhabitants", unit="cilv.", unit_en="people"
    )
    html = html_of(world.client("viewer_a").get(indicator_url(), {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en"))
    figure = chart_figures(html)["chart-funnel"]
    layout = figure["layout"]
    assert layout["yaxis"]["title"]["text"] == "Social dwellings, per 1000"
    assert layout["xaxis"]["title"]["text"] == "Inhabitants, people"
    html = html_of(world.client("viewer_a").get(indicator_url(), {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="lv"))
    layout = chart_figures(html)["chart-funnel"]["layout"]
    assert layout["yaxis"]["title"]["text"] == "Sociālie dzīvokļi, per 1000"
    assert layout["xaxis"]["title"]["text"] == "Iedzīvotāju skaits, cilv."
    points = funnel_points(figure)
    assert len(points) == 6
    assert points[world.a.name_en] == (1000, 30.0)
    # The highlighted municipality (the viewer's own) is a trace of its own, named in the legend.
    assert any(t.get("name") == world.a.name_en and t["mode"] == "markers" for t in figure["data"])
    # The peer average line: the pooled rate.
    peer = next(t for t in figure["data"] if t.get("name") == "Peer average")
    assert peer["y"][0] == pytest.approx(1000 * 155 / 6000)


def test_the_own_municipality_is_said_in_words_in_both_languages(world, data):
    # A: 30 of 1000 against a pooled 25.8: well within chance for its size.
    client = world.client("viewer_a")
    html = html_of(client.get(indicator_url(), {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "is not distinguishable from the peer average" in html
    html = html_of(client.get(indicator_url(), {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="lv"))
    assert "nav atšķirams no salīdzinājuma grupas vidējā" in html


def test_a_municipality_beyond_the_limits_is_said_higher_or_lower_by_polarity(world, data):
    client = world.client("viewer_a")
    # G: 5 of 1000 where 25.8 are expected: far below, and higher is better for SOC.
    html = html_of(
        client.get(indicator_url(), {"period": "2024", "m": data.municipalities["g"].code}, HTTP_ACCEPT_LANGUAGE="en")
    )
    assert "is lower than expected from the peer average" in html
    assert "99.8 %" in html
    assert "a worse result than the peer average" in html
    # D: 50 of 1000: above.
    html = html_of(
        client.get(indicator_url(), {"period": "2024", "m": data.municipalities["d"].code}, HTTP_ACCEPT_LANGUAGE="en")
    )
    assert "is higher than expected from the peer average" in html
    assert "a better result than the peer average" in html


def test_no_highlight_says_how_many_lie_outside(world, data):
    html = html_of(world.client("anonymous").get(indicator_url(), {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "chart-funnel" in chart_figures(html)
    assert "of 6 municipalities lie outside the 95 % limits" in html


def test_a_formula_that_is_not_a_count_over_a_denominator_gets_a_note(world, data):
    Indicator.objects.filter(code="SOC").update(formula="1000 * SOCIAL / POPULATION - 1")
    html = html_of(world.client("viewer_a").get(indicator_url(), {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "chart-funnel" not in chart_figures(html)
    assert "No funnel plot: the formula is not a count divided by a denominator" in html


def test_an_indicator_without_the_flag_has_no_funnel_and_no_note(world, data):
    html = html_of(world.client("viewer_a").get(indicator_url("COST"), {"period": "2024"}))
    assert "chart-funnel" not in chart_figures(html)
    assert "funnel-note" not in html


def test_only_the_network_peer_group_has_a_funnel(world, data):
    html = html_of(
        world.client("viewer_a").get(indicator_url(), {"period": "2024", "peer": "region"}, HTTP_ACCEPT_LANGUAGE="en")
    )
    assert "chart-funnel" not in chart_figures(html)
    assert "drawn for the network peer group only" in html


@pytest.mark.parametrize("persona", ["anonymous", "viewer_a", "coordinator", "staff_b"])
def test_the_page_with_a_funnel_stays_within_twelve_queries(world, data, persona, django_assert_max_num_queries):
    client = world.client(persona)
    for extra in ({}, {"period": "2024"}, {"period": "2024", "m": data.municipalities["d"].code}):
        with django_assert_max_num_queries(12):
            response = client.get(indicator_url(), extra)
        assert response.status_code == 200


# --- who sees the counts and denominators -----------------------------------------------------------


@pytest.mark.parametrize("persona", ["anonymous", "outsider"])
def test_outsiders_get_no_funnel_data_of_an_unpublished_round(world, data, persona):
    """2025 is approved but not published: its values are the members' only."""
    response = world.client(persona).get(indicator_url(), {"period": "2025"})
    assert response.status_code == 403
    # And the default page (the newest round they may see, 2024) carries none of 2025's counts.
    html = html_of(world.client(persona).get(indicator_url()))
    figure = chart_figures(html)["chart-funnel"]
    assert 777.0 not in [value for _x, value in funnel_points(figure).values()]
    assert "777.0" not in html


def test_members_see_the_funnel_of_the_provisional_round(world, data):
    html = html_of(world.client("viewer_a").get(indicator_url(), {"period": "2025"}))
    assert funnel_points(chart_figures(html)["chart-funnel"])[world.a.display_name] == (1000, 777.0)


def test_the_selector_reads_no_values_for_a_person_who_may_not_see_them(world, data):
    """A scope built for a member, handed to the read with an outsider: no counts come back."""
    member = world.users["viewer_a"]
    scope = dashboard_selectors.dashboard_scope(user=member, network_code="T", period_label="2025")
    form = funnel.funnel_form(data.soc.formula)
    rows = dashboard_selectors.indicator_rows(scope=scope, indicator=data.soc, counts=form, user=member)
    assert {r.numerator for r in rows} >= {777.0}
    staff_c = UserFactory(username="staff-c")
    RoleFactory(user=staff_c, kind=Role.Kind.STAFF, municipality=world.c)  # a member of network U only
    for hostile, user in (("outsider", world.users["outsider"]), ("anonymous", AnonymousUser()), ("staff_c", staff_c)):
        rows = dashboard_selectors.indicator_rows(scope=scope, indicator=data.soc, counts=form, user=user)
        assert rows and all(r.numerator is None and r.denominator is None for r in rows), hostile
        with pytest.raises(PermissionDenied):
            dashboard_selectors.dashboard_scope(user=user, network_code="T", period_label="2025")


def test_values_no_longer_approved_leave_the_funnel_even_before_a_recompute(world, data):
    """A returned submission's values are its staff's and the coordinators' again: the stored
    result may still be there until the next recompute, its count and denominator are not shown."""
    Submission.objects.filter(round=data.rounds["2024"], municipality=data.municipalities["d"]).update(
        status=Submission.Status.RETURNED
    )
    for persona in ("anonymous", "viewer_a", "coordinator"):
        html = html_of(world.client(persona).get(indicator_url(), {"period": "2024"}))
        points = funnel_points(chart_figures(html)["chart-funnel"])
        assert data.municipalities["d"].display_name not in points, persona
        assert len(points) == 5
    # After the recompute D is left out of the results too.
    run = recompute_request(network=world.network, period=Period.objects.get(label="2024"), enqueue=False)
    recompute_run_execute(run_id=run.pk)
    html = html_of(world.client("anonymous").get(indicator_url(), {"period": "2024"}))
    assert data.municipalities["d"].display_name not in funnel_points(chart_figures(html)["chart-funnel"])


@pytest.mark.parametrize("policy", [Network.Policy.PUBLIC, Network.Policy.MEMBERS])
@pytest.mark.parametrize("status", [Round.Status.CLOSED, Round.Status.PUBLISHED])
@pytest.mark.parametrize("persona", [*PERSONAS, "admin"])
def test_counts_are_read_exactly_for_whoever_may_see_the_rounds_results(world, data, persona, status, policy):
    """The rule of the round's results (`results_visibility`), persona by persona: a scope built
    for an administrator, read for each persona."""
    Network.objects.update(policy=policy)
    Round.objects.filter(pk=data.rounds["2024"].pk).update(status=status)
    scope = dashboard_selectors.dashboard_scope(user=world.users["admin"], network_code="T", period_label="2024")
    user = world.users.get(persona) or AnonymousUser()
    rows = dashboard_selectors.indicator_rows(
        scope=scope, indicator=data.soc, counts=funnel.funnel_form(data.soc.formula), user=user
    )
    seen = permissions.results_visibility(user, scope.network, scope.round, scope.current_member_ids)
    assert permissions.can_view_round_values(user, scope.network, scope.round, scope.current_member_ids) is (
        seen != permissions.RESULTS_NONE
    )
    assert any(r.numerator is not None for r in rows) is (seen != permissions.RESULTS_NONE), persona
    assert len(rows) == 6


def test_a_former_member_gets_no_counts_of_an_unpublished_round(world, data):
    """B left the network yesterday: its staff are outsiders now, also for the period B was in."""
    Membership.objects.filter(network=world.network, municipality=world.b).update(
        left=timezone.localdate() - datetime.timedelta(days=1)
    )
    scope = dashboard_selectors.dashboard_scope(user=world.users["admin"], network_code="T", period_label="2025")
    assert world.b.pk in scope.member_ids  # a member in 2025, so its row is on the page
    rows = dashboard_selectors.indicator_rows(
        scope=scope, indicator=data.soc, counts=funnel.funnel_form(data.soc.formula), user=world.users["staff_b"]
    )
    assert rows and all(r.numerator is None and r.denominator is None for r in rows)
    assert world.client("staff_b").get(indicator_url(), {"period": "2025"}).status_code == 403
