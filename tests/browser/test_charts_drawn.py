"""A politician (demo-viewer of Aizkraukle) opens the municipality profile and an indicator page:
the Plotly charts are really drawn, and the highlighted bar of the ranking is Aizkraukle's."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME = "LV0020000"
INDICATOR = "HEAT_COST_M2"
ORANGE = "rgb(230, 159, 0)"  # OWN_COLOUR in comparisons/charts.py
SKY_BLUE = "rgb(86, 180, 233)"  # PEER_COLOUR


def fill_of(locator) -> str:
    match = re.search(r"fill:\s*(rgb\([^)]*\))", locator.get_attribute("style") or "")
    return match.group(1) if match else ""


@pytest.mark.parametrize("language", ["lv", "en"])
def test_viewer_sees_charts_drawn_with_their_municipality_highlighted(demo, new_page, live_server, language):
    from comparisons.models import Result
    from networks.models import Membership, Municipality

    with translation.override(language):
        home = Municipality.objects.get(code=HOME).display_name
    page = new_page(language)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, live_server, "demo-viewer", "benchlearning-demo")

    # The profile: the score chart is an SVG with one bar per scored indicator.
    page.goto(live_server.url + reverse("comparisons:profile", kwargs={"network": "T3", "code": HOME}) + "?period=2024")
    expect(page.locator("h1")).to_contain_text(home)
    scores = page.locator("[data-chart='chart-scores']")
    expect(scores.locator(".main-svg").first).to_be_attached(timeout=15000)
    expect(scores.locator(".barlayer .point").first).to_be_attached()
    assert scores.locator(".barlayer .point").count() >= 10
    assert scores.get_attribute("aria-label")  # the chart's summary for screen readers

    # The indicator page: every municipality with a value has a bar; Aizkraukle's alone is orange.
    page.goto(
        live_server.url
        + reverse("comparisons:indicator", kwargs={"network": "T3", "indicator": INDICATOR})
        + "?period=2024"
    )
    ranking = page.locator("[data-chart='chart-ranking']")
    expect(ranking.locator(".main-svg").first).to_be_attached(timeout=15000)
    # 2025 is open and Aizkraukle's figures are not in yet: the viewer looks at the last published round.
    assert page.locator("#control-period option:checked").inner_text().strip().startswith("2024")
    bars = ranking.locator(".barlayer .point path")
    expect(bars.first).to_be_attached()
    fills = [fill_of(bars.nth(index)) for index in range(bars.count())]
    # Every current member with a 2024 value has a bar (Varakļāni, merged into Madona in 2025, has none).
    members = Membership.objects.active().filter(network__code="T3").values("municipality_id")
    with_value = Result.objects.filter(
        network__code="T3",
        period__label="2024",
        indicator__code=INDICATOR,
        peer_group="network",
        value__isnull=False,
        municipality_id__in=members,
    ).count()
    assert len(fills) == with_value > 10
    assert fills.count(ORANGE) == 1, fills
    assert fills.count(SKY_BLUE) == len(fills) - 1
    own_bar = bars.nth(fills.index(ORANGE))
    # The orange bar sits on the row labelled with Aizkraukle's name.
    label = ranking.locator(".yaxislayer-above .ytick text", has_text=home)
    expect(label).to_have_count(1)
    bar_box, label_box = own_bar.bounding_box(), label.bounding_box()
    middle = label_box["y"] + label_box["height"] / 2
    assert bar_box["y"] <= middle <= bar_box["y"] + bar_box["height"], (bar_box, label_box)
    # The legend names the orange trace after Aizkraukle.
    entry = ranking.locator(".legend .traces", has_text=home)
    expect(entry).to_have_count(1)
    assert fill_of(entry.locator(".legendpoints path").first) == ORANGE
    assert problems == []
