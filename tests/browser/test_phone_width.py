"""Every main page fits a phone: at 375 px nothing scrolls sideways, for every persona, in both
languages. A wide table becomes cards there (`.table-cards` in static/css/portal.css); before,
the networks list was 560 px wide, the municipalities list 460 px and the awards 554 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_accessibility import PUBLIC_PAGES, SIGNED_IN_PAGES, main_pages, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 800}


@pytest.mark.parametrize("language", ["lv", "en"])
def test_every_main_page_fits_a_phone(demo, new_page, live_server, language):
    pages = main_pages()
    pages[None] = PUBLIC_PAGES + pages[None]
    pages["demo-coordinator"] = SIGNED_IN_PAGES + pages["demo-coordinator"]
    too_wide = {}
    checked = 0
    for user, path, page in visit(pages, new_page, live_server, language, viewport=PHONE):
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[f"{user} {path}"] = width
        checked += 1
    assert checked >= 35
    assert too_wide == {}


def test_a_list_on_a_phone_labels_every_value(demo, new_page, live_server):
    """The cards keep what the columns said: the municipality's name heads its card, and its code,
    kind and planning region come with their column's name."""
    page = new_page("lv")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/municipalities/?q=Aizkraukle")
    card = page.locator("table.table-cards tbody tr").first
    expect(card.locator("th[scope=row]")).to_have_text("Aizkraukles novads")
    labels = card.locator("td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content + ' ' + c.textContent.trim())"
    )
    assert labels[:3] == ['"Kods: " LV0020000', '"Veids: " pašvaldība', '"Plānošanas reģions: " Zemgale']
