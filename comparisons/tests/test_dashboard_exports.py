"""CSV and XLSX downloads of every table a dashboard shows; formulas in cells neutralised."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from comparisons.reports import table_csv, table_xlsx
from networks.tabular import neutralise

from .dashboard_fixtures import dashboard_data

TABLES = {
    "overview": ("comparisons:overview", {"network": "T"}, ["heatmap", "composite"]),
    "map": ("comparisons:map", {"network": "T"}, ["map"]),
    "indicator": ("comparisons:indicator", {"network": "T", "indicator": "SOC"}, ["ranking", "series"]),
    "profile": ("comparisons:profile", {"network": "T", "code": "LVA000001"}, ["indicators"]),
}


@pytest.fixture
def data(world):
    return dashboard_data(world)


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.parametrize("page", sorted(TABLES))
def test_every_table_shown_can_be_downloaded(world, data, page):
    name, kwargs, slugs = TABLES[page]
    url = reverse(name, kwargs=kwargs)
    client = world.client("viewer_a")
    html = client.get(url, {"period": "2024"}).content.decode()
    for slug in slugs:
        assert f'id="table-{slug}"' in html
        assert f"export={slug}&amp;format=csv" in html and f"export={slug}&amp;format=xlsx" in html
        response = client.get(url, {"period": "2024", "export": slug, "format": "csv"})
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith('attachment; filename="t-2024-')
        rows = read_csv(response)
        assert len(rows) >= 2
        workbook = client.get(url, {"period": "2024", "export": slug, "format": "xlsx"})
        assert workbook["Content-Type"].startswith("application/vnd.openxmlformats")
        assert len(read_xlsx(workbook)) == len(rows)


def test_exported_numbers_are_exact_and_bands_are_words(world, data):
    url = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    client = world.client("viewer_a")
    rows = read_csv(client.get(url, {"period": "2024", "export": "ranking", "format": "csv"}))
    header, body = rows[0], rows[1:]
    assert len(body) == 6
    by_code = {row[0]: row for row in body}
    aizkraukle = by_code["Aizkraukles novads"]
    assert len(header) == 7 and aizkraukle[1] == "3"
    assert aizkraukle[2] == "30.0"  # point decimals, full precision
    assert aizkraukle[3] == "yellow"
    sheet = read_xlsx(client.get(url, {"period": "2024", "export": "ranking", "format": "xlsx"}))
    row = next(r for r in sheet if r[0] == "Aizkraukles novads")
    assert row[2] == 30.0 and row[1] == 3


def test_unknown_table_or_format_is_404(world, data):
    url = reverse("comparisons:overview", kwargs={"network": "T"})
    client = world.client("viewer_a")
    assert client.get(url, {"export": "nope", "format": "csv"}).status_code == 404
    assert client.get(url, {"export": "heatmap", "format": "pdf"}).status_code == 404


@pytest.mark.parametrize("persona", ["anonymous", "outsider"])
def test_unpublished_tables_cannot_be_downloaded_by_outsiders(world, data, persona):
    client = world.client(persona)
    url = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    assert client.get(url, {"period": "2025", "export": "ranking", "format": "csv"}).status_code == 403
    # Without a period they get the newest published round, never 2025's figures.
    rows = read_csv(client.get(url, {"export": "ranking", "format": "csv"}))
    assert "777.0" not in {cell for row in rows for cell in row}


def test_member_downloads_the_provisional_round(world, data):
    url = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    rows = read_csv(world.client("staff_b").get(url, {"period": "2025", "export": "ranking", "format": "csv"}))
    assert "777.0" in {cell for row in rows for cell in row}


def test_formula_like_names_are_neutralised_in_downloads(world, data):
    world.a.name = '=HYPERLINK("http://evil.example","x")'
    world.a.save()
    url = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    client = world.client("viewer_a")
    rows = read_csv(client.get(url, {"period": "2024", "export": "ranking", "format": "csv"}))
    names = [row[0] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example","x")' in names
    sheet = read_xlsx(client.get(url, {"period": "2024", "export": "ranking", "format": "xlsx"}))
    assert '\'=HYPERLINK("http://evil.example","x")' in [row[0] for row in sheet]


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_formula_prefixes(text):
    assert neutralise(text) == "'" + text


def test_numbers_and_plain_text_stay_as_they_are():
    assert neutralise(-1.5) == -1.5
    assert neutralise("Aizkraukle") == "Aizkraukle"
    body = table_csv(header=["name", "value"], rows=[["-x", -2.5], ["ok", None]]).decode("utf-8")
    assert body == "\ufeffname,value\r\n'-x,-2.5\r\nok,\r\n"
    workbook = load_workbook(
        io.BytesIO(table_xlsx(header=["v"], rows=[[1234.5]], title="t:[x]", decimals=[[1]]))
    ).active
    assert workbook["A2"].value == 1234.5 and workbook["A2"].number_format == "#,##0.0"
    assert workbook.title == "tx"
