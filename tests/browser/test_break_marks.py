"""A period where a series breaks is marked (¦) and its note listed, on a phone and a desk, in
both languages (docs/official.md, "Footnotes and break notes")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("SCREENSHOT_DIR", "")


@pytest.fixture
def results(world, settings):
    from comparisons.tests.dashboard_fixtures import dashboard_data
    from indicators.models import DataItem, Period, SeriesBreak

    settings.DEBUG = True  # static files (plotly.js from the wheel) through the finders
    data = dashboard_data(world)
    SeriesBreak.objects.create(
        item=DataItem.objects.get(code="SOCIAL"),
        municipality=world.a,
        period=Period.objects.get(label="2024"),
        note="jauna sociālā dzīvokļa definīcija",
    )
    return data


@pytest.mark.parametrize("language", ["lv", "en"])
@pytest.mark.parametrize("width", [1280, 375])
def test_a_break_in_a_series_is_marked(results, world, new_page, live_server, tmp_path, language, width):
    page = new_page(language)
    page.set_viewport_size({"width": width, "height": 900})
    shots = Path(SHOTS or tmp_path)
    indicator = live_server.url + reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    page.goto(indicator + "?period=2024&m=" + world.a.code)
    expect(page.locator("#table-series")).to_contain_text("2024 ¦")
    notes = page.locator(".break-notes")
    expect(notes).to_be_visible()
    expect(notes).to_contain_text("2024: jauna sociālā dzīvokļa definīcija")
    expect(notes).to_contain_text("pārrāvums" if language == "lv" else "the series breaks here")
    notes.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"break-indicator-{language}-{width}.png"), full_page=True)
    page.locator("#table-series").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"break-series-{language}-{width}.png"))
    profile = live_server.url + reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})
    page.goto(profile + "?period=2024")
    expect(page.locator(".break-notes")).to_contain_text("2024: jauna sociālā dzīvokļa definīcija")
    page.screenshot(path=str(shots / f"break-profile-{language}-{width}.png"), full_page=True)
