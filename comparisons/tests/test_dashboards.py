"""The dashboards as each persona sees them: who sees which round, the own municipality
highlighted, unpublished figures never shown to outsiders, htmx partials, query counts."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from comparisons.dashboard_selectors import network_indicator_list
from comparisons.models import RecomputeRun, Result
from conftest import PERSONAS
from indicators.models import NetworkIndicator, Round
from networks.models import Municipality, Network
from tests.test_security import INLINE_HANDLER, SCRIPT_TAG, inline_scripts

from .dashboard_fixtures import dashboard_data

MEMBERS = {"staff_a", "staff_b", "viewer_a", "coordinator"}
# 2025 is approved but not published; A's SOC value there is 777 (nobody else has it).
SECRET = "777"


@pytest.fixture
def data(world):
    return dashboard_data(world)


def pages(world) -> dict[str, str]:
    return {
        "overview": reverse("comparisons:overview", kwargs={"network": "T"}),
        "map": reverse("comparisons:map", kwargs={"network": "T"}),
        "indicator": reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"}),
        "profile": reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code}),
        "report": reverse("comparisons:report", kwargs={"network": "T", "code": world.a.code}),
    }


def html_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def chart_figures(html: str) -> dict[str, dict]:
    """The JSON islands of the page's charts, by id."""
    return {
        chart_id: json.loads(body)
        for chart_id, body in re.findall(
            r'<script id="(chart-[a-z-]+)" type="application/json">(.*?)</script>', html, re.S
        )
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_published_round_is_for_everyone_of_a_public_network(world, data, persona):
    client = world.client(persona)
    for name, url in pages(world).items():
        html = html_of(client.get(url, {"period": "2024"}))
        assert 'data-visibility="published"' in html, name
        assert 'data-visibility="provisional"' not in html, name


@pytest.mark.parametrize("persona", PERSONAS)
def test_unpublished_round_only_for_members_and_marked_provisional(world, data, persona):
    client = world.client(persona)
    for name, url in pages(world).items():
        response = client.get(url, {"period": "2025"}, HTTP_ACCEPT_LANGUAGE="en")
        if persona in MEMBERS:
            html = html_of(response)
            assert 'data-visibility="provisional"' in html and "Provisional" in html, name
        else:
            assert response.status_code == 403, name


@pytest.mark.parametrize("persona", PERSONAS)
def test_unpublished_figures_never_reach_outsiders(world, data, persona, settings):
    """Without a period the newest visible round is shown: 2025 for members, 2024 for others."""
    settings.COMPARISON_BOUNDARIES_GEOJSON = ""  # the grid map: boundary coordinates hold the digits 777 too
    client = world.client(persona)
    for name, url in pages(world).items():
        html = html_of(client.get(url, {"indicator": "SOC"} if name == "map" else {}))
        shown = SECRET in html
        assert shown is (persona in MEMBERS), name
        if persona not in MEMBERS:
            assert 'value="2025"' not in html, name


@pytest.mark.parametrize("persona", PERSONAS)
def test_members_only_network_shows_nothing_to_outsiders(world, data, persona):
    Network.objects.filter(pk=world.network.pk).update(policy=Network.Policy.MEMBERS)
    client = world.client(persona)
    for name, url in pages(world).items():
        response = client.get(url, {"period": "2024"})
        if persona in MEMBERS:
            assert response.status_code == 200, name
        else:
            assert response.status_code == 403, name
            html = html_of(client.get(url))
            assert "Dobeles novads" not in html, name
            assert not chart_figures(html), name


@pytest.mark.parametrize("persona", PERSONAS)
def test_objects_of_another_network_are_not_found(world, data, persona):
    client = world.client(persona)
    assert client.get(reverse("comparisons:profile", kwargs={"network": "T", "code": world.c.code})).status_code == 404
    assert client.get(reverse("comparisons:report", kwargs={"network": "T", "code": world.c.code})).status_code == 404
    assert client.get(reverse("comparisons:overview", kwargs={"network": "NOPE"})).status_code == 404
    assert client.get(pages(world)["overview"], {"period": "1999"}).status_code == 404
    # Another network's indicator is not one of T's.
    from .factories import indicator_create

    indicator_create(code="OTHER", networks=[world.other_network])
    url = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "OTHER"})
    assert client.get(url).status_code == 404


def test_other_network_of_the_viewer_shows_no_results_without_rounds(world, data):
    html = html_of(world.client("staff_a").get(reverse("comparisons:overview", kwargs={"network": "U"})))
    assert "Dobeles novads" not in html
    assert not chart_figures(html)


@pytest.mark.parametrize(("persona", "own"), [("viewer_a", "Aizkraukles novads"), ("staff_b", "Bauskas novads")])
def test_the_own_municipality_is_highlighted(world, data, persona, own):
    client = world.client(persona)
    html = html_of(client.get(pages(world)["indicator"], {"period": "2024"}))
    own_rows = re.findall(r'<tr class="own-row">(.*?)</tr>', html, re.S)
    assert len(own_rows) == 1 and own in own_rows[0]
    figures = chart_figures(html)
    names = {trace.get("name") for trace in figures["chart-ranking"]["data"]}
    assert own in names
    assert {"chart-ranking", "chart-distribution", "chart-series"} <= set(figures)


def test_anonymous_sees_no_highlight_until_one_is_chosen(world, data):
    client = world.client("anonymous")
    html = html_of(client.get(pages(world)["indicator"]))
    assert 'class="own-row"' not in html
    html = html_of(client.get(pages(world)["indicator"], {"m": world.b.code}))
    own_rows = re.findall(r'<tr class="own-row">(.*?)</tr>', html, re.S)
    assert len(own_rows) == 1 and "Bauskas novads" in own_rows[0]


def test_indicator_page_sentence_table_and_definition(world, data):
    with translation.override("en"):
        html = html_of(
            world.client("viewer_a").get(pages(world)["indicator"], {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en")
        )
    # A is 3rd of 6 in 2024 (D 50, E 40, A 30, F 20, B 10, G 5); median 25.
    assert "is ranked 3 of 6; the median is 25" in html
    assert "1000 * SOCIAL / POPULATION" in html
    assert "How is this computed?" in html
    # The chart and the table say the same: every value of the ranking is in both.
    figure = chart_figures(html)["chart-ranking"]
    table = html.split('id="table-ranking"')[1].split("</table>")[0]
    for name in ("Dobele Municipality", "Engure Municipality", "Gulbene Municipality"):
        assert name in table
        assert any(name in (trace.get("y") or []) for trace in figure["data"])
    # Links to the best performers' good practice (the learning library).
    assert reverse("learning:practice_list") + "?network=T&amp;indicator=SOC&amp;municipality=LVD000004" in html


def test_profile_lists_every_indicator_with_rank_band_change_and_trend(world, data):
    html = html_of(world.client("viewer_a").get(pages(world)["profile"], {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en"))
    table = html.split('id="table-indicators"')[1].split("</table>")[0]
    row = re.search(r"Social dwellings.*?</tr>", table, re.S).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    # value, unit, rank, of n, band, change, median, score, trend
    assert cells[0] == "30.0" and cells[2] == "3" and cells[3] == "6"
    assert "● middle half" in cells[4]
    assert cells[5] == "↑ improving"  # 20 -> 30, higher is better
    cost = re.search(r"Cost.*?</tr>", table, re.S).group(0)
    assert "↓ improving" in cost  # 130 -> 110, lower is better
    assert "2023: 20.0; 2024: 30.0" in html  # sparkline text
    assert '<svg class="sparkline"' in html
    assert "Composite index" in html and "Position" in html
    assert "chart-scores" in chart_figures(html)


def test_numbers_are_latvian_in_the_latvian_ui(world, data):
    html = html_of(world.client("viewer_a").get(pages(world)["overview"], {"period": "2024"}))
    assert "1\u00a0000,0" in html  # SIZE = population 1000, one decimal
    figure = chart_figures(html)["chart-heatmap"]
    assert figure["layout"]["separators"] == ",\u00a0"


def test_numbers_are_english_in_the_english_ui(world, data):
    client = world.client("viewer_a")
    client.post(reverse("set_language"), {"language": "en"})
    html = html_of(client.get(pages(world)["overview"], {"period": "2024"}))
    assert "1,000.0" in html


def test_overview_heatmap_sorts_and_ranks_composite(world, data):
    client = world.client("viewer_a")
    html = html_of(client.get(pages(world)["overview"], {"period": "2024", "sort": "SOC"}))
    heat = html.split('id="table-heatmap"')[1].split("</table>")[0]
    order = re.findall(r"(Dobeles|Engures|Aizkraukles|Fiktīvais|Bauskas|Gulbenes) novads", heat)
    assert order == ["Dobeles", "Engures", "Aizkraukles", "Fiktīvais", "Bauskas", "Gulbenes"]
    html = html_of(client.get(pages(world)["overview"], {"period": "2024", "sort": "name"}))
    heat = html.split('id="table-heatmap"')[1].split("</table>")[0]
    assert re.findall(r"(Dobeles|Aizkraukles|Bauskas) novads", heat) == ["Aizkraukles", "Bauskas", "Dobeles"]
    assert 'id="table-composite"' in html
    # Completion and publication status.
    assert "6" in html.split("dashboard-controls")[1].split("</p>")[0]
    assert "▲" in html  # bands by icon as well as colour


def test_theme_control_filters_indicators(world, data):
    html = html_of(world.client("viewer_a").get(pages(world)["overview"], {"period": "2024", "theme": "Mājokļi"}))
    heat = html.split('id="table-heatmap"')[1].split("</thead>")[0]
    assert "SOC" in heat and "COST" not in heat


def test_htmx_request_gets_the_partial_with_the_state_in_links(world, data):
    client = world.client("viewer_a")
    response = client.get(pages(world)["overview"], {"period": "2024", "peer": "region"}, HTTP_HX_REQUEST="true")
    html = html_of(response)
    assert "<html" not in html and '<nav class="navbar' not in html
    assert 'hx-get="' in html and 'hx-push-url="true"' in html
    assert "period=2024&amp;peer=region" in html  # exports and tabs keep the state
    assert '<option value="region" selected>' in html


def test_nearest_neighbours_show_the_contributions(world, data):
    html = html_of(
        world.client("viewer_a").get(
            pages(world)["profile"], {"period": "2024", "peer": "nearest:5"}, HTTP_ACCEPT_LANGUAGE="en"
        )
    )
    assert '<option value="nearest:5" selected>' in html
    section = html.split("Nearest neighbours and why they are near")[1]
    assert "Contributions to the distance" in section
    # Named as people read them: the item's name or the attribute's label, never its code.
    assert re.search(r'<span class="me-2">(area \(km²\)|[^<_]*[Pp]opulation[^<_]*) \d+ %', section)
    assert "area_km2" not in section and '<span class="code">' not in section


def test_map_is_a_grid_of_centroids_or_a_choropleth(world, data, settings, tmp_path):
    settings.COMPARISON_BOUNDARIES_GEOJSON = ""  # an empty setting: the grid map of centroids
    client = world.client("viewer_a")
    html = html_of(client.get(pages(world)["map"], {"period": "2024", "indicator": "SOC"}))
    figure = chart_figures(html)["chart-map"]
    xs = sorted(x for trace in figure["data"] for x in trace["x"])
    assert xs == [24.1, 24.19, 24.85, 25.25]  # four members have a centroid
    assert 'id="table-map"' in html and "Gulbenes novads" in html  # the table lists everyone
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "properties": {"code": world.a.code},
                "geometry": {"type": "Polygon", "coordinates": [[[25, 56], [26, 56], [26, 57], [25, 56]]]},
            }
        ],
    }
    path = tmp_path / "boundaries.geojson"
    path.write_text(json.dumps(geojson), encoding="utf-8")
    settings.COMPARISON_BOUNDARIES_GEOJSON = str(path)
    settings.COMPARISON_BOUNDARIES_CODE_PROPERTY = "code"
    html = html_of(client.get(pages(world)["map"], {"period": "2024", "indicator": "SOC"}))
    figure = chart_figures(html)["chart-map"]
    assert [trace.get("fill") for trace in figure["data"]] == ["toself"]
    assert "Robežas no šī portāla GeoJSON faila" in html and "VARAM" not in html  # no credit for another's file


SHIPPED = Path(django_settings.BASE_DIR) / "data" / "boundaries"


@pytest.mark.parametrize("name", ["lv_municipalities_2021_43_approx.geojson", "lv_municipalities_2026_42.geojson"])
def test_shipped_boundaries_carry_atvk_codes(name):
    features = json.loads((SHIPPED / name).read_text(encoding="utf-8"))["features"]
    codes = [feature["properties"]["atvk_code"] for feature in features]
    assert len(codes) == len(set(codes)) == (43 if "2021" in name else 42)
    assert all(re.fullmatch(r"LV\d{7}", code) for code in codes)
    assert all(feature["geometry"]["type"] in {"Polygon", "MultiPolygon"} for feature in features)


def test_map_is_a_choropleth_of_the_shipped_boundaries_by_default(world, data):
    assert str(SHIPPED / "lv_municipalities_2021_43_approx.geojson") == django_settings.COMPARISON_BOUNDARIES_GEOJSON
    assert django_settings.COMPARISON_BOUNDARIES_CODE_PROPERTY == "atvk_code"
    Municipality.objects.filter(pk=world.a.pk).update(code="LV0020000")  # Aizkraukles novads' ATVK code
    client = world.client("viewer_a")
    for language, credit in (("en", "Boundaries: "), ("lv", "Robežas: ")):
        html = html_of(
            client.get(pages(world)["map"], {"period": "2024", "indicator": "SOC"}, HTTP_ACCEPT_LANGUAGE=language)
        )
        traces = chart_figures(html)["chart-map"]["data"]
        assert len(traces) == 43 and {trace["fill"] for trace in traces} == {"toself"}
        filled = [trace for trace in traces if trace["fillcolor"] != "#FFFFFF"]
        assert len(filled) == 1 and "Aizkrauk" in filled[0]["text"]
        assert "Varakļānu novads" in {trace["text"] for trace in traces}  # not a member: its name, no value
        assert credit + "Administratīvās teritorijas, VARAM/VZD, data.gov.lv (CC0)" in html


def test_results_not_computed_yet_say_so(world, data):
    RecomputeRun.objects.filter(period__label="2024").delete()
    html = html_of(
        world.client("anonymous").get(pages(world)["overview"], {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en")
    )
    assert "Data not ready yet" in html
    assert not chart_figures(html)


def test_computed_at_is_shown(world, data):
    html = html_of(world.client("anonymous").get(pages(world)["overview"], {"period": "2024"}))
    assert "dashboard-status" in html and re.search(r"20\d\d", html.split("dashboard-status")[1])


def test_network_without_rounds_says_there_is_nothing_yet(world):
    html = html_of(world.client("anonymous").get(reverse("comparisons:overview", kwargs={"network": "T"})))
    assert "alert" in html


def test_report_is_printable(world, data):
    html = html_of(world.client("viewer_a").get(pages(world)["report"], {"period": "2024"}))
    assert "data-print" in html
    assert "css/dashboards.css" in html
    assert 'class="dashboard-controls' not in html


@pytest.mark.parametrize("persona", ["anonymous", "viewer_a", "coordinator"])
def test_pages_have_no_inline_scripts_and_load_plotly_from_the_portal(world, data, persona):
    client = world.client(persona)
    for name, url in pages(world).items():
        html = html_of(client.get(url))
        assert inline_scripts(html) == [], name
        assert not INLINE_HANDLER.search(re.sub(SCRIPT_TAG, "", html)), name
        assert re.search(r'<script src="/static/plotly/plotly\.min\.js"', html), name
        assert '<script src="/static/js/charts.js"' in html
    assert finders.find("plotly/plotly.min.js").endswith("package_data/plotly.min.js")


@pytest.mark.parametrize("persona", ["anonymous", "viewer_a", "coordinator"])
def test_every_dashboard_page_within_twelve_queries(world, data, persona, django_assert_max_num_queries):
    client = world.client(persona)
    for name, url in pages(world).items():
        for extra in ({}, {"period": "2024", "peer": "region"}, {"period": "2024", "peer": "nearest:5"}):
            with django_assert_max_num_queries(12):
                response = client.get(url, extra)
            assert response.status_code == 200, name


def test_the_newest_visible_round_is_the_default(world, data):
    html = html_of(world.client("viewer_a").get(pages(world)["overview"]))
    assert '<option value="2025" selected>' in html
    html = html_of(world.client("anonymous").get(pages(world)["overview"]))
    assert '<option value="2024" selected>' in html
    Round.objects.filter(period__label="2024").update(status=Round.Status.CLOSED)
    html = html_of(world.client("anonymous").get(pages(world)["overview"]))
    assert '<option value="2023" selected>' in html


def test_an_open_round_without_results_is_not_the_default(world, data):
    """A member should land on figures, not on a newly opened, still empty round."""
    from indicators.services.periods import period_get_or_create

    Round.objects.create(network=world.network, period=period_get_or_create(label="2026"))
    html = html_of(world.client("viewer_a").get(pages(world)["overview"]))
    assert '<option value="2026"' in html  # still offered
    assert '<option value="2025" selected>' in html


def test_series_without_a_municipality_only_for_the_network_group(world, data):
    client = world.client("anonymous")
    html = html_of(client.get(pages(world)["indicator"], {"period": "2024"}))
    assert 'id="table-series"' in html and "chart-series" in chart_figures(html)
    html = html_of(client.get(pages(world)["indicator"], {"period": "2024", "peer": "region"}))
    assert 'id="table-ranking"' in html
    assert 'id="table-series"' not in html  # partitions differ per municipality: no single median line


def test_series_without_a_municipality_shows_each_periods_network_median_and_quartiles(world, data):
    html = html_of(world.client("anonymous").get(pages(world)["indicator"], {"period": "2024"}))
    traces = {trace["name"]: trace for trace in chart_figures(html)["chart-series"]["data"]}
    median = traces["Mediāna"]
    assert median["x"] == ["2023", "2024"]  # the published periods, oldest first
    # Independently: the median and quartiles of the network's SOC values of each period.
    for label, shown, upper in zip(median["x"], median["y"], traces["Augšējā kvartile"]["y"], strict=True):
        values = sorted(
            Result.objects.filter(
                network=world.network, period__label=label, indicator__code="SOC", peer_group="network"
            ).values_list("value", flat=True)
        )
        assert shown == pytest.approx(statistics.median(values))
        assert upper == pytest.approx(statistics.quantiles(values, n=4, method="inclusive")[2])


MARKUP = '<a href="https://x">x</a>'


def _texts(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


@pytest.mark.parametrize("persona", ["anonymous", "staff_a"])
def test_names_reach_the_charts_as_text_never_as_plotly_markup(world, data, persona):
    """Plotly reads titles, labels and hover texts as pseudo-HTML: an indicator named like a link
    would be a clickable link on the public map. Escaped, Plotly shows the name as written."""
    for obj in (data.soc, world.a):
        obj.name = obj.name_en = MARKUP
        obj.save()
    data.soc.unit = "<b>per 1000</b>"
    data.soc.save()
    client = world.client(persona)
    texts = []
    for name, url in pages(world).items():
        query = {"period": "2024", "indicator": "SOC", "municipality": world.a.code}
        figures = chart_figures(html_of(client.get(url, query)))
        assert figures, name
        texts += _texts(figures)
    assert not [text for text in texts if "<a" in text.lower() or "<b>" in text.lower()]
    assert any("&lt;a href=" in text for text in texts)  # the name is there, as text


def test_map_opens_on_the_first_indicator_with_bands(world, data, django_assert_max_num_queries):
    links = NetworkIndicator.objects.filter(network=world.network)
    links.exclude(indicator=data.size).update(position=5)
    links.filter(indicator=data.size).update(position=1)  # the neutral indicator comes first
    Municipality.objects.filter(pk=world.a.pk).update(code="LV0020000")  # on the shipped boundaries
    client = world.client("viewer_a")
    with django_assert_max_num_queries(12):
        response = client.get(pages(world)["map"], {"period": "2024"})
    html = html_of(response)
    first_banded = next(i for i in network_indicator_list(network=world.network) if i.polarity != "neutral")
    assert first_banded.code in {"SOC", "COST"}
    assert f'<option value="{first_banded.code}" selected>' in html
    assert '<option value="SIZE">' in html  # the neutral one is still offered
    traces = chart_figures(html)["chart-map"]["data"]
    assert any(trace.get("showlegend") for trace in traces)  # bands drawn, not an empty map
    html = html_of(client.get(pages(world)["map"], {"period": "2024", "indicator": "SIZE"}))
    assert '<option value="SIZE" selected>' in html
