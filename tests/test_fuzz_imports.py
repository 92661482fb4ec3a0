"""Hostile files fed to every import command (all or nothing, docs/architecture.md).

Hypothesis builds CSV and XLSX bytes the way real files go wrong: random bytes, cp1257 or
UTF-16 instead of UTF-8, BOMs, huge cells, `=cmd` formulas, wrong types, duplicate rows,
unknown codes, empty files, a header only, truncated XLSX archives, mixed separators. The
property: the command either succeeds or stops with a CommandError that names the file, after
reporting every problem as `<file>: line N: ...` (or a file-level message) — never any other
exception — and a refused file leaves the database exactly as it was (rows and history rows).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from indicators.tests.factories import DataItemFactory, IndicatorFactory, NetworkIndicatorFactory

# FUZZ_EXAMPLES=1000 for a longer hunt; the default keeps the file under a minute on SQLite.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The contract columns of each command plus one column outside it.
COLUMNS = {
    "import_municipalities": [
        "code",
        "name",
        "name_en",
        "kind",
        "region",
        "valid_from",
        "valid_to",
        "successor_code",
        "population",
    ],
    "import_networks": ["code", "name", "name_en", "public", "members", "theme", "colour"],
    "import_catalogue": [
        "code",
        "kind",
        "name",
        "name_en",
        "unit",
        "decimals",
        "polarity",
        "formula",
        "min",
        "max",
        "influence",
        "in_index",
        "weight",
        "networks",
        "definition",
    ],
    "import_values": ["municipality_code", "item_code", "period", "value", "note"],
    "import_peer_groups": ["group", "municipality_code"],
    # A statistics office's table: label columns, then years.
    "import_official": ["Territorial unit", "Indicator", "Time period", "2024", "2025", "value"],
}
EXTRA_ARGS = {"import_values": ["--network", "T"], "import_official": ["--item", "POP"]}
APPS = ("networks", "indicators", "comparisons", "learning")

# Cells a user could plausibly (or maliciously) put in any column.
PLAUSIBLE = st.sampled_from(
    [
        "",
        "LVA000001",
        "LVB000002",
        "LVC000003",
        "LVX999999",
        "T",
        "U",
        "NOPE",
        "POP",
        "AREA",
        "IND_X",
        "item",
        "indicator",
        "2024",
        "2025-Q1",
        "2024-13",
        "yes",
        "no",
        "maybe",
        "*",
        "LVA000001 LVB000002",
        "POP / AREA",
        "POP / (AREA - AREA)",
        "__import__('os')",
        "1 234,5",
        "1.234,5",
        "1e400",
        "-1e400",
        "NaN",
        "inf",
        "-0",
        "-5",
        "99999999999999999999999999999999999999",
        "0.0000000000000000001",
        "12345678901234567890.1234567890123456",
        "2021-07-01",
        "31.02.2021",
        "01.07.2021",
        "higher",
        "lower",
        "neutral",
        "=cmd|' /C calc'!A0",
        "+SUM(A1:A9)",
        '@HYPERLINK("http://x")',
        "-2+3",
        "Āžēļš ķirsis",
        "x" * 10_001,
        "y" * 300,
        "\u202e\u0000",
        "a\nb",
        '"',
    ]
)
CELL = st.one_of(PLAUSIBLE, PLAUSIBLE, st.text(max_size=30))
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1257", "utf-16", "latin-1"])


@st.composite
def tables(draw, command: str) -> tuple[list[str], list[list[str]]]:
    contract = COLUMNS[command]
    header = draw(st.lists(st.sampled_from(contract), min_size=1, max_size=len(contract) + 1))
    if draw(st.booleans()):  # usually the columns the command requires, in some order
        header = list(dict.fromkeys(contract[:2] + header))
    rows = draw(st.lists(st.lists(CELL, max_size=len(header) + 1), max_size=6))
    if rows and draw(st.booleans()):
        rows.append(list(draw(st.sampled_from(rows))))  # a duplicate row
    return header, rows


def _csv_bytes(header: list[str], rows: list[list[str]], *, encoding: str, delimiter: str, mixed: bool) -> bytes:
    buffer = io.StringIO()
    if mixed:  # a file pasted together from two sources: `,` here, `;` there, no quoting
        lines = [header, *rows]
        buffer.write("\n".join((";" if i % 2 else ",").join(cells) for i, cells in enumerate(lines)))
    else:
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")


def _xlsx_bytes(header: list[str], rows: list[list[str]], *, typed: bool) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for cells in rows:
        out: list[object] = []
        for cell in cells:
            cell = "".join(ch for ch in cell if ch >= " " or ch in "\t\n")  # XML cannot hold control characters
            if typed:  # what Excel stores when a cell looks like a number or a date
                try:
                    out.append(float(Decimal(cell.replace(",", "."))) if cell else None)
                    continue
                except ArithmeticError:
                    pass
            out.append(cell)
        sheet.append(out)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def damage_xlsx(content: bytes, part: str, keep: float) -> bytes:
    """The workbook with one part cut to a share `keep` of its bytes (0: left out): the archive
    itself stays readable, so openpyxl only fails while reading that part."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == part:
                if not keep:
                    continue
                data = data[: int(len(data) * keep)]
            target.writestr(name, data)
    return out.getvalue()


XLSX_PARTS = ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/sharedStrings.xml", "[Content_Types].xml"]
SMALL_XLSX = _xlsx_bytes(["code", "name"], [["LVQ1", "Q"]] * 50, typed=False)


@st.composite
def hostile_files(draw, command: str) -> tuple[str, bytes]:
    kinds = ["csv", "csv", "csv", "xlsx", "truncated_xlsx", "damaged_xlsx", "random", "empty", "header_only"]
    kind = draw(st.sampled_from(kinds))
    if kind == "random":
        return draw(st.sampled_from([".csv", ".xlsx"])), draw(st.binary(max_size=600))
    if kind == "empty":
        return ".csv", draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\n\n", b" ; ,\r\n"]))
    header, rows = draw(tables(command))
    if kind == "header_only":
        rows = []
    if kind in ("xlsx", "truncated_xlsx", "damaged_xlsx"):
        content = _xlsx_bytes(header, rows, typed=draw(st.booleans()))
        if kind == "damaged_xlsx":
            keep = draw(st.sampled_from([0, 0.1, 0.5, 0.9, 0.99]))
            return ".xlsx", damage_xlsx(content, draw(st.sampled_from(XLSX_PARTS)), keep)
        if kind == "truncated_xlsx":
            # A share, not a byte count: the workbook's length varies with its saved timestamp,
            # and a strategy must draw the same way when hypothesis replays a case.
            content = content[: int(len(content) * draw(st.floats(min_value=0, max_value=1, exclude_max=True)))]
        return ".xlsx", content
    content = _csv_bytes(
        header,
        rows,
        encoding=draw(ENCODINGS),
        delimiter=draw(st.sampled_from([",", ";"])),
        mixed=draw(st.booleans()),
    )
    return ".csv", content


def _snapshot() -> dict[str, int]:
    """Row counts of every table of the project's apps, history tables included."""
    counts = {}
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            counts[model._meta.label] = model._default_manager.count()
    return counts


@pytest.fixture
def catalogue(world):
    """Something for the imports to refer to (and collide with)."""
    pop = DataItemFactory(code="POP", min_value=Decimal(0))
    area = DataItemFactory(code="AREA")
    indicator = IndicatorFactory(code="IND_X", formula="POP / AREA")
    indicator.items.set([pop, area])
    NetworkIndicatorFactory(network=world.network, indicator=indicator)
    return world


def check_import(command: str, suffix: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"upload{suffix}"
        path.write_bytes(content)
        before = _snapshot()
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(command, str(path), *EXTRA_ARGS.get(command, []), stdout=out, stderr=err)
        except CommandError as exc:
            assert str(path) in str(exc), "the failure must name the file"
            assert "nothing was imported" in str(exc)
            lines = [line for line in err.getvalue().splitlines() if line]
            assert lines, "a refused file must say why"
            for line in lines:
                assert line.startswith(f"{path}: "), line
            assert _snapshot() == before, "a refused file must leave the database unchanged"
        else:
            assert str(path) in out.getvalue()


# The regression examples below are the shapes that used to escape as other exceptions.
@FUZZ
@given(file=hostile_files("import_municipalities"))
@example(file=(".csv", b"code,name,valid_from\nLVQ1,Q,2021-02-30\n"))
@example(file=(".csv", "code;name\nLVQ1;Rīga\n".encode("cp1257")))
@example(file=(".csv", "code,name\nLVQ1,Q\n".encode("utf-16")))
@example(file=(".xlsx", b"PK\x03\x04garbage"))
# A damaged part inside a readable archive used to escape as ParseError / IndexError (networks/tabular.py).
@example(file=(".xlsx", damage_xlsx(SMALL_XLSX, "xl/worksheets/sheet1.xml", 0.5)))
@example(file=(".xlsx", damage_xlsx(SMALL_XLSX, "xl/worksheets/sheet1.xml", 0)))
@example(file=(".xlsx", damage_xlsx(SMALL_XLSX, "xl/workbook.xml", 0.1)))
@example(file=(".csv", b'code,name\nLVQ1,"' + b"x" * 200_000 + b'"\n'))  # over csv.field_size_limit
@example(file=(".csv", b'code,name\nLVQ1,"unterminated\n'))
def test_import_municipalities_survives_hostile_files(catalogue, file):
    check_import("import_municipalities", *file)


@FUZZ
@given(file=hostile_files("import_networks"))
@example(file=(".csv", b"code,name,members\nT2,X,LVA000001 LVA000001 LVX999999\n"))
def test_import_networks_survives_hostile_files(catalogue, file):
    check_import("import_networks", *file)


@FUZZ
@given(file=hostile_files("import_catalogue"))
@example(file=(".csv", b"code,kind,name,formula\nIND_Y,indicator,Y,POP / (AREA - AREA)\n"))
@example(file=(".csv", b"code,kind,name,min,max,decimals\nQ,item,Q,1e400,-1e400,99999999999\n"))
@example(file=(".csv", b"code,kind,name,weight,in_index\nIND_Z,indicator,Z,NaN,maybe\n"))
def test_import_catalogue_survives_hostile_files(catalogue, file):
    check_import("import_catalogue", *file)


@FUZZ
@given(file=hostile_files("import_values"))
@example(file=(".csv", b"municipality_code,item_code,period,value\nLVA000001,POP,2024,1e400\n"))
@example(  # used to escape as decimal.InvalidOperation (indicators/validation.py)
    file=(
        ".csv",
        b"municipality_code,item_code,period,value\nLVA000001,POP,2024,12345678901234567890.1234567890123456\n",
    )
)
@example(file=(".csv", b"municipality_code,item_code,period,value\nLVA000001,POP,2024-13,1\n"))
@example(file=(".csv", b"municipality_code,item_code,period,value\nLVA000001,POP,2024,1\nLVA000001,POP,2024,2\n"))
def test_import_values_survives_hostile_files(catalogue, file):
    check_import("import_values", *file)


@FUZZ
@given(file=hostile_files("import_peer_groups"))
@example(file=(".csv", b"group,municipality_code\nbad name!,LVA000001\nok,LVX999999\n"))
def test_import_peer_groups_survives_hostile_files(catalogue, file):
    check_import("import_peer_groups", *file)


@FUZZ
@given(file=hostile_files("import_official"))
@example(file=(".csv", b"Territorial unit,2024\nAizkraukle municipality,12\nLatvia,x\n"))
@example(file=(".csv", b'"Title by A\nand B"\n\nTerritorial unit,Indicator,2024\n"Aiz\nkraukles novads",a,1\n'))
@example(file=(".json", b'{"class": "dataset", "id": ["A"], "size": [2], "dimension": {"A": {}}, "value": [1]}'))
@example(file=(".px", b'MATRIX="X";\nSTUB="A";\nVALUES("A")="a\nb";\nDATA=\n1;\n'))
def test_import_official_survives_hostile_files(catalogue, file):
    check_import("import_official", *file)


def test_a_refused_file_names_every_bad_line(catalogue, tmp_path):
    """Not a property: the message a coordinator reads for a typical mix of mistakes."""
    path = tmp_path / "values.csv"
    path.write_text(
        "municipality_code,item_code,period,value\n"
        "LVA000001,POP,2024,12\n"
        "LVX999999,POP,2024,12\n"
        "LVA000001,NOPE,2024,12\n"
        "LVA000001,POP,2024,=cmd|' /C calc'!A0\n",
        encoding="utf-8",
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="3 problem"):
        call_command("import_values", str(path), "--network", "T", stdout=io.StringIO(), stderr=err)
    for line in (3, 4, 5):
        assert f"line {line}:" in err.getvalue()
