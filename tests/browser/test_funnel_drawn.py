"""A politician (demo-viewer of Aizkraukle) opens the indicator page of a count per 1000
inhabitants: the funnel plot is really drawn — limits as lines, one point per municipality with
figures, Aizkraukle's apart — and the sentence under it says where Aizkraukle lies."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from .conftest import log_in
from .test_accessibility import serious

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME = "LV0020000"
INDICATOR = "SOCIAL_DWELLINGS_1000"  # flagged `poisson` in the demo catalogue
SENTENCES = {
    "lv": ("nav atšķirams no salīdzinājuma grupas vidējā", "nekā gaidāms pēc salīdzinājuma grupas vidējā"),
    "en": ("is not distinguishable from the peer average", "than expected from the peer average"),
}


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_funnel_plot_is_drawn_on_the_indicator_page(demo, new_page, live_server, language):
    from indicators.models import Indicator
    from networks.models import Municipality

    with translation.override(language):
        home = Municipality.objects.get(code=HOME).display_name
        y_title = Indicator.objects.get(code=INDICATOR).display_short_name
    page = new_page(language)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, live_server, "demo-viewer", "benchlearning-demo")
    page.goto(
        live_server.url
        + reverse("comparisons:indicator", kwargs={"network": "T3", "indicator": INDICATOR})
        + "?period=2024"
    )
    chart = page.locator("[data-chart='chart-funnel']")
    expect(chart.locator(".main-svg").first).to_be_attached(timeout=15000)
    # Four limit curves and the peer average: lines; the municipalities: points.
    expect(chart.locator(".scatterlayer .trace .js-line").first).to_be_attached()
    assert chart.locator(".scatterlayer .trace .js-line").count() >= 5
    points = chart.locator(".scatterlayer .trace .points path.point")
    assert points.count() > 10
    # The axis titles are the catalogue's names, not its codes.
    expect(chart.locator(".g-ytitle")).to_contain_text(y_title)
    assert INDICATOR not in chart.locator(".g-ytitle").text_content()
    assert "POPULATION" not in chart.locator(".g-xtitle").text_content()
    # Aizkraukle is named in the legend, and the sentence under the chart is about it.
    expect(chart.locator(".legend")).to_contain_text(home)
    caption = page.locator(".funnel-plot figcaption")
    expect(caption).to_contain_text(home)
    assert any(words in caption.inner_text() for words in SENTENCES[language])
    assert problems == []
    # With the funnel drawn, axe-core finds nothing serious on the page.
    assert serious(page) == []
