"""axe-core on the main pages in both languages: no serious or critical violation."""

from __future__ import annotations

import pytest

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PAGES = [
    "/",
    "/networks/",
    "/networks/T3/",
    "/municipalities/",
    "/municipalities/LV0020000/",
    "/accounts/login/",
]
SIGNED_IN_PAGES = ["/my/", "/accounts/password_change/"]


@pytest.fixture
def demo(settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115


def serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("language", ["lv", "en"])
def test_main_pages_have_no_serious_violations(demo, new_page, live_server, language):
    page = new_page(language)
    problems = {}
    for path in PUBLIC_PAGES:
        page.goto(live_server.url + path)
        problems[path] = serious(page)
    log_in(page, live_server, "demo-coordinator", "benchlearning-demo")
    for path in SIGNED_IN_PAGES:
        page.goto(live_server.url + path)
        problems[path] = serious(page)
    assert {path: found for path, found in problems.items() if found} == {}
