"""The Excel round trip: download the template, fill it in with openpyxl, upload, preview, commit."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from indicators.models import Submission, Value
from indicators.services.excel import EXPLANATION_COLUMN, HEADER_ROW, MISSING_COLUMN, VALUE_COLUMN
from indicators.tests.factories import PeriodFactory, RoundFactory, SubmissionFactory, ValueFactory, data_round
from networks.tests.factories import MunicipalityFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def round_(world):
    return data_round(world)


def urls(round_, municipality) -> dict[str, str]:
    args = [round_.pk, municipality.code]
    return {
        "template": reverse("indicators:excel_template", args=args),
        "upload": reverse("indicators:excel_upload", args=args),
        "commit": reverse("indicators:excel_commit", args=args),
        "form": reverse("indicators:submission_form", args=args),
    }


def download(client, round_, municipality):
    response = client.get(urls(round_, municipality)["template"])
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    return load_workbook(io.BytesIO(response.content))


def rows_by_code(sheet) -> dict[str, int]:
    return {
        sheet.cell(row=row, column=1).value: row
        for row in range(HEADER_ROW + 1, sheet.max_row + 1)
        if sheet.cell(row=row, column=1).value
    }


def upload(client, round_, municipality, workbook, name: str = "template.xlsx"):
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return client.post(urls(round_, municipality)["upload"], {"file": buffer})


def test_template_is_prefilled_protected_and_hides_the_codes(world, round_):
    submission = SubmissionFactory(round=round_, municipality=world.a)
    ValueFactory(submission=submission, item=round_.network.data_items.first() or _item("AREA"), number=Decimal(12))
    sheet = download(world.client("staff_a"), round_, world.a).active
    assert sheet["A1"].value == f"benchlearning-template:{submission.pk}:{submission.version}"
    assert sheet.column_dimensions["A"].hidden
    assert sheet.protection.sheet
    rows = rows_by_code(sheet)
    assert {"DWELLINGS", "QUEUE", "AREA"} <= set(rows)
    assert "POPULATION" not in rows  # official statistics are not entered by the municipality
    dwellings = rows["DWELLINGS"]
    assert sheet.cell(row=dwellings, column=2).value == "Social dwellings"
    assert sheet.cell(row=dwellings, column=3).value == "dwellings"
    assert sheet.cell(row=dwellings, column=4).value == "Number at the end of the year."
    assert not sheet.cell(row=dwellings, column=VALUE_COLUMN).protection.locked
    assert sheet.cell(row=dwellings, column=2).protection.locked
    assert sheet.cell(row=rows["AREA"], column=VALUE_COLUMN).value == 12
    assert any("F" in str(v.sqref) for v in sheet.data_validations.dataValidation)


def _item(code):
    from indicators.models import DataItem

    return DataItem.objects.get(code=code)


def test_round_trip_download_fill_upload_preview_commit(world, round_):
    client = world.client("staff_a")
    workbook = download(client, round_, world.a)
    sheet = workbook.active
    rows = rows_by_code(sheet)
    sheet.cell(row=rows["DWELLINGS"], column=VALUE_COLUMN).value = 41
    sheet.cell(row=rows["DWELLINGS"], column=EXPLANATION_COLUMN).value = "Jauns sociālais nams"
    sheet.cell(row=rows["QUEUE"], column=MISSING_COLUMN).value = "netiek uzskaitīts"
    sheet.cell(row=rows["AREA"], column=VALUE_COLUMN).value = "1 234,5"

    response = upload(client, round_, world.a, workbook)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Preview: nothing is saved yet" in content
    assert content.count('class="excel-change"') == 3
    assert "Jauns sociālais nams" in content
    submission = Submission.objects.get(round=round_, municipality=world.a)
    assert not submission.values.exists()  # nothing saved by the preview

    response = client.post(urls(round_, world.a)["commit"])
    assert response.status_code == 302 and response["Location"] == urls(round_, world.a)["form"]
    values = {v.item.code: v for v in Value.objects.filter(submission=submission).select_related("item")}
    assert values["DWELLINGS"].number == 41 and values["DWELLINGS"].explanation == "Jauns sociālais nams"
    assert values["QUEUE"].is_missing and values["QUEUE"].missing_reason == "netiek uzskaitīts"
    assert values["AREA"].number == Decimal("1234.5")
    assert Value.history.filter(history_user=world.users["staff_a"]).count() == 3

    # The commit cannot be replayed.
    response = client.post(urls(round_, world.a)["commit"])
    assert Value.history.filter(submission_id=submission.pk).count() == 3


def test_official_figures_are_shown_locked_and_ignored_on_upload(world, round_):
    submission = SubmissionFactory(round=round_, municipality=world.a)
    ValueFactory(submission=submission, item=_item("POPULATION"), number=Decimal(18000))
    client = world.client("staff_a")
    workbook = download(client, round_, world.a)
    sheet = workbook.active
    rows = rows_by_code(sheet)
    assert sheet.cell(row=rows["POPULATION"], column=VALUE_COLUMN).value == 18000
    assert sheet.cell(row=rows["POPULATION"], column=VALUE_COLUMN).protection.locked
    sheet.cell(row=rows["POPULATION"], column=VALUE_COLUMN).value = 1  # even if someone unprotects the sheet
    sheet.cell(row=rows["DWELLINGS"], column=VALUE_COLUMN).value = 3
    response = upload(client, round_, world.a, workbook)
    assert response.status_code == 200
    client.post(urls(round_, world.a)["commit"])
    values = {v.item.code: v.number for v in submission.values.select_related("item")}
    assert values == {"POPULATION": Decimal(18000), "DWELLINGS": Decimal(3)}


def test_one_bad_cell_commits_nothing_and_names_the_cell(world, round_):
    client = world.client("staff_a")
    workbook = download(client, round_, world.a)
    sheet = workbook.active
    rows = rows_by_code(sheet)
    sheet.cell(row=rows["DWELLINGS"], column=VALUE_COLUMN).value = -3  # below the allowed minimum 0
    sheet.cell(row=rows["AREA"], column=VALUE_COLUMN).value = 50
    response = upload(client, round_, world.a, workbook)
    assert response.status_code == 400
    content = response.content.decode()
    assert f"F{rows['DWELLINGS']}" in content
    assert "below the allowed minimum" in content
    assert "Save these changes" not in content
    response = client.post(urls(round_, world.a)["commit"])
    assert not Value.objects.filter(submission__municipality=world.a).exists()


def test_formula_like_text_round_trips_as_text(world, round_):
    submission = SubmissionFactory(round=round_, municipality=world.a)
    ValueFactory(submission=submission, item=_item("AREA"), number=Decimal(5), explanation="=1+1 -- not a formula")
    client = world.client("staff_a")
    workbook = download(client, round_, world.a)
    sheet = workbook.active
    cell = sheet.cell(row=rows_by_code(sheet)["AREA"], column=EXPLANATION_COLUMN)
    assert cell.data_type == "s" and cell.value == "=1+1 -- not a formula"
    response = upload(client, round_, world.a, workbook)
    assert "The file holds no change against the saved values." in response.content.decode()


def test_text_in_a_number_cell_is_a_problem(world, round_):
    client = world.client("staff_a")
    workbook = download(client, round_, world.a)
    sheet = workbook.active
    sheet.cell(row=rows_by_code(sheet)["AREA"], column=VALUE_COLUMN).value = "daudz"
    response = upload(client, round_, world.a, workbook)
    assert response.status_code == 400
    assert "is not a number" in response.content.decode()


def test_a_stale_template_is_refused(world, round_):
    client = world.client("staff_a")
    workbook = download(client, round_, world.a)
    submission = Submission.objects.get(round=round_, municipality=world.a)
    # Someone saves through the web form after the download.
    from indicators.services.values import ValueInput, submission_values_save

    submission_values_save(
        submission=submission,
        user=world.users["staff_a"],
        values={_item("AREA").pk: ValueInput(number=Decimal(7))},
        expected_version=submission.version,
    )
    sheet = workbook.active
    sheet.cell(row=rows_by_code(sheet)["DWELLINGS"], column=VALUE_COLUMN).value = 5
    response = upload(client, round_, world.a, workbook)
    assert response.status_code == 409
    assert "out of date" in response.content.decode()
    client.post(urls(round_, world.a)["commit"])
    assert not Value.objects.filter(submission=submission, item__code="DWELLINGS").exists()


def test_another_municipalitys_template_is_rejected(world, round_):
    workbook = download(world.client("staff_b"), round_, world.b)
    response = upload(world.client("staff_a"), round_, world.a, workbook)
    assert response.status_code == 400
    assert "belongs to another municipality or round" in response.content.decode()


def test_only_xlsx_and_at_most_5_mb(world, round_):
    client = world.client("staff_a")
    csv_file = io.BytesIO(b"code,value\n")
    csv_file.name = "values.csv"
    response = client.post(urls(round_, world.a)["upload"], {"file": csv_file})
    assert response.status_code == 400
    assert ".xlsx" in response.content.decode()
    big = io.BytesIO(b"PK" + b"0" * (5 * 1024 * 1024 + 1))
    big.name = "big.xlsx"
    response = client.post(urls(round_, world.a)["upload"], {"file": big})
    assert response.status_code == 400
    assert "larger than 5 MB" in response.content.decode()
    garbage = io.BytesIO(b"not a workbook")
    garbage.name = "broken.xlsx"
    response = client.post(urls(round_, world.a)["upload"], {"file": garbage})
    assert "not a readable XLSX workbook" in response.content.decode()


@pytest.mark.parametrize("persona", ["staff_b", "viewer_a", "coordinator", "outsider", "anonymous"])
def test_only_the_municipalitys_staff_may_use_the_template(world, round_, persona):
    client = world.client(persona)
    for name in ("template", "upload"):
        response = client.get(urls(round_, world.a)[name])
        assert response.status_code in (302, 403, 404)
        if response.status_code == 302:
            assert "login" in response["Location"]
    response = client.post(urls(round_, world.a)["commit"])
    assert response.status_code in (302, 403, 404)
    assert not Submission.objects.filter(municipality=world.a).exists() or persona == "staff_a"


def test_staff_cannot_use_another_networks_municipality(world, round_):
    c_round = RoundFactory(network=world.other_network, period=PeriodFactory(label="2023"))
    response = world.client("staff_a").get(urls(c_round, world.c)["template"])
    assert response.status_code in (403, 404)


def test_submitted_submission_cannot_be_uploaded_to(world, round_):
    SubmissionFactory(round=round_, municipality=world.a, status=Submission.Status.SUBMITTED)
    assert world.client("staff_a").get(urls(round_, world.a)["upload"]).status_code == 403


def test_unknown_round_or_municipality_is_404(world, round_):
    client = world.client("staff_a")
    assert client.get(reverse("indicators:excel_template", args=[999999, world.a.code])).status_code == 404
    MunicipalityFactory(code="LVQ000009")
    assert client.get(reverse("indicators:excel_template", args=[round_.pk, "NOPE"])).status_code == 404


def test_template_download_query_count(world, round_, django_assert_max_num_queries):
    client = world.client("staff_a")
    client.get(urls(round_, world.a)["template"])  # creates the submission
    with django_assert_max_num_queries(12):
        assert client.get(urls(round_, world.a)["template"]).status_code == 200
