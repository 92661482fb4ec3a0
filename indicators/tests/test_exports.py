"""Exports of a round's values: CSV and XLSX, formula injection neutralised, access by role."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from indicators.models import Round, Submission
from indicators.tests.factories import SubmissionFactory, ValueFactory, data_round
from networks.tabular import neutralise


@pytest.fixture
def round_(world):
    round_ = data_round(world)
    submission = SubmissionFactory(round=round_, municipality=world.a, status=Submission.Status.APPROVED)
    from indicators.models import DataItem

    ValueFactory(
        submission=submission,
        item=DataItem.objects.get(code="DWELLINGS"),
        number=Decimal("1234.5"),
        explanation='=HYPERLINK("http://evil.example")',
    )
    ValueFactory(
        submission=submission,
        item=DataItem.objects.get(code="QUEUE"),
        number=None,
        is_missing=True,
        missing_reason="@SUM(A1)",
    )
    return round_


def url(round_, fmt: str) -> str:
    return reverse("indicators:round_values_export", args=[round_.pk, fmt])


def read_csv(response) -> list[dict]:
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the letters right
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_coordinator_gets_every_value_with_its_status(world, round_):
    rows = read_csv(world.client("coordinator").get(url(round_, "csv")))
    assert len(rows) == 7  # five submitted values of other members and A's two approved ones
    mine = {r["item_code"]: r for r in rows if r["municipality_code"] == world.a.code}
    assert mine["DWELLINGS"]["value"] == "1234.5"
    assert mine["DWELLINGS"]["status"] == "approved"
    assert mine["QUEUE"]["value"] == "" and mine["QUEUE"]["missing_reason"] == "'@SUM(A1)"


def test_a_missing_value_keeps_the_offices_status_marker(world, round_):
    from indicators.models import Value

    Value.objects.filter(item__code="QUEUE", submission__municipality=world.a).update(missing_status="-")
    rows = read_csv(world.client("coordinator").get(url(round_, "csv")))
    mine = {r["item_code"]: r for r in rows if r["municipality_code"] == world.a.code}
    assert mine["QUEUE"]["missing_status"] == "-"  # nil, written as the office writes it
    assert mine["DWELLINGS"]["missing_status"] == ""


def test_cells_beginning_with_formula_characters_are_neutralised(world, round_):
    rows = read_csv(world.client("coordinator").get(url(round_, "csv")))
    explanation = next(r["explanation"] for r in rows if r["explanation"])
    assert explanation.startswith("'=")
    for text, expected in (("=1+1", "'=1+1"), ("+3", "'+3"), ("-x", "'-x"), ("@a", "'@a"), ("ok", "ok")):
        assert neutralise(text) == expected


def test_xlsx_export_has_numbers_and_no_formulas(world, round_):
    response = world.client("coordinator").get(url(round_, "xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("network", "period", "municipality_code")
    a_rows = [dict(zip(header, r, strict=True)) for r in rows[1:] if r[2] == world.a.code]
    assert {r["item_code"]: r["value"] for r in a_rows}["DWELLINGS"] == 1234.5
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_members_get_approved_values_only(world, round_):
    rows = read_csv(world.client("viewer_a").get(url(round_, "csv")))
    assert {r["status"] for r in rows} == {"approved"}
    assert len(rows) == 2


@pytest.mark.parametrize("persona", ["outsider", "anonymous"])
def test_outsiders_see_nothing_before_publication(world, round_, persona):
    assert world.client(persona).get(url(round_, "csv")).status_code == 403


def test_public_network_published_round_is_open_to_everyone(world, round_):
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.PUBLISHED)
    rows = read_csv(world.client("anonymous").get(url(round_, "csv")))
    assert {r["status"] for r in rows} == {"approved"}


def test_another_networks_coordinator_sees_only_what_the_public_sees(world, round_):
    from indicators.tests.factories import PeriodFactory, RoundFactory

    other = RoundFactory(network=world.other_network, period=PeriodFactory(label="2023"))
    assert world.client("coordinator").get(url(other, "csv")).status_code == 403
    assert world.client("staff_a").get(url(other, "csv")).status_code == 403


def test_unknown_round_or_format_is_404(world, round_):
    client = world.client("coordinator")
    assert client.get(reverse("indicators:round_values_export", args=[999999, "csv"])).status_code == 404
    assert client.get(url(round_, "pdf")).status_code == 404


def test_export_query_count(world, round_, django_assert_max_num_queries):
    client = world.client("coordinator")
    with django_assert_max_num_queries(8):
        assert client.get(url(round_, "xlsx")).status_code == 200
