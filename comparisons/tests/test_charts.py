"""The chart builders are pure functions: a known DataFrame gives a known figure (plain dicts,
``{"data": [...], "layout": {...}}``, as the page's JSON island carries it)."""

from __future__ import annotations

import html
import json

import pandas as pd
import pytest

from comparisons import charts

LABELS = {
    "peers": "Peers",
    "own": "Aizkraukle",
    "median": "Median",
    "q1": "Lower quartile",
    "q3": "Upper quartile",
    "band": "Quartile band",
}


def unit_ranking() -> pd.DataFrame:
    """Higher is better; median 25, quartiles 12.5 and 37.5 (numpy linear); one value missing."""
    return pd.DataFrame(
        {
            "name": ["Dobele", "Engure", "Aizkraukle", "Fictive", "Bauska", "Gulbene", "Nowhere"],
            "value": [50.0, 40.0, 30.0, 20.0, 10.0, 5.0, None],
            "rank": [1, 2, 3, 4, 5, 6, None],
            "median": [25.0] * 7,
            "q1": [12.5] * 7,
            "q3": [37.5] * 7,
        }
    )


@pytest.fixture
def ranking() -> pd.DataFrame:
    return unit_ranking()


def _trace(fig, name):
    found = [trace for trace in fig["data"] if trace.get("name") == name]
    assert len(found) == 1, f"one trace named {name!r}"
    return found[0]


def test_ranked_bar_highlights_the_own_municipality_and_draws_median_and_quartiles(ranking):
    fig = charts.ranked_bar(ranking, highlight="Aizkraukle", title="SOC", labels=LABELS)
    peers = _trace(fig, "Peers")
    own = _trace(fig, "Aizkraukle")
    assert peers["y"] == ["Dobele", "Engure", "Fictive", "Bauska", "Gulbene"]
    assert peers["x"] == [50.0, 40.0, 20.0, 10.0, 5.0]
    assert (own["y"], own["x"]) == (["Aizkraukle"], [30.0])
    assert own["marker"]["color"] == charts.OWN_COLOUR != peers["marker"]["color"]
    yaxis = fig["layout"]["yaxis"]
    # Missing values are left out of the chart (the table lists them).
    assert "Nowhere" not in yaxis["categoryarray"]
    # Best first, top to bottom.
    assert yaxis["categoryarray"] == ["Dobele", "Engure", "Aizkraukle", "Fictive", "Bauska", "Gulbene"]
    assert yaxis["autorange"] == "reversed"
    assert _trace(fig, "Median")["x"] == [25.0, 25.0]
    assert _trace(fig, "Lower quartile")["x"] == [12.5, 12.5]
    assert _trace(fig, "Upper quartile")["x"] == [37.5, 37.5]
    assert _trace(fig, "Median")["line"]["dash"] == "solid"
    assert _trace(fig, "Upper quartile")["line"]["dash"] == "dash"


def test_ranked_bar_without_highlight_has_one_bar_series(ranking):
    fig = charts.ranked_bar(ranking, highlight=None, title="SOC", labels=LABELS)
    bars = [trace for trace in fig["data"] if trace["type"] == "bar"]
    assert len(bars) == 1 and len(bars[0]["x"]) == 6


def test_ranked_bar_uses_the_languages_separators(ranking):
    fig = charts.ranked_bar(ranking, highlight=None, title="SOC", labels=LABELS, separators=",\u00a0")
    assert fig["layout"]["separators"] == ",\u00a0"


def test_distribution_is_a_box_with_every_point_and_the_own_marker(ranking):
    fig = charts.distribution(ranking, highlight="Aizkraukle", title="SOC", labels=LABELS)
    box = _trace(fig, "Peers")
    assert box["type"] == "box" and box["boxpoints"] == "all" and box["quartilemethod"] == "linear"
    assert sorted(box["x"]) == [5.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    own = _trace(fig, "Aizkraukle")
    assert own["x"] == [30.0] and own["marker"]["color"] == charts.OWN_COLOUR


def test_time_series_has_the_quartile_band_the_median_and_the_own_line():
    frame = pd.DataFrame(
        {
            "period": ["2023", "2024", "2025"],
            "value": [20.0, 30.0, None],
            "median": [22.5, 25.0, 31.0],
            "q1": [13.0, 12.5, 13.5],
            "q3": [36.0, 37.5, 38.0],
        }
    )
    fig = charts.time_series(frame, highlight="Aizkraukle", title="SOC", labels=LABELS)
    band = _trace(fig, "Quartile band")
    assert band["fill"] == "tonexty" and band["y"] == [13.0, 12.5, 13.5]
    upper = fig["data"][fig["data"].index(band) - 1]
    assert upper["y"] == [36.0, 37.5, 38.0]
    assert _trace(fig, "Median")["y"] == [22.5, 25.0, 31.0]
    own = _trace(fig, "Aizkraukle")
    assert own["x"] == ["2023", "2024", "2025"]
    assert own["y"][:2] == [20.0, 30.0] and own["y"][2] is None  # a gap in the line (JSON null), not a zero


def test_score_bars_colour_by_band_and_label_with_icons():
    frame = pd.DataFrame(
        {"indicator": ["SOC", "COST", "SIZE"], "score": [100.0, 0.0, None], "band": ["green", "red", None]}
    )
    fig = charts.score_bars(frame, title="Scores")
    (bars,) = fig["data"]
    assert bars["y"] == ["SOC", "COST"]
    assert bars["marker"]["color"] == [charts.BLUISH_GREEN, charts.VERMILLION]
    assert bars["text"] == ["▲", "▼"]


def test_heatmap_codes_bands_and_keeps_the_given_order():
    frame = pd.DataFrame(
        {
            "municipality": ["A", "A", "B"],
            "indicator": ["SOC", "COST", "SOC"],
            "band": ["green", "red", "yellow"],
            "text": ["30", "110", "10"],
        }
    )
    fig = charts.heatmap(frame, title="T", municipality_order=["B", "A"], indicator_order=["SOC", "COST"])
    (heat,) = fig["data"]
    assert heat["y"] == ["B", "A"] and heat["x"] == ["SOC", "COST"]
    assert heat["z"] == [[2, None], [3, 1]]
    assert heat["text"][1][0] == "▲ 30" and heat["text"][0][1] == ""


def test_grid_map_places_municipalities_at_their_centroids_by_band():
    frame = pd.DataFrame(
        {
            "name": ["A", "B", "C"],
            "lat": [56.6, 56.4, None],
            "lon": [25.25, 24.19, None],
            "band": ["green", "red", "yellow"],
            "text": ["30", "10", "20"],
        }
    )
    fig = charts.grid_map(frame, title="SOC", highlight="A", band_labels={"green": "top quarter"})
    names = [trace["name"] for trace in fig["data"]]
    assert names == ["▲ top quarter", "▼ red"]  # C has no centroid: only in the table
    green = fig["data"][0]
    assert (green["x"], green["y"]) == ([25.25], [56.6])
    assert green["marker"]["color"] == charts.BLUISH_GREEN and green["marker"]["line"]["width"] == [3]
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x" and fig["layout"]["yaxis"]["scaleratio"] > 1.5


def test_choropleth_fills_polygons_from_the_local_geojson():
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "properties": {"code": "LVA"},
                "geometry": {"type": "Polygon", "coordinates": [[[25, 56], [26, 56], [26, 57], [25, 56]]]},
            },
            {
                "properties": {"code": "LVZ"},
                "geometry": {
                    "type": "MultiPolygon",
                    "coordinates": [
                        [[[20, 56], [21, 56], [21, 57], [20, 56]]],
                        [[[22, 56], [23, 56], [22, 57], [22, 56]]],
                    ],
                },
            },
        ],
    }
    frame = pd.DataFrame({"code": ["LVA"], "name": ["A"], "band": ["green"], "text": ["30"]})
    fig = charts.choropleth(frame, geojson=geojson, code_property="code", title="SOC")
    assert len(fig["data"]) == 3
    assert fig["data"][0]["fillcolor"] == charts.BLUISH_GREEN and fig["data"][0]["x"] == [25, 26, 26, 25]
    assert fig["data"][1]["fillcolor"] == "#FFFFFF"  # not in the network: drawn empty


def test_sparklines_leave_a_gap_where_a_period_is_missing():
    assert charts.sparkline_points([]) == ""
    assert charts.sparkline_points([None, None]) == ""
    # Two values around a gap: two dots, no line across the missing period.
    assert charts.sparkline_points([1.0, None, 3.0], width=100, height=24) == "M0.0,22.0 l0,0 M100.0,2.0 l0,0"
    # A run of values is one line; the positions are the periods', so lines of the same length align.
    assert charts.sparkline_points([1.0, 2.0, None, 3.0], width=90, height=24) == (
        "M0.0,22.0 l0,0 L30.0,12.0 M90.0,2.0 l0,0"
    )


def test_figure_data_is_plain_json(ranking):
    data = charts.figure_data(charts.ranked_bar(ranking, highlight="Aizkraukle", title="SOC", labels=LABELS))
    assert json.loads(json.dumps(data))["layout"]["title"]["text"] == "SOC"
    assert {trace["name"] for trace in data["data"]} >= {"Peers", "Aizkraukle", "Median"}


def test_the_plotly_stylesheet_matches_the_installed_plotly_js():
    """static/css/plotly.css carries the rules plotly.js would inject (the CSP blocks that)."""
    from django.conf import settings

    from comparisons.finders import maplibre_style_id, plotly_css

    assert (settings.BASE_DIR / "static" / "css" / "plotly.css").read_text(encoding="utf-8") == plotly_css(), (
        "regenerate static/css/plotly.css: see comparisons.finders.plotly_css"
    )
    assert ".js-plotly-plot .plotly .main-svg{position:absolute;" in plotly_css()
    assert len(maplibre_style_id()) == 64


def test_heatmap_shows_names_outlines_the_own_row_and_labels_every_row():
    frame = pd.DataFrame(
        {
            "municipality": ["A", "B", "C"],
            "indicator": ["Heating cost per m²"] * 3,
            "code": ["HEAT_COST_M2"] * 3,
            "band": ["green", "red", "yellow"],
            "text": ["1", "2", "3"],
        }
    )
    names = [f"Municipality {i}" for i in range(40)]
    fig = charts.heatmap(
        frame,
        title="T",
        municipality_order=["A", "B", "C", *names],
        indicator_order=["Heating cost per m²"],
        highlight="B",
        code_label="code",
    )
    (heat,) = fig["data"]
    assert heat["x"] == ["Heating cost per m²"]
    assert heat["customdata"][0] == ["HEAT_COST_M2"] and "code: %{customdata}" in heat["hovertemplate"]
    yaxis = fig["layout"]["yaxis"]
    assert yaxis["tickmode"] == "array" and len(yaxis["tickvals"]) == 43
    assert yaxis["ticktext"][:3] == ["A", "▶ B", "C"]
    (shape,) = fig["layout"]["shapes"]
    assert (shape["y0"], shape["y1"]) == (0.5, 1.5)
    # Every row has room for its label: the height grows with the rows.
    margin = fig["layout"]["margin"]
    assert fig["layout"]["height"] - margin["t"] - margin["b"] >= 43 * 24
    assert "shapes" not in charts.heatmap(frame, title="T", municipality_order=["A"], indicator_order=["X"])["layout"]


def test_score_bar_labels_wrap_to_fit_a_phone_and_stay_escaped():
    """A long indicator name is shown on up to three lines of 24 characters (Plotly's `<br>`),
    so a 375 px screen does not cut it at the left edge; a name with markup is shown as text."""
    long_name = "Mājsaimniecību īpatsvars ar centralizētu kanalizāciju"
    hostile = '<a href="https://example.invalid">Klikšķini</a> & co'
    frame = pd.DataFrame(
        {"indicator": [long_name, hostile, "Īss"], "score": [40.0, 60.0, 80.0], "band": ["yellow", "green", "green"]}
    )
    figure = charts.score_bars(frame, title="Punkti (0 = sliktākā, 100 = labākā vērtība salīdzinājuma grupā)")
    ticks = figure["layout"]["yaxis"]["ticktext"]
    assert ticks[0] == "Mājsaimniecību īpatsvars<br>ar centralizētu<br>kanalizāciju"
    assert all(len(html.unescape(line)) <= 24 for tick in ticks for line in tick.split("<br>"))
    assert "<a" not in ticks[1] and "&lt;a" in ticks[1] and "&amp; co" in ticks[1]
    # The ticks name the bars' categories, escaped as the bars' own are.
    assert figure["layout"]["yaxis"]["tickvals"] == figure["data"][0]["y"]
    assert figure["layout"]["title"]["text"] == "Punkti (0 = sliktākā, 100 = labākā<br>vērtība salīdzinājuma grupā)"
    # Three lines a bar: the chart grows with them.
    assert figure["layout"]["height"] >= 3 * 53


def test_a_label_longer_than_three_lines_is_cut_with_an_ellipsis():
    label = charts.ranking.tick_label("vārds " * 30)
    assert label.count("<br>") == 2 and label.endswith("…")
