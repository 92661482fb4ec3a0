"""Period labels: ASCII digits, years from 1900 to 2100, a clear error for anything else."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone, translation

from indicators.models import Period, Round
from indicators.services.periods import period_get_or_create
from indicators.tests.factories import DataItemFactory


@pytest.mark.parametrize(
    ("label", "kind", "start", "end"),
    [
        ("1900", "year", datetime.date(1900, 1, 1), datetime.date(1900, 12, 31)),
        ("2100", "year", datetime.date(2100, 1, 1), datetime.date(2100, 12, 31)),
        ("2100-01", "financial_year", datetime.date(2100, 4, 1), datetime.date(2101, 3, 31)),
        (" 2024-Q4 ", "quarter", datetime.date(2024, 10, 1), datetime.date(2024, 12, 31)),
    ],
)
def test_labels_within_the_years_are_periods(label, kind, start, end):
    assert Period.bounds_from_label(label) == (kind, start, end)


@pytest.mark.parametrize("label", ["9999", "1899", "2101-Q1", "0000", "0224-25"])
def test_years_outside_1900_to_2100_are_refused_with_the_range(label):
    with translation.override("en"), pytest.raises(ValueError, match="the year must be from 1900 to 2100"):
        Period.bounds_from_label(label)


@pytest.mark.parametrize("label", ["\uff12\uff10\uff12\uff14", "\u0662\u0660\u0662\u0664", "2024-\uff11\uff12"])
def test_digits_of_other_scripts_are_no_period(db, label):
    with translation.override("en"), pytest.raises(ValueError, match="is not a period label"):
        period_get_or_create(label=label)
    assert not Period.objects.exists()


def test_a_full_width_year_makes_no_second_period(db):
    period_get_or_create(label="2024")
    with pytest.raises(ValueError):
        period_get_or_create(label="\uff12\uff10\uff12\uff14")
    assert list(Period.objects.values_list("label", flat=True)) == ["2024"]


@pytest.mark.parametrize("label", ["9999", "\uff12\uff10\uff12\uff14"])
def test_the_round_open_form_refuses_the_label(world, label):
    deadline = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    response = world.client("coordinator").post(
        reverse("indicators:coordination_round_open", kwargs={"code": "T"}),
        {"period": label, "deadline": deadline},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "the year must be from 1900 to 2100" in page or "is not a period label" in page
    assert not Round.objects.exists()
    assert not Period.objects.exists()


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("9999", "line 2: 9999: the year must be from 1900 to 2100"),
        ("\uff12\uff10\uff12\uff14", "is not a period label"),
    ],
)
def test_import_values_refuses_the_label(world, tmp_path, label, message):
    DataItemFactory(code="DWELLINGS")
    path = tmp_path / "values.csv"
    path.write_text(f"municipality_code,item_code,period,value,note\n{world.a.code},DWELLINGS,{label},12,\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_values", str(path), "--network", "T", stdout=io.StringIO(), stderr=err)
    assert message in err.getvalue()
    assert not Period.objects.exists()
