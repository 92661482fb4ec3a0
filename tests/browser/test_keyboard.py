"""The staff form filled in and submitted with the keyboard alone: Tab, Shift+Tab, typing, Space, Enter."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME = "LV0020000"
MAX_TABS = 600


def focused(page):
    return page.locator(":focus")


@pytest.mark.parametrize("language", ["lv", "en"])
def test_staff_form_completed_and_submitted_with_the_keyboard_only(demo, new_page, live_server, language):
    from indicators.demo import demo_values_rows
    from indicators.models import DataItem, Round, Submission

    round_ = Round.objects.get(network__code="T3", period__label="2025")
    entered = {item.code: item.pk for item in DataItem.objects.filter(source=DataItem.Source.ENTERED)}
    figures = {
        entered[code]: (value, note)
        for municipality, code, period, value, note in demo_values_rows()
        if municipality == HOME and period == "2025" and code in entered
    }
    page = new_page(language)
    log_in(page, live_server, "demo-staff", "benchlearning-demo")
    page.goto(live_server.url + reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": HOME}))
    with translation.override(language):
        submit_label = gettext("Submit to the coordinator")
        done = gettext("Submitted. The coordinator will review your figures.")

    # The first Tab reaches the skip link, which leads past the navigation.
    page.keyboard.press("Tab")
    expect(focused(page)).to_have_attribute("href", "#content")
    page.keyboard.press("Enter")

    filled: set[str] = set()
    went_back = False
    for _step in range(MAX_TABS):
        page.keyboard.press("Tab")
        element = focused(page)
        if element.count() == 0:
            continue
        if element.get_attribute("type") == "submit" and element.inner_text().strip() == submit_label:
            break
        name = element.get_attribute("name") or ""
        kind, _sep, pk = name.partition("_")
        if not pk.isdigit() or int(pk) not in figures or name in filled:
            continue
        number, note = figures[int(pk)]
        if kind == "value" and number:
            page.keyboard.type(number.replace(".", ",") if language == "lv" else number)
        elif kind == "missing" and not number:
            page.keyboard.press("Space")
        elif kind == "reason" and not number:
            page.keyboard.type(note)
        else:
            continue
        filled.add(name)
        if not went_back:
            # Shift+Tab comes back to the field just typed in, and nothing typed is lost.
            page.keyboard.press("Tab")
            page.keyboard.press("Shift+Tab")
            expect(focused(page)).to_have_attribute("name", name)
            went_back = True
    else:
        pytest.fail(f"the submit button was not reached in {MAX_TABS} Tab presses")

    assert {name for name in filled if name.startswith(("value_", "reason_"))} == {
        f"{'value' if number else 'reason'}_{pk}" for pk, (number, _note) in figures.items()
    }
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_text(done)).to_be_visible()
    submission = Submission.objects.get(round=round_, municipality__code=HOME)
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.values.filter(item_id__in=figures).count() == len(figures)
