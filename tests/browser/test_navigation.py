"""The navigation fits a 1366 px screen on one line and collapses cleanly below.

Checked as the demo coordinator (the most menu items) in Latvian (the longest words) and in
English: at 1366 and 1280 px every menu item, the language switch and the account sit on one
line; narrower, the menu folds behind the toggler and opens as a list; no width scrolls sideways.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 1280, 1024, 768, 375)
WIDE = 1280  # from here up the menu shows in full, on one line
SHOTS = os.environ.get("NAV_SCREENSHOTS")  # a folder to keep the screenshots in, to look at them


ITEMS = ", ".join(
    f"nav.navbar-portal {item}"
    for item in (".navbar-brand", ".nav-link", "button:not(.navbar-toggler)", ".navbar-text")
)


def _tops(page) -> set[int]:
    """The vertical centres of the navigation's visible items, rounded to whole pixels."""
    return set(
        page.evaluate(
            """(items) => [...document.querySelectorAll(items)]
               .filter(e => e.offsetParent !== null)
               .map(e => { const r = e.getBoundingClientRect(); return Math.round(r.top + r.height / 2); })""",
            ITEMS,
        )
    )


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_navigation_fits_and_folds(demo, new_page, live_server, tmp_path, language):
    page = new_page(language)
    log_in(page, live_server, "demo-coordinator", "benchlearning-demo")
    folder = Path(SHOTS) if SHOTS else tmp_path
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(live_server.url + reverse("networks:my_work"))
        links = page.locator("nav.navbar-portal .nav-link")
        expect(links).to_have_count(8)  # the coordinator's whole menu
        scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll_width <= inner_width, (width, scroll_width, inner_width)
        toggler = page.locator("nav.navbar-portal .navbar-toggler")
        if width >= WIDE:
            expect(toggler).to_be_hidden()
            tops = _tops(page)
            assert max(tops) - min(tops) <= 4, (width, tops)  # one line
            nav_height = page.locator("nav.navbar-portal").bounding_box()["height"]
            assert nav_height < 70, (width, nav_height)
        else:
            expect(toggler).to_be_visible()
            expect(links.first).to_be_hidden()
            page.screenshot(path=str(folder / f"nav-{language}-{width}-closed.png"))
            toggler.click()
            page.wait_for_selector("#main-nav.show")  # the opening animation has ended
            expect(links.last).to_be_visible()
            scroll_width, inner_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll_width <= inner_width, (width, "open", scroll_width, inner_width)
        page.screenshot(path=str(folder / f"nav-{language}-{width}.png"))
