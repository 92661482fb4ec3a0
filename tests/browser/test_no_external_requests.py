"""Every browser test fails when a page asks another origin for anything (`new_page` in conftest).

The guard is checked here on a page that does request another origin, and the public and staff
pages are checked not to: the journeys, charts and accessibility tests open the rest.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_request_to_another_origin_is_recorded(new_page, live_server, foreign_requests):
    page = new_page("en")
    page.route("http://example.invalid/**", lambda route: route.abort())  # never leaves the machine
    page.goto(live_server.url + reverse("networks:network_list"))
    page.set_content('<img src="http://example.invalid/pixel.png" alt="">')
    page.wait_for_load_state()
    assert foreign_requests == ["http://example.invalid/pixel.png"]
    foreign_requests.clear()  # recorded as it should be; the fixture's own check would fail this test


@pytest.mark.parametrize("language", ["lv", "en"])
def test_pages_load_everything_from_the_portal_itself(demo, new_page, live_server, foreign_requests, language):
    page = new_page(language)
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    for path in ("/", reverse("comparisons:indicator", kwargs={"network": "T3", "indicator": "HEAT_COST_M2"})):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
    log_in(page, live_server, "demo-staff", "benchlearning-demo")
    page.goto(live_server.url + reverse("indicators:my_rounds"))
    page.wait_for_load_state("networkidle")
    assert any(url.endswith(".js") for url in seen) and any(".css" in url for url in seen)
    assert all(url.startswith(live_server.url) for url in seen), seen
    assert foreign_requests == []
