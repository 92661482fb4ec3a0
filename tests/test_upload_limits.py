"""Upload limits beyond each form's own checks: a request body too large for any form is refused
before it is read, and an XLSX that would unpack to hundreds of megabytes is refused before
openpyxl unpacks it (the import commands and the Excel template upload alike)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse
from openpyxl import Workbook

from indicators.models import Value
from indicators.tests.factories import data_round
from networks import tabular
from networks.tabular import ImportFailed, read_table


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def workbook_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def inflated(content: bytes, extra_bytes: int) -> bytes:
    """The workbook with one more part of ``extra_bytes`` zeros: tiny compressed, huge unpacked."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr("xl/media/padding.bin", b"\0" * extra_bytes)
    return out.getvalue()


def test_a_request_body_over_the_limit_is_refused_unread(world, settings):
    settings.MAX_REQUEST_BYTES = 1024 * 1024
    round_ = data_round(world)
    url = reverse("indicators:excel_upload", args=[round_.pk, world.a.code])
    client = world.client("staff_a")
    response = client.post(url, {"file": io.BytesIO(b"x")}, CONTENT_LENGTH=str(2 * 1024 * 1024))
    assert response.status_code == 413
    assert "at most 1 MB" in response.content.decode()
    # Under the limit the form itself answers (here: not an .xlsx file).
    small = io.BytesIO(b"code,value\n")
    small.name = "values.csv"
    assert client.post(url, {"file": small}).status_code == 400


def test_the_default_limit_admits_the_largest_legitimate_upload(settings):
    from learning.services import MAX_ATTACHMENTS_PER_CASE, attachment_max_bytes

    assert MAX_ATTACHMENTS_PER_CASE * attachment_max_bytes() < settings.MAX_REQUEST_BYTES


def test_an_xlsx_that_unpacks_too_far_is_refused_by_the_imports(monkeypatch):
    monkeypatch.setattr(tabular, "XLSX_MAX_UNPACKED_BYTES", 1024 * 1024)
    content = workbook_bytes([["code", "name"], ["LV1", "Ādaži"]])
    assert read_table(content, name="municipalities.xlsx").columns == ["code", "name"]
    bomb = inflated(content, 2 * 1024 * 1024)
    assert len(bomb) < 64 * 1024  # small on the wire
    with pytest.raises(ImportFailed) as failure:
        read_table(bomb, name="municipalities.xlsx")
    assert "unpacks to more than 1 MB" in str(failure.value.errors[0])


def test_an_xlsx_that_unpacks_too_far_is_refused_by_the_template_upload(world, monkeypatch):
    from indicators.services import excel

    monkeypatch.setattr(excel, "XLSX_MAX_UNPACKED_BYTES", 1024 * 1024)
    monkeypatch.setattr(tabular, "XLSX_MAX_UNPACKED_BYTES", 1024 * 1024)
    round_ = data_round(world)
    client = world.client("staff_a")
    template = client.get(reverse("indicators:excel_template", args=[round_.pk, world.a.code])).content
    bomb = io.BytesIO(inflated(template, 2 * 1024 * 1024))
    bomb.name = "template.xlsx"
    before = Value.objects.count()
    response = client.post(reverse("indicators:excel_upload", args=[round_.pk, world.a.code]), {"file": bomb})
    assert response.status_code == 400
    assert "unpacks to more than 1 MB" in response.content.decode()
    assert Value.objects.count() == before
