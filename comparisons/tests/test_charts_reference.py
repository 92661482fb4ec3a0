"""The dict chart builders give exactly the JSON the graph_objects builders gave (issue #5).

`plotly_reference` is the former comparisons/charts.py, unchanged: its figures went to the page
as `json.loads(pio.to_json(figure, validate=False))`. For realistic and generated frames every
builder's new figure must serialise to the same JSON text, keys sorted (the order of keys in an
object is the only difference allowed; 1 and 1.0, true and 1 stay different), once the texts from
the data in the old figure are escaped as the new builders escape them.
"""

from __future__ import annotations

import json
import math
import random

import pandas as pd
import pytest
from django.utils.html import json_script
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comparisons import charts

from . import plotly_reference as reference

LABELS = {
    "peers": "Peers",
    "own": "Aizkraukle",
    "median": "Median",
    "q1": "Lower quartile",
    "q3": "Upper quartile",
    "band": "Quartile band",
}
LABELS_LV = {
    "peers": "Salīdzināmās pašvaldības",
    "own": "Aizkraukles novads",
    "median": "Mediāna",
    "q1": "Apakšējā kvartile",
    "q3": "Augšējā kvartile",
    "band": "Kvartiļu josla",
}
BAND_WORDS_LV = {"green": "augšējā ceturtdaļa", "yellow": "vidējā puse", "red": "apakšējā ceturtdaļa", "grey": "nav"}
SEPARATORS = [".,", ",\u00a0", ", ", ",."]
GENERATED = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def canonical(data) -> str:
    """JSON text with sorted keys; NaN refused (the page's JSON must be strict)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False)


def assert_same(new, old) -> None:
    new_json = charts.figure_data(new)
    # The one difference on purpose: texts from the data are escaped (test_charts.py shows why).
    old_json = charts._escape_texts(reference.figure_data(old))
    assert canonical(new_json) == canonical(old_json)
    # What the page gets: Django's json_script, parsed back the way charts.js does.
    island = json_script(new_json, "chart")
    assert json.loads(island.split(">", 1)[1].rsplit("<", 1)[0]) == old_json


def both(builder: str, *args, **kwargs) -> None:
    assert_same(getattr(charts, builder)(*args, **kwargs), getattr(reference, builder)(*args, **kwargs))


# --- realistic frames ------------------------------------------------------------------------------------


def ranking_frame(n: int, *, seed: int = 5, missing: float = 0.05) -> pd.DataFrame:
    rng = random.Random(seed)
    names = [f"{rng.choice(['Ādažu', 'Ķekavas', 'Ogres', 'Rēzeknes', 'Dienvidkurzemes'])} novads {i}" for i in range(n)]
    values = [round(rng.uniform(-20, 400), 2) if rng.random() > missing else None for _ in range(n)]
    present = sorted(v for v in values if v is not None)
    order = sorted((i for i, v in enumerate(values) if v is not None), key=lambda i: -values[i])
    rank = dict.fromkeys(range(n))
    for position, i in enumerate(order, 1):
        rank[i] = position
    median = present[len(present) // 2] if present else None
    return pd.DataFrame(
        {
            "name": names,
            "value": values,
            "rank": [rank[i] for i in range(n)],
            "median": [median] * n,
            "q1": [present[len(present) // 4] if present else None] * n,
            "q3": [present[3 * len(present) // 4] if present else None] * n,
        }
    )


@pytest.mark.parametrize("n", [1, 7, 120, 500])
@pytest.mark.parametrize("separators", [".,", ",\u00a0"])
def test_ranking_and_distribution_of_realistic_networks(n, separators):
    frame = ranking_frame(n)
    for highlight in (None, frame["name"][0], frame["name"][n // 2], "Not a member"):
        for builder in ("ranked_bar", "distribution"):
            both(
                builder, frame, highlight=highlight, title="Sociālā palīdzība", labels=LABELS_LV, separators=separators
            )


def test_the_unit_test_ranking_frame_and_its_labels():
    frame = pd.DataFrame(
        {
            "name": ["Dobele", "Engure", "Aizkraukle", "Fictive", "Bauska", "Gulbene", "Nowhere"],
            "value": [50.0, 40.0, 30.0, 20.0, 10.0, 5.0, None],
            "rank": [1, 2, 3, 4, 5, 6, None],
            "median": [25.0] * 7,
            "q1": [12.5] * 7,
            "q3": [37.5] * 7,
        }
    )
    for highlight in ("Aizkraukle", "Nowhere", None):
        both("ranked_bar", frame, highlight=highlight, title="SOC", labels=LABELS)
        both("distribution", frame, highlight=highlight, title="SOC", labels=LABELS)


def test_integer_values_stay_integers_and_unknown_quartiles_are_left_out():
    # All-integer values reach the JSON as 3, not 3.0; quartiles missing (None or NaN) draw no line.
    frame = pd.DataFrame(
        {"name": ["A", "B", "C"], "value": [3, 1, 2], "rank": [1, 3, 2], "median": [2, 2, 2], "q1": [None] * 3}
    )
    frame["q3"] = float("nan")
    both("ranked_bar", frame, highlight="B", title="T", labels=LABELS)
    both("distribution", frame, highlight="B", title="T", labels=LABELS)


def test_infinite_values_become_null_as_in_plotly():
    frame = ranking_frame(6)
    frame.loc[1, "value"] = math.inf
    frame.loc[2, "value"] = -math.inf
    frame["median"] = math.inf
    for builder in ("ranked_bar", "distribution"):
        both(builder, frame, highlight=frame["name"][1], title="T", labels=LABELS)
    assert charts.figure_data(charts.ranked_bar(frame, highlight=None, title="T", labels=LABELS))["data"][1]["x"] == [
        None,
        None,
    ]


def test_time_series_of_realistic_periods():
    frame = pd.DataFrame(
        {
            "period": ["2021", "2022", "2023", "2024", "2025"],
            "value": [20.0, None, 30.0, 31.5, None],
            "median": [22.5, 25.0, None, 31.0, 30.0],
            "q1": [13.0, 12.5, None, 13.5, 14.0],
            "q3": [36.0, 37.5, None, 38.0, 39.0],
        }
    )
    for highlight in ("Aizkraukles novads", None):
        both("time_series", frame, highlight=highlight, title="Laikā", labels=LABELS_LV, separators=",\u00a0")
    frame["value"] = None
    both("time_series", frame, highlight="Aizkraukles novads", title="T", labels=LABELS)
    # Integer periods are shown as their text.
    years = pd.DataFrame({"period": [2024, 2025], "value": [1, 2], "median": [1.5, 2.5], "q1": [1, 2], "q3": [2, 3]})
    both("time_series", years, highlight="A", title="T", labels=LABELS)


def test_score_bars_of_a_realistic_municipality():
    rng = random.Random(7)
    frame = pd.DataFrame(
        {
            "indicator": [f"Rādītājs {i}: izdevumi uz iedzīvotāju" for i in range(40)],
            "score": [round(rng.uniform(0, 100), 1) if rng.random() > 0.2 else None for _ in range(40)],
            "band": [rng.choice(["green", "yellow", "red", "grey", None]) for _ in range(40)],
        }
    )
    both("score_bars", frame, title="Punkti", separators=",\u00a0")
    both("score_bars", frame[frame["score"].isna()], title="Punkti")  # nothing scored


def heat_frame(municipalities, indicators, *, seed=3) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = [
        {"municipality": m, "indicator": i, "band": rng.choice(["green", "yellow", "red", None]), "text": f"{v:.1f}"}
        for m in municipalities
        for i in indicators
        if rng.random() > 0.1
        for v in [rng.uniform(-5, 500)]
    ]
    return pd.DataFrame(rows)


def test_heatmap_of_a_realistic_overview_page():
    municipalities = [f"Pašvaldība {i:02d} (ģērbtuves)" for i in range(50)]
    indicators = [f"I{i:02d}" for i in range(20)]
    frame = heat_frame(municipalities, indicators)
    both("heatmap", frame, title="Joslas", municipality_order=municipalities, indicator_order=indicators)
    # One page of rows, in another order, and a column not in the frame.
    both(
        "heatmap",
        frame,
        title="Joslas",
        municipality_order=municipalities[10:0:-1],
        indicator_order=[*indicators[:5], "NEW"],
        separators=",\u00a0",
    )


def map_frame(n: int, *, seed=11) -> pd.DataFrame:
    rng = random.Random(seed)
    return pd.DataFrame(
        [
            {
                "code": f"LV{i:04d}",
                "name": f"Novads {i} ķēķis",
                "lat": round(rng.uniform(55.7, 58.0), 4) if rng.random() > 0.05 else None,
                "lon": round(rng.uniform(21.0, 28.2), 4) if rng.random() > 0.05 else None,
                "band": rng.choice(["green", "yellow", "red", "grey", None]),
                "text": f"{rng.uniform(0, 99):.1f}".replace(".", ","),
            }
            for i in range(n)
        ]
    )


@pytest.mark.parametrize("n", [1, 43, 500])
def test_grid_map_of_a_realistic_network(n):
    frame = map_frame(n)
    for highlight in (None, frame["name"][0], "Elsewhere"):
        both("grid_map", frame, title="Karte", highlight=highlight, band_labels=BAND_WORDS_LV, separators=",\u00a0")
    both("grid_map", frame, title="Map")  # no band words: the band's code is shown


def boundaries(codes, *, seed=13) -> dict:
    rng = random.Random(seed)

    def ring():
        x, y = rng.uniform(21, 28), rng.uniform(55.7, 58)
        return [[x, y], [x + 0.2, y], [x + 0.2, y + 0.1], [x, y]]

    features = []
    for index, code in enumerate(codes):
        if index % 5 == 4:
            geometry = {"type": "MultiPolygon", "coordinates": [[ring()], [ring(), ring()]]}
        else:
            geometry = {"type": "Polygon", "coordinates": [ring()]}
        features.append({"type": "Feature", "properties": {"code": code, "name": f"N{index}"}, "geometry": geometry})
    features.append(
        {"type": "Feature", "properties": {"code": "PT"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}
    )
    features.append({"type": "Feature", "properties": None, "geometry": None})
    features.append(
        {
            "type": "Feature",
            "properties": {"code": 42},
            "geometry": {"type": "Polygon", "coordinates": [[[1, 2], [3, 4], [1, 2]]]},
        }
    )
    return {"type": "FeatureCollection", "features": features}


@pytest.mark.parametrize("n", [1, 43, 200])
def test_choropleth_of_a_realistic_network(n):
    frame = map_frame(n)
    geojson = boundaries([*frame["code"][: n - n // 10], "LV9999"])
    for highlight in (None, frame["name"][0]):
        both(
            "choropleth",
            frame,
            geojson=geojson,
            code_property="code",
            title="Karte",
            highlight=highlight,
            band_labels=BAND_WORDS_LV,
            separators=",\u00a0",
        )
    both("choropleth", frame, geojson={"type": "FeatureCollection", "features": []}, code_property="code", title="T")


def test_a_builders_figure_is_fresh_data():
    frame = ranking_frame(5)
    first = charts.ranked_bar(frame, highlight=None, title="T", labels=LABELS)
    first["layout"]["template"]["data"]["scatter"].append({"type": "bar"})
    first["layout"]["yaxis"]["automargin"] = False
    second = charts.ranked_bar(frame, highlight=None, title="T", labels=LABELS)
    assert second["layout"]["template"] == {"data": {"scatter": [{"type": "scatter"}]}}
    assert second["layout"]["yaxis"]["automargin"] is True


# --- generated frames ------------------------------------------------------------------------------------

# Names as they come: Latvian letters, spaces, long double names, quotes and markup characters.
name_text = st.text(
    alphabet=st.sampled_from(list("AaĀāBCČcDEĒeFGĢgIĪiJKĶkLĻlMNŅnOoPRrSŠsTUŪuVZŽz -'\"<>&/·\u2013")),
    min_size=1,
    max_size=60,
)
values = st.one_of(
    st.none(),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.integers(min_value=-1000, max_value=1000),
    st.sampled_from([0.0, 12.5, 12.5, -3.0, float("nan")]),  # ties and NaN
)
bands = st.sampled_from(["green", "yellow", "red", "grey", None, "unknown"])
separators = st.sampled_from(SEPARATORS)
labels = st.fixed_dictionaries(
    {key: st.one_of(st.just(value), name_text) for key, value in {**LABELS, "own": "x"}.items()}
)


@st.composite
def ranking_frames(draw):
    names = draw(st.lists(name_text, max_size=15, unique=True))
    n = len(names)
    column = draw(st.lists(values, min_size=n, max_size=n))
    frame = pd.DataFrame({"name": names, "value": column})
    # Ranks as the engine gives them (ties share the lower rank), or as stored (may disagree).
    if draw(st.booleans()):
        frame["rank"] = frame["value"].rank(method="min", ascending=False)
    else:
        frame["rank"] = draw(st.lists(st.one_of(st.none(), st.integers(1, 20)), min_size=n, max_size=n))
    for key in ("median", "q1", "q3"):
        if draw(st.booleans()):
            frame[key] = [draw(values)] * n
    highlight = draw(st.one_of(st.none(), st.sampled_from(names) if names else st.none(), name_text))
    return frame, highlight


@GENERATED
@given(case=ranking_frames(), labels=labels, separators=separators, title=name_text)
def test_generated_rankings_and_distributions(case, labels, separators, title):
    frame, highlight = case
    both("ranked_bar", frame, highlight=highlight, title=title, labels=labels, separators=separators)
    both("distribution", frame, highlight=highlight, title=title, labels=labels, separators=separators)


@GENERATED
@given(data=st.data(), labels=labels, separators=separators)
def test_generated_time_series(data, labels, separators):
    n = data.draw(st.integers(0, 8))
    frame = pd.DataFrame(
        {
            "period": data.draw(st.lists(st.one_of(name_text, st.integers(1990, 2030)), min_size=n, max_size=n)),
            **{key: data.draw(st.lists(values, min_size=n, max_size=n)) for key in ("value", "median", "q1", "q3")},
        }
    )
    highlight = data.draw(st.one_of(st.none(), name_text))
    both("time_series", frame, highlight=highlight, title="T", labels=labels, separators=separators)


@GENERATED
@given(data=st.data(), separators=separators)
def test_generated_score_bars(data, separators):
    n = data.draw(st.integers(0, 12))
    frame = pd.DataFrame(
        {
            "indicator": data.draw(st.lists(name_text, min_size=n, max_size=n)),
            "score": data.draw(st.lists(st.one_of(st.none(), st.floats(0, 100)), min_size=n, max_size=n)),
            "band": data.draw(st.lists(bands, min_size=n, max_size=n)),
        }
    )
    both("score_bars", frame, title=data.draw(name_text), separators=separators)


@GENERATED
@given(data=st.data(), separators=separators)
def test_generated_heatmaps(data, separators):
    municipalities = data.draw(st.lists(name_text, max_size=8, unique=True))
    indicators = data.draw(st.lists(st.text("ABCDEFGHIJKLMNOPRSTUVZ_0123456789", min_size=1, max_size=12), max_size=6))
    cells = [(m, i) for m in municipalities for i in indicators]
    chosen = data.draw(st.lists(st.sampled_from(cells), unique=True)) if cells else []
    extra = [("Outside", "X")] if data.draw(st.booleans()) else []
    rows = [
        {
            "municipality": m,
            "indicator": i,
            "band": data.draw(bands),
            "text": data.draw(st.one_of(st.none(), st.sampled_from(["1,5", "\u22123", "100 000,25", ""]))),
        }
        for m, i in [*chosen, *extra]
    ]
    frame = pd.DataFrame(rows, columns=["municipality", "indicator", "band", "text"])
    order = data.draw(st.permutations(municipalities))
    both("heatmap", frame, title="T", municipality_order=order, indicator_order=indicators, separators=separators)


@st.composite
def map_frames(draw):
    names = draw(st.lists(name_text, max_size=12, unique=True))
    n = len(names)
    coordinate = st.one_of(st.none(), st.floats(-80, 80, allow_nan=False), st.integers(-60, 60))
    frame = pd.DataFrame(
        {
            "code": [f"C{i}" for i in range(n)],
            "name": names,
            "lat": draw(st.lists(coordinate, min_size=n, max_size=n)),
            "lon": draw(st.lists(coordinate, min_size=n, max_size=n)),
            "band": draw(st.lists(bands, min_size=n, max_size=n)),
            "text": draw(st.lists(st.one_of(st.none(), st.sampled_from(["1,5", "12.5", "—"])), min_size=n, max_size=n)),
        },
        columns=["code", "name", "lat", "lon", "band", "text"],
    )
    highlight = draw(st.one_of(st.none(), st.sampled_from(names) if names else st.none(), name_text))
    band_labels = draw(st.one_of(st.none(), st.just(BAND_WORDS_LV), st.just({"green": "top"})))
    return frame, highlight, band_labels


@GENERATED
@given(case=map_frames(), separators=separators)
def test_generated_grid_maps(case, separators):
    frame, highlight, band_labels = case
    both("grid_map", frame, title="T", highlight=highlight, separators=separators, band_labels=band_labels)


@GENERATED
@given(case=map_frames(), data=st.data(), separators=separators)
def test_generated_choropleths(case, data, separators):
    frame, highlight, band_labels = case
    point = st.tuples(st.one_of(st.floats(20, 29), st.integers(20, 29)), st.floats(55, 59)).map(list)
    ring = st.lists(point, min_size=1, max_size=6)
    geometry = st.one_of(
        st.builds(lambda r: {"type": "Polygon", "coordinates": [r]}, ring),
        st.builds(lambda rs: {"type": "MultiPolygon", "coordinates": [[r] for r in rs]}, st.lists(ring, max_size=3)),
        st.just({"type": "Point", "coordinates": [24, 57]}),
        st.none(),
    )
    code = st.one_of(st.sampled_from([*frame["code"], "ELSE"]), st.integers(0, 3))
    features = data.draw(
        st.lists(st.builds(lambda c, g: {"properties": {"code": c}, "geometry": g}, code, geometry), max_size=8)
    )
    both(
        "choropleth",
        frame,
        geojson={"type": "FeatureCollection", "features": features},
        code_property="code",
        title="T",
        highlight=highlight,
        separators=separators,
        band_labels=band_labels,
    )


def test_names_that_are_not_text_and_labels_left_out():
    # Codes as names, a missing name and a label given as None: Plotly wrote numbers as text,
    # NaN as "nan" in text arrays, and left out a property given as None.
    codes = pd.DataFrame({"name": [101, 202, 303], "value": [1.5, 2.5, 0.5], "rank": [2, 1, 3]})
    both("ranked_bar", codes, highlight=202, title="T", labels=LABELS)
    both("distribution", codes, highlight=202, title="T", labels={**LABELS, "peers": 7})
    missing = pd.DataFrame({"name": ["A", None, "C"], "value": [1.5, 2.5, 0.5], "rank": [2, 1, 3]})
    both("ranked_bar", missing, highlight="A", title="T", labels={**LABELS, "peers": None})
    both("distribution", missing, highlight="A", title="T", labels={**LABELS, "peers": None})
    # None itself, not NaN (an object column): pandas compares it unequal to a highlight of None.
    as_objects = missing.assign(name=pd.Series(["A", None, "C"], dtype=object))
    both("ranked_bar", as_objects, highlight=None, title="T", labels=LABELS)
    unnamed = pd.DataFrame({"code": ["A"], "name": pd.Series([None], dtype=object), "band": ["red"], "text": ["1"]})
    geojson = boundaries(["A"])
    both("choropleth", unnamed, geojson=geojson, code_property="code", title="T")
    unnamed["band"] = pd.Series([None], dtype=object)
    both("choropleth", unnamed, geojson=geojson, code_property="code", title="T")


def test_decimal_and_nullable_values_are_written_as_plotly_wrote_them():
    from decimal import Decimal

    frame = pd.DataFrame(
        {"name": ["A", "B", "C"], "value": [Decimal("1.50"), None, Decimal("-2")], "rank": [1, None, 2]}
    )
    frame["median"] = Decimal("0.25")
    both("ranked_bar", frame, highlight="A", title="T", labels=LABELS)
    both("distribution", frame, highlight="A", title="T", labels=LABELS)
    series = pd.DataFrame(
        {
            "period": ["2024", "2025"],
            "value": pd.array([1.5, None], dtype="Float64"),
            "median": pd.array([2, None], dtype="Int64"),
            "q1": [Decimal("1.25"), None],
            "q3": pd.array([3.0, 4.0], dtype="Float64"),
        }
    )
    both("time_series", series, highlight="A", title="T", labels=LABELS)
