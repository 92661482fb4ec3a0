"""axe-core on the main pages in both languages: no serious or critical violation."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

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


def main_pages() -> dict[str, list[str]]:
    """Every main page of the demo, by the account that uses it (None: an anonymous visitor)."""
    from indicators.models import Round, Submission

    round_ = Round.objects.get(network__code="T3", period__label="2025")
    submitted = Submission.objects.filter(round=round_, status=Submission.Status.SUBMITTED).order_by("pk").first()
    home = {"network": "T3", "code": "LV0020000"}
    network = {"code": "T3"}
    return {
        None: [
            reverse("comparisons:index"),
            reverse("comparisons:overview", kwargs={"network": "T3"}),
            reverse("comparisons:map", kwargs={"network": "T3"}),
            reverse("comparisons:indicator", kwargs={"network": "T3", "indicator": "HEAT_COST_M2"}),
            reverse("comparisons:profile", kwargs=home),
            reverse("comparisons:report", kwargs=home),
            reverse("learning:practice_list"),
        ],
        "demo-staff": [
            reverse("indicators:my_rounds"),
            reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": "LV0020000"}),
            reverse("indicators:excel_upload", kwargs={"round_pk": round_.pk, "code": "LV0020000"}),
            reverse("learning:plan_list"),
            reverse("learning:plan_new"),
            reverse("learning:practice_new"),
        ],
        "demo-viewer": [
            reverse("comparisons:profile", kwargs=home) + "?period=2024",
            reverse("comparisons:indicator", kwargs={"network": "T3", "indicator": "HEAT_COST_M2"}) + "?period=2024",
        ],
        "demo-coordinator": [
            reverse("indicators:round_matrix", kwargs={"round_pk": round_.pk}),
            reverse("indicators:submission_review", kwargs={"pk": submitted.pk}),
            reverse("networks:coordination_home"),
            reverse("networks:coordination_network", kwargs=network),
            reverse("networks:coordination_network_edit", kwargs=network),
            reverse("networks:coordination_people", kwargs=network),
            reverse("networks:coordination_invite", kwargs=network),
            reverse("indicators:coordination_indicators", kwargs=network),
            reverse("indicators:coordination_round", kwargs={"code": "T3", "period": "2025"}),
            reverse("indicators:coordination_round_open", kwargs=network),
            reverse("learning:network_plans", kwargs=network),
            reverse("learning:meeting_list", kwargs=network),
            reverse("learning:meeting_new", kwargs=network),
            reverse("learning:network_activity", kwargs=network),
            reverse("learning:network_awards", kwargs=network),
        ],
    }


def visit(pages: dict[str | None, list[str]], new_page, live_server, language: str, viewport: dict | None = None):
    """Open every page of ``pages`` (account -> paths) as its account, in ``language``; yield
    (account, path, page) once the page answered 200 and its charts, if any, are drawn."""
    for user, paths in pages.items():
        page = new_page(language)
        if viewport:
            page.set_viewport_size(viewport)
        if user:
            log_in(page, live_server, user, "benchlearning-demo")
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, (user, path, response.status)
            if page.locator("[data-chart]").count():
                # Plotly draws after the load: check the page as it then is.
                expect(page.locator("[data-chart] .main-svg").first).to_be_attached(timeout=15000)
            yield user, path, page


@pytest.mark.parametrize("language", ["lv", "en"])
def test_every_main_page_has_no_serious_violations(demo, new_page, live_server, language):
    """Dashboards, the staff form, review, completion matrix, coordination and learning pages."""
    problems: dict[str, list[str]] = {}
    checked = 0
    for user, path, page in visit(main_pages(), new_page, live_server, language):
        assert page.locator("html").get_attribute("lang") == language
        problems[f"{user} {path}"] = serious(page)
        checked += 1
    assert checked >= 30
    assert {path: found for path, found in problems.items() if found} == {}


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_form_showing_its_errors_has_no_serious_violations(demo, new_page, live_server, language):
    """The staff form after a refused submission: error messages, the list of problems, links."""
    from indicators.models import Round

    round_ = Round.objects.get(network__code="T3", period__label="2025")
    page = new_page(language)
    log_in(page, live_server, "demo-staff", "benchlearning-demo")
    page.goto(
        live_server.url + reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": "LV0020000"})
    )
    page.locator("input[name^=value_]").first.fill("not a number")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".invalid-feedback, .is-invalid").first).to_be_attached()
    assert serious(page) == []
    page.locator("input[name^=value_]").first.fill("1")
    page.locator("button[name=action][value=submit]").click()
    page.wait_for_load_state()
    expect(page.get_by_role("alert").first).to_be_visible()  # the values that stop the submission
    assert serious(page) == []
