"""The council member's first screen: sign in, and the own municipality's strengths and
weaknesses are there in words, on a desk and on a phone, in Latvian and English, with no
catalogue code in the text; the printable report fits A4."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .conftest import log_in
from .test_accessibility import serious
from .test_overview_glance import codes_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {"desk": (1280, 900), "phone": (375, 812)}
HEADINGS = {"lv": ("Stiprās puses", "Kur esam vājākie"), "en": ("Strengths", "Where we are weakest")}
PEER_MEDIAN = {"lv": "salīdzināmo pašvaldību mediān", "en": "peer median"}
# A4 at 96 px per inch within the report's print margins (static/css/dashboards.css, @page 15 mm).
A4_PRINTABLE_PX = int((210 - 2 * 15) / 25.4 * 96)


def politician_pages(code: str) -> dict[str, str]:
    return {
        "profile": reverse("comparisons:profile", kwargs={"network": "T3", "code": code}),
        "report": reverse("comparisons:report", kwargs={"network": "T3", "code": code}),
    }


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_answer_is_on_the_first_screen_after_sign_in(demo, new_page, live_server, screen, language):
    from indicators.models import Indicator
    from networks.models import Municipality

    codes = set(Indicator.objects.values_list("code", flat=True))
    width, height = SCREENS[screen]
    page = new_page(language)
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server, "demo-viewer", "benchlearning-demo")
    # No further click: the landing page holds the answer.
    assert page.url.endswith(reverse("networks:my_work")), page.url
    panel = page.locator("[data-panel=standing]")
    expect(panel).to_be_visible()
    strengths, weaknesses = HEADINGS[language]
    expect(panel.get_by_role("heading", name=strengths)).to_be_visible()
    expect(panel.get_by_role("heading", name=weaknesses)).to_be_visible()
    # The strengths start on the first screen, without scrolling.
    top = panel.get_by_role("heading", name=strengths).bounding_box()["y"]
    assert top < height, (top, height)
    words = panel.locator(".standing-words")
    assert words.count() >= 3
    expect(words.first).to_contain_text(PEER_MEDIAN[language])
    text = page.inner_text("body")
    assert codes_in(text, codes) == []
    scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width
    assert serious(page) == []

    code = Municipality.objects.get(name="Aizkraukles novads", valid_to__isnull=True).code
    for name, url in politician_pages(code).items():
        page.goto(live_server.url + url)
        expect(page.locator("#dashboard")).to_be_visible()
        text = page.inner_text("body")
        assert codes_in(text, codes) == [], name
        assert PEER_MEDIAN[language] in text, name
        scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner_width, (name, scroll_width, inner_width)


def test_the_printed_report_keeps_every_chart_inside_the_page(demo, new_page, live_server, tmp_path):
    from networks.models import Municipality

    code = Municipality.objects.get(name="Aizkraukles novads", valid_to__isnull=True).code
    page = new_page("lv")
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server, "demo-viewer", "benchlearning-demo")
    page.goto(live_server.url + politician_pages(code)["report"])
    charts = page.locator("[data-chart] .main-svg")
    expect(charts.first).to_be_attached(timeout=15000)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_PRINTABLE_PX, "height": 1100})
    page.wait_for_timeout(500)  # the charts redraw for the new width
    boxes = page.evaluate("[...document.querySelectorAll('[data-chart]')].map(e => e.getBoundingClientRect().right)")
    assert boxes, "the report has charts"
    assert all(right <= A4_PRINTABLE_PX + 1 for right in boxes), (boxes, A4_PRINTABLE_PX)
    svg_widths = page.evaluate(
        "[...document.querySelectorAll('[data-chart] .main-svg')].map(e => e.getBoundingClientRect().right)"
    )
    assert all(right <= A4_PRINTABLE_PX + 1 for right in svg_widths), (svg_widths, A4_PRINTABLE_PX)
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    assert pdf.read_bytes().startswith(b"%PDF")
