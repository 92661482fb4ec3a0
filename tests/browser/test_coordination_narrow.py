"""The coordinator's pages on a phone (375 px): nothing scrolls sideways. The network page's
member table became cards (`.table-cards`); before, its long dates made the page 408 px wide."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_coordinators_network_pages_fit_a_phone(demo, new_page, live_server):
    page = new_page("lv")
    log_in(page, live_server, "demo-coordinator", "benchlearning-demo")
    page.set_viewport_size({"width": 375, "height": 900})
    for path in (
        reverse("networks:my_work"),
        reverse("networks:coordination_network", kwargs={"code": "T3"}),
        reverse("networks:network_detail", kwargs={"code": "T3"}),
        reverse("indicators:coordination_round", kwargs={"code": "T3", "period": "2025"}),
    ):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width} px wide on a 375 px screen"
    # The members are still all there, each with its dates labelled.
    page.goto(live_server.url + reverse("networks:coordination_network", kwargs={"code": "T3"}))
    assert page.locator("table.table-cards tbody th[scope=row]").count() == 42
