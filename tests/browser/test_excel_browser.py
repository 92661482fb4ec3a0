"""The Excel round trip through the pages: download the template (a real browser download), fill it
in with openpyxl, upload it, read the preview, save, and find the values in the form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME = "LV0020000"
FILLED = {"DWELLINGS_MUNICIPAL": 812, "HOUSING_QUEUE": 14, "WASTE_TOTAL_T": 6550.5}  # the last has 1 decimal


def _(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


@pytest.mark.parametrize("language", ["lv", "en"])
def test_template_download_fill_upload_preview_and_commit(demo, new_page, live_server, tmp_path, language):
    from indicators.models import DataItem, Round, Submission

    round_ = Round.objects.get(network__code="T3", period__label="2025")
    items = {item.code: item for item in DataItem.objects.filter(code__in=FILLED)}
    page = new_page(language)
    log_in(page, live_server, "demo-staff", "benchlearning-demo")
    page.goto(live_server.url + reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": HOME}))
    for code in FILLED:
        assert page.locator(f"input[name=value_{items[code].pk}]").input_value() == ""

    # Download through the link on the form.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=_(language, "Download the Excel template")).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    # Fill three value cells as a person would in Excel.
    workbook = load_workbook(path)
    sheet = workbook.active
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=6) if row[0].value}
    assert set(FILLED) <= set(rows)
    for code, number in FILLED.items():
        rows[code][5].value = number
    workbook.save(path)

    # Upload it on the upload page, linked from the form.
    page.get_by_role("link", name=_(language, "Upload a filled-in Excel file")).click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text(_(language, "Upload from Excel"))
    page.set_input_files("input[type=file][name=file]", str(path))
    page.get_by_role("button", name=_(language, "Check the file")).click()
    page.wait_for_load_state()
    preview = page.locator("section[aria-labelledby=preview-title]")
    expect(preview.locator("h2")).to_have_text(_(language, "Preview: nothing is saved yet"))
    expect(preview.locator("tr.excel-change")).to_have_count(len(FILLED))
    expect(preview.locator("tr.excel-problem")).to_have_count(0)
    for code in FILLED:
        expect(preview.locator("tr.excel-change", has_text=code)).to_have_count(1)
    submission = Submission.objects.get(round=round_, municipality__code=HOME)
    assert not submission.values.filter(item__code__in=FILLED).exists()  # nothing saved by the preview

    preview.get_by_role("button", name=_(language, "Save these changes")).click()
    page.wait_for_load_state()
    with translation.override(language):
        saved = gettext("%(count)d values saved from the Excel file.") % {"count": len(FILLED)}
    expect(page.get_by_text(saved)).to_be_visible()
    separator = "," if language == "lv" else "."
    for code, number in FILLED.items():
        shown = str(number).replace(".", separator)
        expect(page.locator(f"input[name=value_{items[code].pk}]")).to_have_value(shown)
        assert submission.values.get(item__code=code).number == Decimal(str(number))
