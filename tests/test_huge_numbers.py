"""A 5,000-digit number wherever a number is read from a person: a clear error, never a crash.

Forms (the staff's values, the coordinator's indicator) and import files (values as CSV, which
PostgreSQL reads with COPY and checks in SQL, and as XLSX; the catalogue). The Excel template
upload is covered in tests/test_fuzz_forms.py.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook

from indicators.models import DataItem, Indicator, Value
from indicators.tests.factories import DataItemFactory, IndicatorFactory, NetworkIndicatorFactory, data_round

HUGE = "9" * 5000
TINY = "0." + "0" * 4998 + "1"  # 5,000 digits after the point
LONG_FRACTION = "0." + "1" * 20_000  # beyond PostgreSQL numeric's 16,383 digits after the point


def failing_command(name: str, *args: str) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(name, *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (HUGE, "line 2: DWELLINGS: the number is too large"),
        (TINY, "line 2: DWELLINGS: at most 15 digits after the decimal point"),
        (LONG_FRACTION, "line 2: a cell is longer than 10000 characters"),
    ],
)
def test_import_values_csv_names_the_number(world, tmp_path, number, message):
    DataItemFactory(code="DWELLINGS")
    path = tmp_path / "values.csv"
    path.write_text(f"municipality_code,item_code,period,value,note\n{world.a.code},DWELLINGS,2024,{number},\n")
    assert message in failing_command("import_values", str(path), "--network", "T")
    assert not Value.objects.exists()


def test_import_values_xlsx_names_the_number(world, tmp_path):
    DataItemFactory(code="DWELLINGS")
    book = Workbook()
    book.active.append(["municipality_code", "item_code", "period", "value", "note"])
    book.active.append([world.a.code, "DWELLINGS", "2024", HUGE, ""])
    path = tmp_path / "values.xlsx"
    book.save(path)
    assert "line 2: DWELLINGS: the number is too large" in failing_command("import_values", str(path), "--network", "T")


@pytest.mark.parametrize(
    ("column", "number", "message"),
    [
        ("min", HUGE, "min: the number is too large"),
        ("max", TINY, "max: at most 15 digits after the decimal point"),
        ("weight", HUGE, "weight: the number is too large"),
        ("decimals", HUGE, "decimals must be a whole number from 0 to 15"),
        ("decimals", "\u00b2", "decimals must be a whole number from 0 to 15"),  # ² is a digit to isdigit()
    ],
)
def test_import_catalogue_names_the_number(world, tmp_path, column, number, message):
    columns = ["code", "kind", "name", "min", "max", "weight", "decimals", "networks"]
    row = {"code": "X", "kind": "item" if column in ("min", "max") else "indicator", "name": "X", "networks": "T"}
    row[column] = number
    path = tmp_path / "catalogue.csv"
    path.write_text(",".join(columns) + "\n" + ",".join(row.get(c, "") for c in columns) + "\n")
    assert f"line 2: {message}" in failing_command("import_catalogue", str(path))
    assert not DataItem.objects.exists() and not Indicator.objects.exists()


def test_the_staff_form_refuses_the_number_and_saves_nothing(world):
    round_ = data_round(world, others=0)
    item = DataItem.objects.get(code="DWELLINGS")
    url = reverse("indicators:submission_form", args=[round_.pk, world.a.code])
    response = world.client("staff_a").post(
        url, {"version": 0, "action": "save", f"value_{item.pk}": HUGE}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "Nothing was saved" in response.content.decode()
    assert not Value.objects.exists()


@pytest.mark.parametrize(
    ("field", "number", "message"),
    [
        ("weight", HUGE, "Ensure that there are no more than"),
        ("decimals", HUGE, "Enter a whole number"),
        ("formula", f"DWELLINGS * {HUGE}", "number too large at position 13"),
    ],
)
def test_the_indicator_form_refuses_the_number(world, field, number, message):
    DataItemFactory(code="DWELLINGS")
    indicator = IndicatorFactory(code="A1", formula="DWELLINGS", weight=Decimal(1))
    NetworkIndicatorFactory(network=world.network, indicator=indicator)
    data = {"name": "A1", "decimals": 1, "polarity": "higher", "formula": "DWELLINGS", "weight": 1, field: number}
    url = reverse("indicators:coordination_indicator_edit", kwargs={"code": "T", "indicator_code": "A1"})
    response = world.client("coordinator").post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    indicator.refresh_from_db()
    assert (indicator.formula, indicator.weight, indicator.decimals) == ("DWELLINGS", Decimal(1), 1)
