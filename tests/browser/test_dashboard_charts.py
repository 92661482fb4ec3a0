"""The dashboards' Plotly charts draw in a real browser under the strict Content-Security-Policy,
and a control change (htmx) redraws them without a full page load."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def results(world, settings):
    from comparisons.tests.dashboard_fixtures import dashboard_data

    settings.DEBUG = True  # static files (plotly.js from the wheel) through the finders
    return dashboard_data(world)


def charts_drawn(page, count: int) -> None:
    # Locators, not wait_for_function: evaluating a string would need 'unsafe-eval'.
    expect(page.locator("[data-chart] .js-plotly-plot, .js-plotly-plot[data-chart]")).to_have_count(
        count, timeout=15000
    )
    expect(page.locator("[data-chart] .main-svg").first).to_be_attached(timeout=15000)


def test_charts_draw_without_csp_violations_and_htmx_redraws(results, world, new_page, live_server, tmp_path):
    page = new_page("en")
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(live_server.url + reverse("networks:network_list"))
    baseline = list(problems)
    url = live_server.url + reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    page.goto(url + "?period=2024&m=" + world.a.code)
    # Ranking, distribution, time series and the funnel plot (SOC's numerator is a count).
    charts_drawn(page, 4)
    assert page.locator(".js-plotly-plot").count() == 4
    # Every municipality with a value has a bar (five peers and the highlighted one).
    assert page.locator("[data-chart='chart-ranking'] .bars .point").count() == 6
    assert "Aizkraukle Municipality" in page.locator("[data-chart='chart-ranking'] .legend").text_content()
    page.screenshot(path=str(tmp_path / "indicator.png"), full_page=True)
    page.select_option("#control-period", "2023")
    page.wait_for_url("**period=2023**", timeout=10000)
    expect(page.locator("#table-ranking caption")).to_contain_text("2023", timeout=10000)
    charts_drawn(page, 4)
    assert problems == baseline, problems


@pytest.mark.parametrize("language", ["lv", "en"])
def test_dashboards_have_no_serious_accessibility_violations(results, world, new_page, live_server, language):
    from .test_accessibility import serious

    page = new_page(language)
    problems = {}
    for name, kwargs in (
        ("comparisons:overview", {"network": "T"}),
        ("comparisons:map", {"network": "T"}),
        ("comparisons:indicator", {"network": "T", "indicator": "SOC"}),
        ("comparisons:profile", {"network": "T", "code": world.a.code}),
        ("comparisons:report", {"network": "T", "code": world.a.code}),
    ):
        page.goto(live_server.url + reverse(name, kwargs=kwargs) + "?period=2024&m=" + world.a.code)
        expect(page.locator("[data-chart] .main-svg").first).to_be_attached(timeout=15000)
        problems[name] = serious(page)
    assert {name: found for name, found in problems.items() if found} == {}
