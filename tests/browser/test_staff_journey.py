"""Staff from sign-in to a submitted form, in a real browser, in Latvian and in English
(docs/architecture.md, "The staff form").

demo-staff signs in, opens Aizkraukle's open 2025 T3 form from "My reporting rounds", types a value
a hundred times too large and sees the warning as soon as the field is left, explains it, types a
value with more decimals than the item shows and sees it refused at once, fills in the rest (one
figure declared missing), saves a draft and submits. The form with nothing open is at most three
screens tall at 1280x900 and has no horizontal scroll at 375 px; screenshots at both widths.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from .conftest import log_in
from .test_accessibility import serious

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME = "LV0020000"
OUTLIER_ITEM = "DWELLINGS_MUNICIPAL"  # 0 decimals
DECIMALS_ITEM = "HOUSING_QUEUE"  # 0 decimals
DESK, PHONE = (1280, 900), (375, 812)
MAX_HEIGHT = 3 * DESK[1]


def _(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def typed(number: str, language: str) -> str:
    return number.replace(".", ",") if language == "lv" else number


def shots(tmp_path: Path) -> Path:
    """Where the screenshots go: SCREENSHOTS_DIR when set (to look at them), else the test's tmp."""
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def demo_form(demo):
    from indicators.demo import demo_values_rows
    from indicators.models import DataItem, Round

    round_ = Round.objects.get(network__code="T3", period__label="2025")
    items = {item.code: item for item in DataItem.objects.filter(source=DataItem.Source.ENTERED)}
    rows = [row for row in demo_values_rows() if row[0] == HOME and row[2] == "2025" and row[1] in items]
    entries = {items[code]: (value, note) for _code, code, _period, value, note in rows}
    assert entries[items[OUTLIER_ITEM]][0] and entries[items[DECIMALS_ITEM]][0]
    return round_, entries, items


def measure(page) -> dict:
    return page.evaluate(
        "() => ({height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth,"
        " open: document.querySelectorAll('.entries details[open]').length})"
    )


@pytest.mark.parametrize("language", ["lv", "en"])
def test_staff_from_sign_in_to_a_submitted_form(demo_form, new_page, live_server, language, tmp_path):
    from indicators.models import Submission

    round_, entries, items = demo_form
    outlier, decimals = items[OUTLIER_ITEM], items[DECIMALS_ITEM]
    form_path = reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": HOME})
    folder = shots(tmp_path)

    page = new_page(language)
    page.set_viewport_size({"width": DESK[0], "height": DESK[1]})
    log_in(page, live_server, "demo-staff", "benchlearning-demo")
    page.goto(live_server.url + reverse("indicators:my_rounds"))
    page.locator(f"a[href='{form_path}']").click()
    page.wait_for_load_state()
    assert page.url.endswith(form_path)
    assert page.locator("html").get_attribute("lang") == language

    # One row per item; nothing open, three screens at most; Save and Submit in the sticky bar.
    with translation.override(language):
        filled_none = gettext("%(filled)s of %(total)s filled")
    expect(page.locator(".entry[data-item]")).to_have_count(23)
    size = measure(page)
    assert size["open"] == 0
    assert size["height"] <= MAX_HEIGHT, f"the form is {size['height']} px tall at 1280x900"
    print(f"\n{language}: form height at 1280x900 with nothing open: {size['height']} px")
    bar = page.locator("#entry-bar")
    expect(bar.get_by_role("button", name=_(language, "Save as draft"))).to_be_in_viewport()
    expect(bar.get_by_role("button", name=_(language, "Submit to the coordinator"))).to_be_in_viewport()
    progress = page.locator("#entry-progress")
    total = len(entries)
    if language == "en":
        expect(progress).to_have_text(filled_none % {"filled": 0, "total": total})
    page.screenshot(path=str(folder / f"staff-form-{language}-1280.png"), full_page=True)

    # A value a hundred times too large: the warning shows when the field is left, the explanation opens.
    row = page.locator(f"#item-{outlier.pk}")
    value = page.locator(f"input[name=value_{outlier.pk}]")
    value.fill(str(int(entries[outlier][0]) * 100))
    expect(row.locator(".entry-warnings")).to_have_count(0)  # not while typing
    value.press("Tab")
    expect(row.locator(".entry-warnings")).to_contain_text(_(language, "Warning"))
    expect(row.locator(".entry-warnings")).to_contain_text(_(language, "Explain this value before submitting."))
    expect(row).to_have_attribute("data-state", "warning")
    expect(row.locator(".entry-state")).to_have_text(_(language, "needs an explanation"))
    explanation = page.locator(f"textarea[name=explanation_{outlier.pk}]")
    expect(explanation).to_be_visible()
    with translation.override(language):
        one_warning = translation.ngettext(
            "%(warned)s warning needs an explanation", "%(warned)s warnings need an explanation", 1
        ) % {"warned": 1}
    expect(progress).to_contain_text(one_warning)
    assert "aria-live" in (row.locator(".entry-feed").evaluate("node => node.outerHTML"))
    explanation.fill("Jauns īres nams nodots ekspluatācijā (demo).")
    expect(row).to_have_attribute("data-state", "explained")
    expect(progress).not_to_contain_text(one_warning)

    # More decimals than the item shows: refused at once, with the reason, in the page's language.
    wrong = page.locator(f"input[name=value_{decimals.pk}]")
    wrong.fill(typed("603.5", language))
    wrong.press("Tab")
    decimals_row = page.locator(f"#item-{decimals.pk}")
    expect(decimals_row.locator(f"#id_value_{decimals.pk}_error")).to_have_text(
        _(language, "Enter a whole number (no decimal places).")
    )
    expect(wrong).to_have_attribute("aria-invalid", "true")
    expect(decimals_row).to_have_attribute("data-state", "error")
    assert f"id_value_{decimals.pk}_error" in wrong.get_attribute("aria-describedby")
    # The rows as the script left them (a warning explained, an error) pass axe-core.
    assert serious(page) == []
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    decimals_row.scroll_into_view_if_needed()
    page.screenshot(path=str(folder / f"staff-form-{language}-375-checks.png"))
    page.set_viewport_size({"width": DESK[0], "height": DESK[1]})
    page.screenshot(path=str(folder / f"staff-form-{language}-1280-checks.png"))

    # Fill in everything (the decimal refused above corrected), one figure declared missing.
    missing_done = False
    for item, (number, note) in entries.items():
        if item == outlier:
            continue
        if number:
            page.fill(f"input[name=value_{item.pk}]", typed(number, language))
        else:
            page.check(f"input[name=missing_{item.pk}]")
            expect(page.locator(f"input[name=reason_{item.pk}]")).to_be_visible()  # shown only when ticked
            page.fill(f"input[name=reason_{item.pk}]", note)
            missing_done = True
    if not missing_done:
        # The demo's figures for Aizkraukle have none missing: declare the last one missing.
        last = list(entries)[-1]
        page.fill(f"input[name=value_{last.pk}]", "")
        page.check(f"input[name=missing_{last.pk}]")
        page.select_option(f"select[name=marker_{last.pk}]", "…")
        entries[last] = ("", "")
    page.locator(f"input[name=value_{decimals.pk}]").press("Tab")
    expect(decimals_row).not_to_have_attribute("data-state", "error")
    with translation.override(language):
        all_filled = translation.ngettext("%(filled)s of %(total)s filled", "%(filled)s of %(total)s filled", total) % {
            "filled": total,
            "total": total,
        }
    expect(progress).to_have_text(all_filled)

    # Save a draft, then submit.
    bar.get_by_role("button", name=_(language, "Save as draft")).click()
    page.wait_for_load_state()
    expect(page.get_by_text(_(language, "Saved as a draft."))).to_be_visible()
    expect(page.locator("#entry-progress")).to_have_text(all_filled)
    submission = Submission.objects.get(round=round_, municipality__code=HOME)
    stored = submission.values.get(item=decimals)
    assert stored.number == Decimal(entries[decimals][0])
    page.locator("#entry-bar").get_by_role("button", name=_(language, "Submit to the coordinator")).click()
    page.wait_for_load_state()
    expect(page.get_by_text(_(language, "Submitted. The coordinator will review your figures."))).to_be_visible()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert submission.values.get(item=outlier).explanation.startswith("Jauns īres nams")
    assert submission.values.filter(item__in=list(entries)).count() == len(entries)

    # Submitted: the figures read-only, and the way back before the review.
    expect(page.locator(f"input[name=value_{outlier.pk}]")).to_have_count(0)
    expect(page.get_by_text(_(language, "Withdraw the submission to change it"))).to_be_visible()
    page.screenshot(path=str(folder / f"staff-form-{language}-1280-submitted.png"), full_page=True)

    # On a phone: no horizontal scroll, the form as stacked rows.
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    page.goto(live_server.url + form_path)
    size = measure(page)
    assert size["width"] <= PHONE[0], f"horizontal scroll at 375 px: {size['width']} px wide"
    page.screenshot(path=str(folder / f"staff-form-{language}-375-submitted.png"), full_page=True)


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_open_form_fits_a_phone_and_withdraws(demo_form, new_page, live_server, language, tmp_path):
    """The editable form at 375 px has no horizontal scroll; a submitted form is withdrawn to draft
    after its confirmation."""
    from indicators.models import Submission

    round_, _entries, items = demo_form
    form_url = live_server.url + reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": HOME})
    page = new_page(language)
    page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    log_in(page, live_server, "demo-staff", "benchlearning-demo")
    page.goto(form_url)
    size = measure(page)
    assert size["width"] <= PHONE[0], f"horizontal scroll at 375 px: {size['width']} px wide"
    expect(page.locator("#entry-bar").get_by_role("button", name=_(language, "Save as draft"))).to_be_in_viewport()
    page.screenshot(path=str(shots(tmp_path) / f"staff-form-{language}-375.png"), full_page=True)

    submission = Submission.objects.get(round=round_, municipality__code=HOME)
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED)
    page.goto(form_url)
    page.get_by_text(_(language, "Withdraw the submission to change it")).click()
    page.get_by_role("button", name=_(language, "Yes, withdraw to draft")).click()
    page.wait_for_load_state()
    expect(
        page.get_by_text(_(language, "Withdrawn: the submission is a draft again; change it and submit it again."))
    ).to_be_visible()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.DRAFT
    expect(page.locator(f"input[name=value_{items[OUTLIER_ITEM].pk}]")).to_be_editable()
