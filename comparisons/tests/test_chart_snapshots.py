"""Every chart builder's figure JSON, for a fixed set of inputs, against a reviewed snapshot.

A snapshot is the figure as the page receives it (`charts.figure_data`), pretty-printed with
sorted keys under `comparisons/tests/snapshots/<case>.json`, so a change to a chart shows up as a
diff to review. After an intended change, rewrite them and review the diff:

    UPDATE_SNAPSHOTS=1 pytest comparisons/tests/test_chart_snapshots.py

Without UPDATE_SNAPSHOTS a missing snapshot fails the test (it is never written silently, so CI
cannot pass on a snapshot nobody reviewed). The inputs are realistic frames: Latvian names,
missing values, ties, infinities, codes as names, Decimal and nullable columns, a page of the
overview, boundaries with multipolygons and broken features.
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from django.utils.html import json_script

from comparisons import charts

from .test_charts import LABELS, unit_ranking

SNAPSHOTS = Path(__file__).with_name("snapshots")
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

LABELS_LV = {
    "peers": "Salīdzināmās pašvaldības",
    "own": "Aizkraukles novads",
    "median": "Mediāna",
    "q1": "Apakšējā kvartile",
    "q3": "Augšējā kvartile",
    "band": "Kvartiļu josla",
}
BAND_WORDS_LV = {"green": "augšējā ceturtdaļa", "yellow": "vidējā puse", "red": "apakšējā ceturtdaļa", "grey": "nav"}
SEPARATORS = {"en": ".,", "lv": ",\u00a0"}


def canonical(data) -> str:
    """The snapshot's text: sorted keys, indented, NaN refused (the page's JSON must be strict)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False, indent=1) + "\n"


# --- the inputs ------------------------------------------------------------------------------------------


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


Case = tuple[str, Callable[[], dict]]


def _call(builder: str, *args, **kwargs) -> Callable[[], dict]:
    return lambda: getattr(charts, builder)(*args, **kwargs)


def _realistic_rankings() -> list[Case]:
    cases = []
    for n in (1, 7, 120, 500):
        frame = ranking_frame(n)
        highlights = {
            "none": None,
            "first": frame["name"][0],
            "middle": frame["name"][n // 2],
            "outsider": "Not a member",
        }
        for language, separators in SEPARATORS.items():
            for who, highlight in highlights.items():
                for builder in ("ranked_bar", "distribution"):
                    cases.append(
                        (
                            f"{builder}-realistic-{n}-{language}-{who}",
                            _call(
                                builder,
                                frame,
                                highlight=highlight,
                                title="Sociālā palīdzība",
                                labels=LABELS_LV,
                                separators=separators,
                            ),
                        )
                    )
    return cases


def _small_rankings() -> list[Case]:
    unit = unit_ranking()
    # All-integer values stay 3, not 3.0; quartiles missing (None or NaN) draw no line.
    integers = pd.DataFrame(
        {"name": ["A", "B", "C"], "value": [3, 1, 2], "rank": [1, 3, 2], "median": [2, 2, 2], "q1": [None] * 3}
    )
    integers["q3"] = float("nan")
    infinite = ranking_frame(6)
    infinite.loc[1, "value"] = math.inf
    infinite.loc[2, "value"] = -math.inf
    infinite["median"] = math.inf
    # Codes as names, a missing name, a label given as a number or None.
    codes = pd.DataFrame({"name": [101, 202, 303], "value": [1.5, 2.5, 0.5], "rank": [2, 1, 3]})
    missing = pd.DataFrame({"name": ["A", None, "C"], "value": [1.5, 2.5, 0.5], "rank": [2, 1, 3]})
    as_objects = missing.assign(name=pd.Series(["A", None, "C"], dtype=object))
    decimals = pd.DataFrame(
        {"name": ["A", "B", "C"], "value": [Decimal("1.50"), None, Decimal("-2")], "rank": [1, None, 2]}
    )
    decimals["median"] = Decimal("0.25")
    cases = []
    for builder in ("ranked_bar", "distribution"):
        for highlight in ("Aizkraukle", "Nowhere", None):
            cases.append(
                (f"{builder}-unit-{highlight}", _call(builder, unit, highlight=highlight, title="SOC", labels=LABELS))
            )
        cases += [
            (f"{builder}-integers", _call(builder, integers, highlight="B", title="T", labels=LABELS)),
            (
                f"{builder}-infinite",
                _call(builder, infinite, highlight=infinite["name"][1], title="T", labels=LABELS),
            ),
            (
                f"{builder}-missing-name",
                _call(builder, missing, highlight="A", title="T", labels={**LABELS, "peers": None}),
            ),
            (f"{builder}-decimals", _call(builder, decimals, highlight="A", title="T", labels=LABELS)),
        ]
    cases += [
        ("ranked_bar-codes", _call("ranked_bar", codes, highlight=202, title="T", labels=LABELS)),
        ("distribution-codes", _call("distribution", codes, highlight=202, title="T", labels={**LABELS, "peers": 7})),
        ("ranked_bar-none-name", _call("ranked_bar", as_objects, highlight=None, title="T", labels=LABELS)),
    ]
    return cases


def _time_series() -> list[Case]:
    frame = pd.DataFrame(
        {
            "period": ["2021", "2022", "2023", "2024", "2025"],
            "value": [20.0, None, 30.0, 31.5, None],
            "median": [22.5, 25.0, None, 31.0, 30.0],
            "q1": [13.0, 12.5, None, 13.5, 14.0],
            "q3": [36.0, 37.5, None, 38.0, 39.0],
        }
    )
    empty = frame.assign(value=None)
    years = pd.DataFrame({"period": [2024, 2025], "value": [1, 2], "median": [1.5, 2.5], "q1": [1, 2], "q3": [2, 3]})
    nullable = pd.DataFrame(
        {
            "period": ["2024", "2025"],
            "value": pd.array([1.5, None], dtype="Float64"),
            "median": pd.array([2, None], dtype="Int64"),
            "q1": [Decimal("1.25"), None],
            "q3": pd.array([3.0, 4.0], dtype="Float64"),
        }
    )
    lv = SEPARATORS["lv"]
    return [
        (
            "time_series-realistic-own",
            _call("time_series", frame, highlight="Aizkraukles novads", title="Laikā", labels=LABELS_LV, separators=lv),
        ),
        (
            "time_series-realistic-none",
            _call("time_series", frame, highlight=None, title="Laikā", labels=LABELS_LV, separators=lv),
        ),
        (
            "time_series-no-values",
            _call("time_series", empty, highlight="Aizkraukles novads", title="T", labels=LABELS),
        ),
        ("time_series-integer-periods", _call("time_series", years, highlight="A", title="T", labels=LABELS)),
        ("time_series-nullable", _call("time_series", nullable, highlight="A", title="T", labels=LABELS)),
    ]


def _score_bars() -> list[Case]:
    rng = random.Random(7)
    frame = pd.DataFrame(
        {
            "indicator": [f"Rādītājs {i}: izdevumi uz iedzīvotāju" for i in range(40)],
            "score": [round(rng.uniform(0, 100), 1) if rng.random() > 0.2 else None for _ in range(40)],
            "band": [rng.choice(["green", "yellow", "red", "grey", None]) for _ in range(40)],
        }
    )
    return [
        ("score_bars-realistic", _call("score_bars", frame, title="Punkti", separators=SEPARATORS["lv"])),
        ("score_bars-nothing-scored", _call("score_bars", frame[frame["score"].isna()], title="Punkti")),
    ]


def _heatmaps() -> list[Case]:
    municipalities = [f"Pašvaldība {i:02d} (ģērbtuves)" for i in range(50)]
    # The axis shows the indicators' short names; the code is the hover text's last line.
    indicators = [f"Rādītājs {i:02d} uz m²" for i in range(20)]
    frame = heat_frame(municipalities, indicators)
    frame["code"] = [f"I{indicators.index(name):02d}" for name in frame["indicator"]]
    return [
        (
            "heatmap-page",
            _call("heatmap", frame, title="Joslas", municipality_order=municipalities, indicator_order=indicators),
        ),
        (
            # One page of rows, in another order, and a column not in the frame; the own row outlined.
            "heatmap-reordered",
            _call(
                "heatmap",
                frame,
                title="Joslas",
                municipality_order=municipalities[10:0:-1],
                indicator_order=[*indicators[:5], "Jauns"],
                separators=SEPARATORS["lv"],
                highlight=municipalities[7],
                code_label="kods",
            ),
        ),
        (
            # Without codes (no hover line) and a highlight not on the page.
            "heatmap-no-codes",
            _call(
                "heatmap",
                frame.drop(columns="code"),
                title="Joslas",
                municipality_order=municipalities[:3],
                indicator_order=indicators[:3],
                highlight="Cits novads",
            ),
        ),
    ]


def _maps() -> list[Case]:
    cases = []
    lv = SEPARATORS["lv"]
    for n in (1, 43, 500):
        frame = map_frame(n)
        for who, highlight in (("none", None), ("first", frame["name"][0]), ("outsider", "Elsewhere")):
            cases.append(
                (
                    f"grid_map-{n}-{who}",
                    _call(
                        "grid_map",
                        frame,
                        title="Karte",
                        highlight=highlight,
                        band_labels=BAND_WORDS_LV,
                        separators=lv,
                    ),
                )
            )
        cases.append((f"grid_map-{n}-band-codes", _call("grid_map", frame, title="Map")))
    for n in (1, 43, 200):
        frame = map_frame(n)
        geojson = boundaries([*frame["code"][: n - n // 10], "LV9999"])
        for who, highlight in (("none", None), ("first", frame["name"][0])):
            cases.append(
                (
                    f"choropleth-{n}-{who}",
                    _call(
                        "choropleth",
                        frame,
                        geojson=geojson,
                        code_property="code",
                        title="Karte",
                        highlight=highlight,
                        band_labels=BAND_WORDS_LV,
                        separators=lv,
                    ),
                )
            )
        cases.append(
            (
                f"choropleth-{n}-no-boundaries",
                _call(
                    "choropleth",
                    frame,
                    geojson={"type": "FeatureCollection", "features": []},
                    code_property="code",
                    title="T",
                ),
            )
        )
    unnamed = pd.DataFrame({"code": ["A"], "name": pd.Series([None], dtype=object), "band": ["red"], "text": ["1"]})
    no_band = unnamed.assign(band=pd.Series([None], dtype=object))
    geojson = boundaries(["A"])
    cases += [
        ("choropleth-unnamed", _call("choropleth", unnamed, geojson=geojson, code_property="code", title="T")),
        ("choropleth-unnamed-no-band", _call("choropleth", no_band, geojson=geojson, code_property="code", title="T")),
    ]
    return cases


def _funnels() -> list[Case]:
    from comparisons import funnel

    rng = random.Random(17)
    names = [f"{rng.choice(['Ādažu', 'Līvānu', 'Ogres', 'Rēzeknes'])} novads {i}" for i in range(40)]
    population = [rng.choice([800, 2500, 9000, 30000, 120000, 600000]) + rng.randint(0, 500) for _ in names]
    births = [round(n * rng.uniform(0.006, 0.012)) for n in population]
    births[3], population[5] = None, 0  # a missing count, a denominator of 0
    frame = pd.DataFrame({"name": names, "numerator": births, "denominator": population})
    p0, points = funnel.funnel_points(frame, kind="poisson", multiplier=1000)
    curves = funnel.funnel_curves("poisson", p0 / 1000, multiplier=1000, low=500, high=700000).round(3)
    labels = {
        "x": "Iedzīvotāju skaits, cilv.",
        "y": "Dzimušie uz 1000 iedz., ‰",
        "peers": "Salīdzināmās pašvaldības",
        "peer_value": "Salīdzinājuma grupas vidējais",
        "limits_95": "95 % robežas",
        "limits_998": "99,8 % robežas",
    }
    narrow = pd.DataFrame({"name": ["A", "B<script>", "C"], "numerator": [3, 5, 4], "denominator": [10, 12, 11]})
    q0, narrow_points = funnel.funnel_points(narrow, kind="binomial", multiplier=100)
    narrow_curves = funnel.funnel_curves("binomial", q0 / 100, multiplier=100, low=5, high=15).round(3)
    return [
        (
            "funnel_plot-realistic-own",
            _call(
                "funnel_plot",
                points,
                curves,
                peer_value=p0,
                highlight=names[0],
                title="Piltuves diagramma",
                labels=labels,
                separators=SEPARATORS["lv"],
            ),
        ),
        (
            "funnel_plot-realistic-none",
            _call("funnel_plot", points, curves, peer_value=p0, highlight=None, title="Funnel", labels=labels),
        ),
        (
            "funnel_plot-narrow-linear",
            _call(
                "funnel_plot",
                narrow_points,
                narrow_curves,
                peer_value=q0,
                highlight="B<script>",
                title="T",
                labels={**labels, "x": "<b>Bērni</b>"},
            ),
        ),
        (
            "funnel_plot-no-peer-value",
            _call(
                "funnel_plot",
                narrow_points.iloc[0:0],
                narrow_curves.iloc[0:0],
                peer_value=None,
                highlight="A",
                title="T",
                labels=labels,
            ),
        ),
    ]


CASES = dict(
    [
        *_realistic_rankings(),
        *_small_rankings(),
        *_time_series(),
        *_score_bars(),
        *_heatmaps(),
        *_maps(),
        *_funnels(),
    ]
)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_figure_matches_its_snapshot(case):
    figure = charts.figure_data(CASES[case]())
    text = canonical(figure)
    path = SNAPSHOTS / f"{case}.json"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(
            f"No snapshot {path.name}: run UPDATE_SNAPSHOTS=1 pytest {Path(__file__).name}, review and commit it"
        )
    assert text == path.read_text(encoding="utf-8"), f"{case}: the figure differs from its snapshot"
    # What the page gets: Django's json_script, parsed back the way charts.js does.
    island = json_script(figure, "chart")
    assert json.loads(island.split(">", 1)[1].rsplit("<", 1)[0]) == json.loads(text)


def test_every_snapshot_belongs_to_a_case():
    """A case renamed or removed leaves no stale snapshot behind to mislead a reviewer."""
    stale = {path.stem for path in SNAPSHOTS.glob("*.json")} - set(CASES)
    assert not stale


def test_infinite_values_become_null_as_in_plotly():
    frame = ranking_frame(6)
    frame.loc[1, "value"] = math.inf
    frame.loc[2, "value"] = -math.inf
    frame["median"] = math.inf
    assert charts.figure_data(charts.ranked_bar(frame, highlight=None, title="T", labels=LABELS))["data"][1]["x"] == [
        None,
        None,
    ]


def test_a_builders_figure_is_fresh_data():
    frame = ranking_frame(5)
    first = charts.ranked_bar(frame, highlight=None, title="T", labels=LABELS)
    first["layout"]["template"]["data"]["scatter"].append({"type": "bar"})
    first["layout"]["yaxis"]["automargin"] = False
    second = charts.ranked_bar(frame, highlight=None, title="T", labels=LABELS)
    assert second["layout"]["template"] == {"data": {"scatter": [{"type": "scatter"}]}}
    assert second["layout"]["yaxis"]["automargin"] is True
