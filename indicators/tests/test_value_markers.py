"""A statistics office's marker in a value cell (`…`/`...`, `-`, `.`, `..`): a missing value with
that status, in import_values (both paths) and in the Excel template upload (docs/official.md)."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from indicators.models import DataItem, MissingStatus, Submission, Value
from indicators.services.excel import MISSING_COLUMN, VALUE_COLUMN
from indicators.tests.factories import DataItemFactory, SubmissionFactory, ValueFactory, data_round
from indicators.tests.test_excel import rows_by_code, upload, urls
from networks.tabular import ImportFailed

HEADER = "municipality_code,item_code,period,value,note\n"


@pytest.fixture
def items(db):
    return {code: DataItemFactory(code=code, min_value=Decimal(0)) for code in ("DWELLINGS", "POPULATION", "BEDS")}


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "values.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _by_file(path: Path, network):
    from indicators.services.imports import values_import_file

    return values_import_file(path, network=network)


def _by_table(path: Path, network):
    from indicators.services.imports import REQUIRED_COLUMNS, values_import
    from networks.tabular import read_table

    return values_import(table=read_table(path, required=REQUIRED_COLUMNS), network=network)


def _values(network) -> set[tuple]:
    return set(
        Value.objects.filter(submission__round__network=network).values_list(
            "submission__municipality__code",
            "item__code",
            "number",
            "is_missing",
            "missing_reason",
            "missing_status",
            "explanation",
        )
    )


def _markers_file(world) -> str:
    a, b = world.a.code, world.b.code
    return HEADER + (
        f"{a},DWELLINGS,2024,…,\n"
        f"{a},POPULATION,2024,...,\n"
        f"{a},BEDS,2024,-,\n"
        f"{b},DWELLINGS,2024,.,\n"
        f"{b},POPULATION,2024, .. ,konfidenciāli (mazāk par 3 personām)\n"
        f"{b},BEDS,2024,12,\n"
    )


def test_markers_become_missing_values_with_their_status_on_both_paths(world, items, tmp_path, monkeypatch):
    from django.db import connection

    from indicators.services import import_checks

    checked = []
    real_check = import_checks.RowChecker.check
    monkeypatch.setattr(
        import_checks.RowChecker, "check", lambda self, data: checked.append(data) or real_check(self, data)
    )
    path = _file(tmp_path, _markers_file(world))
    with translation.override("en"):
        by_file = _by_file(path, world.network)
        # On PostgreSQL the plain file's markers are read by SQL (import_csv), not row by row.
        assert len(checked) == (0 if connection.vendor == "postgresql" else 6)
        by_table = _by_table(path, world.other_network)
    assert (by_file.created, by_table.created) == (6, 6)
    assert _values(world.network) == _values(world.other_network)
    a, b = world.a.code, world.b.code
    assert _values(world.network) == {
        (a, "DWELLINGS", None, True, "… not available", "…", ""),
        (a, "POPULATION", None, True, "… not available", "…", ""),
        (a, "BEDS", None, True, "- nil (none exists)", "-", ""),
        (b, "DWELLINGS", None, True, ". not applicable", ".", ""),
        (b, "POPULATION", None, True, "konfidenciāli (mazāk par 3 personām)", "..", ""),
        (b, "BEDS", Decimal(12), False, "", "", ""),
    }
    # The history has the status too, like a value from import_official.
    assert set(Value.history.filter(item__code="BEDS", is_missing=True).values_list("missing_status", flat=True)) == {
        "-"
    }


def test_reimporting_markers_changes_nothing_and_a_number_replaces_a_marker(world, items, tmp_path):
    path = _file(tmp_path, _markers_file(world))
    _by_file(path, world.network)
    history = Value.history.count()
    again = _by_file(path, world.network)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert Value.history.count() == history
    _by_file(_file(tmp_path, HEADER + f"{world.a.code},BEDS,2024,3,\n"), world.network)
    beds = Value.objects.get(
        submission__municipality=world.a, item__code="BEDS", submission__round__network=world.network
    )
    assert (beds.number, beds.is_missing, beds.missing_reason, beds.missing_status) == (Decimal(3), False, "", "")


def test_a_marker_replaces_a_number_with_history(world, items, tmp_path):
    _by_file(_file(tmp_path, HEADER + f"{world.a.code},BEDS,2024,3,\n"), world.network)
    report = _by_file(_file(tmp_path, HEADER + f"{world.a.code},BEDS,2024,..,\n"), world.network)
    assert report.updated == 1
    beds = Value.objects.get(item__code="BEDS")
    assert beds.number is None and beds.is_missing and beds.missing_status == ".."
    assert Value.history.filter(history_type="~", missing_status="..").count() == 1


def test_what_only_looks_like_a_marker_is_refused_by_its_line_on_both_paths(world, items, tmp_path):
    a = world.a.code
    text = HEADER + (
        f"{a},DWELLINGS,2024,…,\n"  # line 2: fine
        f"{a},POPULATION,2024,. .,\n"  # line 3: not a marker, not a number
        f"{a},BEDS,2024,--,\n"  # line 4: not a marker
        f"{world.b.code},BEDS,2024,....,\n"  # line 5: not a marker
    )
    path = _file(tmp_path, text)
    messages = []
    for call in (_by_file, _by_table):
        with translation.override("en"):
            with pytest.raises(ImportFailed) as failure:
                call(path, world.network)
            messages.append([str(error) for error in failure.value.errors])
    assert messages[0] == messages[1]
    assert [message.split(":")[0] for message in messages[0]] == ["line 3", "line 4", "line 5"]
    assert not Value.objects.exists() and not Submission.objects.exists()


def test_the_command_imports_markers(world, items, tmp_path):
    path = _file(tmp_path, HEADER + f"{world.a.code},DWELLINGS,2024,-,\n")
    call_command("import_values", str(path), "--network", "T", stdout=io.StringIO(), stderr=io.StringIO())
    assert Value.objects.get().missing_status == "-"
    bad = _file(tmp_path, HEADER + f"{world.a.code},DWELLINGS,2024,-,\n{world.a.code},BEDS,2024,,\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_values", str(bad), "--network", "T", stdout=io.StringIO(), stderr=err)
    assert "line 3:" in err.getvalue()


def test_every_status_has_its_marker():
    assert {MissingStatus.from_marker(status) for status in MissingStatus.values} == set(MissingStatus.values)
    assert MissingStatus.from_marker("...") == "…"
    assert MissingStatus.from_marker("0") == ""


# --- the Excel template ------------------------------------------------------------------------


@pytest.fixture
def english(settings):
    settings.LANGUAGE_CODE = "en"


def test_a_marker_in_the_excel_template_is_a_missing_value_with_its_status(world, english):
    round_ = data_round(world)
    client = world.client("staff_a")
    response = client.get(urls(round_, world.a)["template"])
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    rows = rows_by_code(sheet)
    sheet.cell(row=rows["DWELLINGS"], column=VALUE_COLUMN).value = "…"
    sheet.cell(row=rows["QUEUE"], column=VALUE_COLUMN).value = ".."
    sheet.cell(row=rows["QUEUE"], column=MISSING_COLUMN).value = "fewer than three people"
    sheet.cell(row=rows["AREA"], column=VALUE_COLUMN).value = ". ."  # not a marker
    response = upload(client, round_, world.a, workbook)
    assert response.status_code == 400
    assert "is not a number" in response.content.decode()
    sheet.cell(row=rows["AREA"], column=VALUE_COLUMN).value = 5
    response = upload(client, round_, world.a, workbook)
    assert "missing: … not available" in response.content.decode()
    response = client.post(urls(round_, world.a)["commit"])
    assert response.status_code == 302
    submission = Submission.objects.get(round=round_, municipality=world.a)
    values = {v.item.code: v for v in submission.values.select_related("item")}
    assert (values["DWELLINGS"].missing_status, values["DWELLINGS"].missing_reason) == ("…", "… not available")
    assert (values["QUEUE"].missing_status, values["QUEUE"].missing_reason) == ("..", "fewer than three people")
    assert values["QUEUE"].is_missing and values["QUEUE"].number is None

    # The next template shows the marker again, and uploading it unchanged changes nothing.
    response = client.get(urls(round_, world.a)["template"])
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    assert sheet.cell(row=rows_by_code(sheet)["QUEUE"], column=VALUE_COLUMN).value == ".."
    queue = f"F{rows_by_code(sheet)['QUEUE']}"
    # Excel lets the markers be typed in the value cell besides a number in range.
    assert any(
        v.type == "custom" and queue in str(v.sqref) and f'{queue}="-"' in v.formula1 and f'{queue}="…"' in v.formula1
        for v in sheet.data_validations.dataValidation
    )
    response = upload(client, round_, world.a, workbook)
    assert 'class="excel-change"' not in response.content.decode()


def test_a_template_of_a_value_without_a_status_keeps_the_value_cell_empty(world, english):
    round_ = data_round(world)
    submission = SubmissionFactory(round=round_, municipality=world.a)
    item = DataItem.objects.get(code="QUEUE")
    ValueFactory(submission=submission, item=item, number=None, is_missing=True, missing_reason="nav")
    response = world.client("staff_a").get(reverse("indicators:excel_template", args=[round_.pk, world.a.code]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    row = rows_by_code(sheet)["QUEUE"]
    assert sheet.cell(row=row, column=VALUE_COLUMN).value is None
    assert sheet.cell(row=row, column=MISSING_COLUMN).value == "nav"
