"""The demo's dashboards as a council member reads them, on a desk and on a phone: indicators by
name (no catalogue code in the visible text), the page never wider than the screen, and the own
municipality marked."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .conftest import log_in
from .test_accessibility import serious

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {"desk": (1280, 900), "phone": (375, 812)}
OWN = {"lv": "Aizkraukles novads", "en": "Aizkraukle Municipality"}


def pages() -> dict[str, str]:
    return {
        "overview": reverse("comparisons:overview", kwargs={"network": "T3"}),
        "overview 2024": reverse("comparisons:overview", kwargs={"network": "T3"}) + "?period=2024",
        "indicator": reverse("comparisons:indicator", kwargs={"network": "T3", "indicator": "HEAT_COST_M2"})
        + "?period=2024",
        "map": reverse("comparisons:map", kwargs={"network": "T3"}) + "?period=2024&indicator=HEAT_COST_M2",
    }


def codes_in(text: str, codes) -> list[str]:
    return sorted(code for code in codes if re.search(rf"(?<![A-Za-z0-9_]){re.escape(code)}(?![A-Za-z0-9_])", text))


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["lv", "en"])
def test_names_not_codes_and_no_sideways_scroll(demo, new_page, live_server, screen, language, tmp_path):
    from indicators.models import Indicator

    codes = set(Indicator.objects.values_list("code", flat=True))
    width, height = SCREENS[screen]
    page = new_page(language)
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server, "demo-viewer", "benchlearning-demo")
    for name, url in pages().items():
        page.goto(live_server.url + url)
        expect(page.locator("#dashboard")).to_be_visible()
        text = page.inner_text("body")
        assert codes_in(text, codes) == [], (name, screen)
        expect(page.locator("aside.dashboard-legend")).to_have_count(1)
        if screen == "phone":
            scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll_width <= inner_width, (name, scroll_width, inner_width)
        page.screenshot(path=str(tmp_path / f"{name}-{screen}.png"), full_page=True)


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_own_municipality_is_marked_on_a_desk_and_first_on_a_phone(demo, new_page, live_server, language):
    own = OWN[language]
    page = new_page(language)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "demo-viewer", "benchlearning-demo")
    page.goto(live_server.url + pages()["overview 2024"])
    row = page.locator("#table-heatmap tr.own-row")
    expect(row).to_have_count(1)
    expect(row).to_be_visible()
    expect(row.locator("th")).to_contain_text(own)
    colour = row.locator("th").evaluate("element => getComputedStyle(element).backgroundColor")
    assert colour == "rgb(255, 243, 205)"
    # The heatmap outlines the row and marks its label; every row is labelled.
    chart = page.locator("[data-chart='chart-heatmap']")
    expect(chart.locator(".main-svg").first).to_be_attached(timeout=15000)
    expect(chart.locator(".shapelayer path")).to_have_count(1)
    labels = chart.locator(".yaxislayer-above .ytick text")
    expect(labels.filter(has_text="▶ " + own)).to_have_count(1)
    assert labels.count() == page.locator("#table-heatmap tbody tr").count()
    # The list is for narrow screens only.
    expect(page.locator(".band-list")).to_be_hidden()

    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + pages()["overview 2024"])
    expect(page.locator("#table-heatmap")).to_be_hidden()
    first = page.locator(".band-list > li").first
    expect(first).to_be_visible()
    assert "own-entry" in (first.get_attribute("class") or "")
    expect(first.locator("summary")).to_contain_text(own)
    # Open, with the indicators' short names as chips.
    expect(first.locator(".band-chip").first).to_be_visible()
    expect(first.locator(".band-chips")).to_contain_text("Heating cost per m²" if language == "en" else "Siltuma")
    colour = first.evaluate("element => getComputedStyle(element).backgroundColor")
    assert colour == "rgb(255, 243, 205)"
    # The chips and the legend read well for everyone (contrast, names of the bands).
    assert serious(page) == []
