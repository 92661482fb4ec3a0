"""Figures of a period before a municipality existed are marked as reconstructed on a phone and a
desk, in both languages (docs/official.md, "History across a reform")."""

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
    from networks.models import Municipality

    settings.DEBUG = True  # static files (plotly.js from the wheel) through the finders
    data = dashboard_data(world)
    # A came into being in 2024: its 2023 figures are its predecessors'.
    Municipality.objects.filter(pk=world.a.pk).update(valid_from="2024-01-01")
    return data


@pytest.mark.parametrize("language", ["lv", "en"])
@pytest.mark.parametrize("width", [1280, 375])
def test_reconstructed_periods_are_marked(results, world, new_page, live_server, tmp_path, language, width):
    page = new_page(language)
    page.set_viewport_size({"width": width, "height": 900})
    profile = live_server.url + reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})
    page.goto(profile + "?period=2023")
    note = page.locator(".reconstructed-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("2023")
    expect(page.locator(".dashboard-legend")).to_contain_text(
        "rekonstruēts no priekšteču" if language == "lv" else "reconstructed from the predecessors"
    )
    shots = Path(SHOTS or tmp_path)
    page.screenshot(path=str(shots / f"reform-profile-{language}-{width}.png"), full_page=True)
    indicator = live_server.url + reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    page.goto(indicator + "?period=2024&m=" + world.a.code)
    series = page.locator("#table-series")
    expect(series).to_contain_text("2023 *")
    series.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"reform-indicator-{language}-{width}.png"), full_page=True)
