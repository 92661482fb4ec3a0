"""The profile read by a council member: sentences, sorting, the period with the own figures,
cards on a phone."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from comparisons.models import Result
from indicators.models import Period, Round

from .dashboard_fixtures import dashboard_data


@pytest.fixture
def data(world):
    return dashboard_data(world)


def profile(world, persona, **query):
    url = reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})
    response = world.client(persona).get(url, query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def row_names(html: str) -> list[str]:
    body = html.split('id="table-indicators"', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a>', body)


def test_every_row_says_its_comparison_in_words(world, data):
    html = profile(world, "viewer_a", period="2024")
    # 2024 SOC: A 30 against a median of 25 (six members): a sentence with both figures.
    assert "30.0\u00a0per 1000 is" in html and "the peer median (25.0\u00a0per 1000)" in html
    assert "Compared with peers" in html


def test_the_rows_sort_by_score_and_by_change(world, data):
    html = profile(world, "viewer_a", period="2024", sort="score")
    scores = {
        r.indicator.display_name: r.score
        for r in Result.objects.filter(municipality=world.a, period__label="2024", peer_group="network").select_related(
            "indicator"
        )
    }
    names = row_names(html)
    shown = [scores[name] for name in names if scores[name] is not None]
    assert shown == sorted(shown, reverse=True)
    assert 'aria-sort="ascending"' in html
    # By change: SOC went 20 -> 30 (better, higher is better), COST 130 -> 110 (better, lower is
    # better): the relative gains order them; the neutral SIZE comes last.
    names = row_names(profile(world, "viewer_a", period="2024", sort="change"))
    assert names[-1] == data.size.display_name
    assert set(names[:2]) == {data.soc.display_name, data.cost.display_name}
    assert names.index(data.soc.display_name) < names.index(data.cost.display_name)  # +50 % before -15 %


def test_an_unknown_sort_is_ignored(world, data):
    assert row_names(profile(world, "viewer_a", period="2024", sort="'; drop")) == row_names(
        profile(world, "viewer_a", period="2024")
    )


def test_the_profile_opens_on_the_newest_period_with_the_own_figures(world, data):
    # A newer round with results for others only: A has no figure in 2026 yet.
    period = Period.objects.create(label="2026", kind="year", start="2026-01-01", end="2026-12-31")
    Round.objects.create(network=world.network, period=period, status=Round.Status.PUBLISHED)
    template = Result.objects.filter(municipality=world.b, period__label="2025", peer_group="network").first()
    template.period, template.value = period, 1.0
    template.save(force_insert=True)
    a_empty = Result.objects.filter(municipality=world.a, period__label="2025", peer_group="network").first()
    a_empty.period, a_empty.value = period, None
    a_empty.save(force_insert=True)
    from comparisons.models import RecomputeRun

    RecomputeRun.objects.create(network=world.network, period=period, status=RecomputeRun.Status.DONE)
    html = profile(world, "viewer_a")
    assert '<option value="2025" selected' in html or 'value="2025" selected' in html
    # Asked for explicitly, the newer period is shown.
    assert 'value="2026" selected' in profile(world, "viewer_a", period="2026")


def test_the_table_becomes_cards_on_a_phone(world, data):
    html = profile(world, "viewer_a", period="2024")
    assert 'class="table table-sm table-hover dashboard-table table-cards"' in html
    assert 'data-label="Score"' in html


def test_the_indicator_page_says_the_own_figure_in_words(world, data):
    url = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    html = world.client("viewer_a").get(url, {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # 2024 SOC: 30, 10, 50, 40, 20, 5: median 25, absolute deviations 5, 15, 25, 15, 5, 20: MAD 15;
    # A's 30 is a third of a MAD above the median.
    assert "30.0\u00a0per 1000 is broadly similar to the peer median (25.0\u00a0per 1000)." in html
    html = (
        world.client("viewer_a")
        .get(url, {"period": "2024", "m": data.municipalities["d"].code}, HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    # D's 50 is 25 above: 1.67 MAD, "better".
    assert "50.0\u00a0per 1000 is better than the peer median (25.0\u00a0per 1000)." in html


def test_neighbours_are_explained_with_names_and_no_position_of_one(world, data):
    from comparisons.models import Neighbour
    from comparisons.runs import recompute_request, recompute_run_execute

    run = recompute_request(network=world.network, period=Period.objects.get(label="2024"), enqueue=False)
    recompute_run_execute(run_id=run.pk)
    groups = set(Result.objects.filter(period__label="2024").values_list("peer_group", flat=True))
    nearest = sorted(g for g in groups if g.startswith("nearest:"))
    if not nearest:
        pytest.fail(f"the fixture computes no nearest-neighbour group: {groups}")
    html = profile(world, "viewer_a", period="2024", peer=nearest[0])
    assert Neighbour.objects.filter(municipality=world.a, peer_group=nearest[0]).exists()
    assert "area (km²)" in html and "area_km2" not in html
    assert "Position 1 of 1" not in html
    assert "each municipality is compared with its own nearest neighbours" in html


def test_the_overview_tooltips_say_each_cell_in_words(world, data):
    import json

    url = reverse("comparisons:overview", kwargs={"network": "T"})
    html = world.client("viewer_a").get(url, {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    figure = json.loads(re.search(r'<script id="chart-heatmap" type="application/json">(.*?)</script>', html, re.S)[1])
    trace = figure["data"][0]
    assert "%{customdata[0]}" in trace["hovertemplate"]
    sentences = [cell[0] for row in trace["customdata"] for cell in row]
    # D's SOC 50 against the median 25 with a MAD of 15: "better".
    assert "50.0\u00a0per 1000 is better than the peer median (25.0\u00a0per 1000)." in sentences
    assert any(cell[1] == "SOC" for row in trace["customdata"] for cell in row)


def test_the_trend_lines_align_and_leave_a_gap_for_a_missing_year(world, data):
    Result.objects.filter(municipality=world.a, indicator=data.soc, period__label="2023").update(value=None)
    html = profile(world, "viewer_a", period="2024")
    # In words the series starts at its first figure; the line keeps 2023's position as a gap.
    line = re.search(r'aria-label="2024: 30.0"><path d="([^"]*)"', html)
    assert line, "the sparkline of SOC keeps 2023 as a gap"
    assert "2023: —" not in html
    assert line[1].count("M") == 1 and "L" not in line[1]  # 2024 alone: a dot, no line from 2023
    # COST has both years: one line over the same two positions.
    assert re.search(r'aria-label="2023: 130; 2024: 110"><path d="M0.0,[0-9.]+ l0,0 L100.0,', html)


def test_the_trend_list_escapes_every_text():
    from comparisons.dashboard_views.pages.profile import sparklines_html

    built = sparklines_html(
        [
            {"indicator": "<b>Soc</b> & co", "points": 'M0,1"/><script>', "label": '2023: "1" <i>'},
            {"indicator": "Empty", "points": "", "label": ""},
        ]
    )
    assert "<b>" not in built and "<script>" not in built and "<i>" not in built
    assert "&lt;b&gt;Soc&lt;/b&gt; &amp; co" in built
    assert 'd="M0,1&quot;/&gt;&lt;script&gt;"' in built
    assert 'aria-label="2023: &quot;1&quot; &lt;i&gt;"' in built
    # No figure at all: the name without a line.
    assert built.count("<svg") == 1 and '<span class="sparkline-label">Empty</span>' in built
