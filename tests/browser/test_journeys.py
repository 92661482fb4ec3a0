"""People using the portal in a real browser, in Latvian and in English."""

from __future__ import annotations

import pytest
from django.urls import reverse

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("language", "my_work", "log_out", "home", "network"),
    [
        ("lv", "Mans darbs", "Iziet", "Aizkraukles novads", "Pašvaldību sabiedrisko pakalpojumu un mājokļu politikas"),
        ("en", "My work", "Log out", "Aizkraukle Municipality", "Public services and housing policy network"),
    ],
)
def test_staff_member_logs_in_and_finds_their_municipality(
    demo, new_page, live_server, language, my_work, log_out, home, network
):
    page = new_page(language)
    log_in(page, live_server, "demo-staff", "benchlearning-demo")
    assert page.url.endswith("/my/")
    assert page.locator("html").get_attribute("lang") == language
    assert page.get_by_role("heading", level=1).inner_text() == my_work
    assert page.get_by_role("button", name=log_out).is_visible()
    # The municipality's own page (the task panel above links to the form under the same name).
    municipality = reverse("networks:municipality_detail", args=["LV0020000"])
    page.locator(f"a[href='{municipality}']", has_text=home).first.click()
    page.wait_for_load_state()
    assert "LV0020000" in page.inner_text("h1")
    assert page.get_by_role("link", name=network, exact=False).count() >= 1


def test_switching_language_keeps_the_page(demo, new_page, live_server):
    page = new_page("lv")
    page.goto(f"{live_server.url}/networks/T3/")
    assert "Dalībnieces kopš" not in page.content()
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.url.endswith("/networks/T3/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Public services and housing policy network" in page.inner_text("h1")
    page.get_by_role("button", name="Latviešu").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "lv"


def test_wrong_password_is_refused_with_a_message(demo, new_page, live_server):
    page = new_page("en")
    log_in(page, live_server, "demo-staff", "not-the-password")
    assert page.url.endswith("/accounts/login/")
    assert page.get_by_role("alert").count() >= 1
