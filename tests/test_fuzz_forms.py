"""Hostile input to the staff's data entry form and to the uploads.

Hypothesis posts arbitrary strings (unicode, huge, `1 234,5`, NaN, inf, 1e400, negative, too many
digits) to the submission form and arbitrary files and filled-in templates to the Excel upload.
The property: never a server error (the test client re-raises one), and a refused save changes
nothing — neither the values, nor the submission's version, nor the history. The upload size
limits (Excel template, practice attachments, Django's request body limit) refuse oversized
input with a clear message.
"""

from __future__ import annotations

import datetime
import io
import os
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from indicators import selectors
from indicators.models import DataItem, Submission, SubmissionEvent, Value
from indicators.services import excel
from indicators.services.excel import HEADER_ROW, MISSING_COLUMN, VALUE_COLUMN
from indicators.tests.factories import SubmissionFactory, ValueFactory, data_round
from learning import services as learning_services
from learning.models import PracticeCase
from tests.test_fuzz_imports import XLSX_PARTS, damage_xlsx

# What a form field may not hold (tab and line ends may: a textarea).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# FUZZ_EXAMPLES=1000 for a longer hunt; the defaults keep the file under a minute on SQLite.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

NUMBERISH = st.one_of(
    st.sampled_from(
        [
            "",
            "12",
            "-5",
            "1 234,5",
            "1\u00a0234,5",
            "1.234,5",
            "1,234.5",
            "12,5",
            "NaN",
            "nan",
            "inf",
            "-Infinity",
            "1e400",
            "-1e400",
            "1e-400",
            "0E-1000",
            "99999999999999999999999",
            "12345678901234567890.1234567890123456",
            "0." + "1" * 5000,
            "9" * 100_000,
            "=1+1",
            "١٢٣",  # Arabic-Indic digits
            "\uff11\uff12",  # full-width digits
            "\x00",
            "0x1F",
            "1_000",
        ]
    ),
    st.text(max_size=40),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.integers().map(str),
)
FREE_TEXT = st.one_of(
    st.text(max_size=60), st.sampled_from(["", "x" * 5000, "Āžēļš\u202e", "<script>alert(1)</script>"])
)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def entry(world):
    """A's draft submission of an open round: DWELLINGS 7 already saved (QUEUE empty)."""
    round_ = data_round(world, others=0)
    submission = SubmissionFactory(round=round_, municipality=world.a, status=Submission.Status.DRAFT)
    ValueFactory(submission=submission, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal(7))
    return world, round_, submission


def _state(submission: Submission) -> tuple:
    submission.refresh_from_db()
    values = sorted(
        Value.objects.filter(submission=submission).values_list(
            "item_id", "number", "is_missing", "missing_reason", "explanation"
        )
    )
    return submission.version, submission.status, values, Value.history.count(), SubmissionEvent.objects.count()


@st.composite
def form_posts(draw) -> dict:
    items = list(DataItem.objects.filter(code__in=["DWELLINGS", "QUEUE", "AREA"]).order_by("code"))
    data: dict = {"action": draw(st.sampled_from(["save", "submit", "", "delete"]))}
    for item in items:
        data[f"value_{item.pk}"] = draw(NUMBERISH)
        if draw(st.booleans()):
            data[f"missing_{item.pk}"] = draw(st.sampled_from(["on", "", "yes", "\x00"]))
        data[f"reason_{item.pk}"] = draw(FREE_TEXT)
        data[f"explanation_{item.pk}"] = draw(FREE_TEXT)
    data["_version"] = draw(st.sampled_from(["current", "old", "-1", "abc", "", "9" * 30]))
    return data


@FUZZ
@given(data=form_posts())
@example(
    data={"action": "save", "_version": "current", "value_DWELLINGS": "12345678901234567890.1234567890123456"}
)  # used to be a 500: decimal.InvalidOperation in the 15-decimals check
@example(data={"action": "save", "_version": "current", "value_DWELLINGS": "1e400"})
@example(data={"action": "submit", "_version": "current", "value_DWELLINGS": "-5"})
def test_the_staff_form_never_fails_and_a_refused_save_changes_nothing(entry, data):
    world, round_, submission = entry
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.DRAFT)  # an earlier example submitted
    data = dict(data)
    dwellings = DataItem.objects.get(code="DWELLINGS")
    for key in [k for k in data if k.endswith("_DWELLINGS")]:  # @example uses codes: the ids differ per database
        data[key.replace("DWELLINGS", str(dwellings.pk))] = data.pop(key)
    before = _state(submission)
    version = data.pop("_version")
    data["version"] = {"current": before[0], "old": before[0] - 1}.get(version, version)

    url = reverse("indicators:submission_form", args=[round_.pk, world.a.code])
    response = world.client("staff_a").post(url, data)  # a 500 raises here

    assert response.status_code in (200, 302, 400, 409), response.status_code
    if response.status_code == 400:
        # Control characters are refused before the form sees them (benchlearning/middleware.py).
        assert any(CONTROL.search(str(value)) for value in data.values())
    page = response.content.decode() if response.status_code != 302 else ""
    refused = response.status_code in (400, 409) or "Nothing was saved" in page
    if refused:
        assert _state(submission) == before
    elif response.status_code == 200:
        # Saved as a draft, but the submission itself was refused (a problem is listed).
        assert "saved as a draft" in page


def _template(submission: Submission) -> bytes:
    return excel.template_build(
        submission=submission,
        items=selectors.round_items(round=submission.round),
        values=selectors.submission_values(submission=submission),
        previous=selectors.previous_values(submission=submission),
    )


CELL_VALUES = st.one_of(
    NUMBERISH,
    st.integers(),
    st.floats(),
    st.booleans(),
    st.none(),
    st.just(datetime.datetime(2024, 1, 1, 12, 30)),  # noqa: DTZ001 - Excel cells have no time zone
    st.just(datetime.date(2024, 1, 1)),
    st.sampled_from(["=cmd|' /C calc'!A0", "=1/0", "=A1", "#DIV/0!"]),
)


@st.composite
def uploads(draw, template: bytes) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["filled", "filled", "filled", "truncated", "damaged", "random", "empty", "marker"]))
    name = draw(st.sampled_from(["template.xlsx", "TEMPLATE.XLSX", "template.csv", "template", "t.xlsx.exe"]))
    if kind == "random":
        return name, draw(st.binary(max_size=800))
    if kind == "empty":
        return name, b""
    if kind == "damaged":
        part = draw(st.sampled_from(XLSX_PARTS))
        return name, damage_xlsx(template, part, draw(st.sampled_from([0, 0.1, 0.5, 0.9])))
    if kind == "truncated":
        # A share of the file, not a byte count: the template's length varies (its timestamp).
        return name, template[: len(template) * draw(st.integers(min_value=0, max_value=999)) // 1000]
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    if kind == "marker":  # someone edited the hidden column
        sheet["A1"] = draw(st.sampled_from(["", "benchlearning-template:0:0", "benchlearning-template:x:1", None]))
    for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + draw(st.integers(min_value=0, max_value=6))):
        value = draw(CELL_VALUES)
        if isinstance(value, str):  # what Excel can store: no control characters
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        sheet.cell(row=row, column=VALUE_COLUMN).value = value
        if draw(st.booleans()):
            sheet.cell(row=row, column=MISSING_COLUMN).value = draw(st.sampled_from(["", "not collected", 5]))
        if draw(st.booleans()):
            sheet.cell(row=row, column=1).value = draw(st.sampled_from(["", "NOPE", "DWELLINGS", "POPULATION"]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return name, buffer.getvalue()


@settings(FUZZ, max_examples=max(EXAMPLES // 2, 1))  # each example builds and reads a workbook
@given(data=st.data())
def test_the_excel_upload_never_fails_and_never_saves(entry, data):
    world, round_, submission = entry
    name, content = data.draw(uploads(_template(submission)))
    before = _state(submission)
    url = reverse("indicators:excel_upload", args=[round_.pk, world.a.code])
    response = world.client("staff_a").post(url, {"file": SimpleUploadedFile(name, content)})
    assert response.status_code in (200, 400, 409), response.status_code
    if response.status_code == 400:
        page = response.content.decode()
        assert "invalid-feedback" in page or "Nothing" in page or "problem" in page.lower(), page[:3000]
    assert _state(submission) == before, "the upload only previews; nothing is saved before the commit"


def test_too_many_digits_in_a_template_cell_are_a_problem_not_a_server_error(entry):
    """Regression: 20 digits before and 16 after the point used to raise decimal.InvalidOperation."""
    world, round_, submission = entry
    workbook = load_workbook(io.BytesIO(_template(submission)))
    sheet = workbook.worksheets[0]
    row = next(r for r in range(HEADER_ROW + 1, sheet.max_row + 1) if sheet.cell(row=r, column=1).value == "DWELLINGS")
    sheet.cell(row=row, column=VALUE_COLUMN).value = "12345678901234567890.1234567890123456"
    buffer = io.BytesIO()
    workbook.save(buffer)
    url = reverse("indicators:excel_upload", args=[round_.pk, world.a.code])
    response = world.client("staff_a").post(url, {"file": SimpleUploadedFile("template.xlsx", buffer.getvalue())})
    assert response.status_code == 400
    assert "at most 15 digits after the decimal point" in response.content.decode()


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_a_template_with_a_missing_part_is_refused_not_a_server_error(entry, part):
    """Regression: a workbook listing no sheet used to raise IndexError (a 500)."""
    world, round_, submission = entry
    content = damage_xlsx(_template(submission), part, 0)
    url = reverse("indicators:excel_upload", args=[round_.pk, world.a.code])
    response = world.client("staff_a").post(url, {"file": SimpleUploadedFile("template.xlsx", content)})
    assert response.status_code == 400
    assert "The file is not a readable XLSX workbook." in response.content.decode()


def test_an_oversized_template_is_refused_with_a_clear_message(entry):
    world, round_, submission = entry
    before = _state(submission)
    big = SimpleUploadedFile("template.xlsx", _template(submission) + b"\0" * excel.MAX_UPLOAD_BYTES)
    url = reverse("indicators:excel_upload", args=[round_.pk, world.a.code])
    response = world.client("staff_a").post(url, {"file": big})
    assert response.status_code == 400
    assert "The file is larger than 5 MB." in response.content.decode()
    assert _state(submission) == before


def test_an_oversized_practice_attachment_is_refused_at_the_default_limit(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    limit = learning_services.attachment_max_bytes()
    assert limit == 10 * 1024 * 1024  # the limit the form's help text announces
    pdf = b"%PDF-1.4\n" + b"x" * limit  # one page of header over the limit
    data = {
        "network": world.network.pk,
        "municipality": world.a.pk,
        "title": "Rindas samazināšana",
        "summary": "Kā mēs saīsinājām rindu.",
        "text": "Pilns stāsts.",
        "files": [SimpleUploadedFile("parskats.pdf", pdf, content_type="application/pdf")],
    }
    response = world.client("staff_a").post(reverse("learning:practice_new"), data)
    assert response.status_code == 200
    assert "parskats.pdf is too large (10.0\xa0MB); the limit is 10.0\xa0MB." in response.content.decode()
    assert not PracticeCase.objects.exists()
    assert not any((tmp_path / "media").rglob("*.*"))


def test_a_form_body_over_the_request_limit_is_a_400_not_a_500(entry, settings):
    world, round_, submission = entry
    before = _state(submission)
    dwellings = DataItem.objects.get(code="DWELLINGS")
    url = reverse("indicators:submission_form", args=[round_.pk, world.a.code])
    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = world.client("staff_a").post(
        url, {"version": before[0], f"value_{dwellings.pk}": "8", f"explanation_{dwellings.pk}": huge}
    )
    assert response.status_code == 400
    assert _state(submission) == before
