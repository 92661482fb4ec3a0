"""import_values (docs/architecture.md): long format, all or nothing, idempotent, history for every value."""

from __future__ import annotations

import io
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from indicators.models import Period, Round, Submission, SubmissionEvent, Value
from indicators.tests.factories import DataItemFactory, RoundFactory, SubmissionFactory, ValueFactory

HEADER = "municipality_code,item_code,period,value,note\n"


def write(tmp_path: Path, text: str, name: str = "values.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8-sig" if bom else "utf-8"))
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_values", str(path), "--network", "T", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path: Path, *args: str) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_values", str(path), "--network", "T", *args, stdout=io.StringIO(), stderr=err)
    return err.getvalue()


@pytest.fixture
def items(db):
    return {
        "DWELLINGS": DataItemFactory(code="DWELLINGS", min_value=Decimal(0)),
        "POPULATION": DataItemFactory(code="POPULATION", min_value=Decimal(0)),
    }


def test_import_creates_periods_rounds_submissions_and_values(world, items, tmp_path):
    text = HEADER + (
        f'{world.a.code},DWELLINGS,2024,"1 234,5",\n'
        f"{world.a.code},POPULATION,2024,18000,CSP\n"
        f"{world.b.code},DWELLINGS,2024,,dati netiek uzskaitīti\n"
        f"{world.b.code},DWELLINGS,2025-Q1,12.25,\n"
    )
    out, _err = run(write(tmp_path, text, bom=True))
    assert "4 values created, 0 updated, 0 unchanged; 2 periods, 2 rounds and 3 submissions created" in out
    assert set(Period.objects.values_list("label", flat=True)) == {"2024", "2025-Q1"}
    a_2024 = Submission.objects.get(round__period__label="2024", municipality=world.a)
    assert a_2024.status == Submission.Status.SUBMITTED
    assert a_2024.values.get(item__code="DWELLINGS").number == Decimal("1234.5")
    assert a_2024.values.get(item__code="POPULATION").explanation == "CSP"
    missing = Value.objects.get(submission__municipality=world.b, submission__round__period__label="2024")
    assert missing.is_missing and missing.number is None and missing.missing_reason == "dati netiek uzskaitīti"
    # Every value is in its history, like a change in the form.
    assert Value.history.filter(history_type="+").count() == 4
    assert SubmissionEvent.objects.filter(to_status="submitted").count() == 3


def test_semicolon_file_with_decimal_comma(world, items, tmp_path):
    text = f"municipality_code;item_code;period;value\n{world.a.code};DWELLINGS;2024;12,5\n"
    run(write(tmp_path, text))
    assert Value.objects.get().number == Decimal("12.5")


def test_reimporting_the_same_file_changes_nothing(world, items, tmp_path):
    path = write(tmp_path, HEADER + f"{world.a.code},DWELLINGS,2024,10,\n{world.b.code},DWELLINGS,2024,,nav\n")
    run(path)
    counts = (
        Value.history.count(),
        SubmissionEvent.objects.count(),
        Submission.objects.get(municipality=world.a).version,
    )
    out, _err = run(path)
    assert "0 values created, 0 updated, 2 unchanged" in out
    assert (
        Value.history.count(),
        SubmissionEvent.objects.count(),
        Submission.objects.get(municipality=world.a).version,
    ) == counts


def test_a_changed_value_is_updated_with_history_and_a_new_version(world, items, tmp_path):
    run(write(tmp_path, HEADER + f"{world.a.code},DWELLINGS,2024,10,\n"))
    version = Submission.objects.get().version
    out, _err = run(write(tmp_path, HEADER + f"{world.a.code},DWELLINGS,2024,11,\n", "second.csv"))
    assert "0 values created, 1 updated" in out
    assert Value.objects.get().number == 11
    assert list(Value.history.order_by("history_id").values_list("history_type", "number")) == [
        ("+", Decimal(10)),
        ("~", Decimal(11)),
    ]
    assert Submission.objects.get().version == version + 1


def test_bad_rows_write_nothing_and_every_one_is_named(world, items, tmp_path):
    text = HEADER + (
        f"{world.a.code},DWELLINGS,2024,10,\n"
        f"NOPE,DWELLINGS,2024,10,\n"
        f"{world.a.code},NOPE,2024,10,\n"
        f"{world.a.code},POPULATION,24,10,\n"
        f"{world.b.code},DWELLINGS,2024,-5,\n"
        f"{world.b.code},POPULATION,2024,abc,\n"
        f"{world.b.code},DWELLINGS,2025,,\n"
        f"{world.a.code},DWELLINGS,2024,11,\n"
    )
    err = run_failing(write(tmp_path, text))
    assert "line 3: unknown municipality code 'NOPE'" in err
    assert "line 4: unknown data item code 'NOPE'" in err
    assert "line 5:" in err and "is not a period label" in err
    assert "line 6: DWELLINGS: -5 is below the allowed minimum 0" in err
    assert "line 7: POPULATION: 'abc' is not a number" in err
    assert "line 8:" in err and "reason it is missing" in err
    assert "line 9:" in err and "already appears on line 2" in err
    assert "line 2:" not in err
    assert not Value.objects.exists() and not Period.objects.exists() and not Submission.objects.exists()


def test_dry_run_saves_nothing(world, items, tmp_path):
    out, _err = run(write(tmp_path, HEADER + f"{world.a.code},DWELLINGS,2024,10,\n"), "--dry-run")
    assert "1 values created" in out and "dry run" in out
    assert not Value.objects.exists() and not Round.objects.exists()


def test_status_approved_marks_results_stale_once_per_round(world, items, tmp_path, published_events):
    text = HEADER + "".join(
        f"{m.code},{i},{p},1,\n" for m in (world.a, world.b) for i in items for p in ("2023", "2024")
    )
    run(write(tmp_path, text), "--status", "approved")
    assert set(Submission.objects.values_list("status", flat=True)) == {"approved"}
    rounds = sorted(Round.objects.values_list("pk", flat=True))
    stale = [payload for event, payload in published_events if event == "values_changed"]
    assert sorted(payload["round_id"] for payload in stale) == rounds
    assert all(payload["item_ids"] is None for payload in stale)


def test_existing_submission_gets_the_status_and_an_event(world, items, tmp_path):
    submission = SubmissionFactory(round=RoundFactory(network=world.network), municipality=world.a)
    ValueFactory(submission=submission, item=items["POPULATION"], number=5)
    run(write(tmp_path, HEADER + f"{world.a.code},DWELLINGS,2024,10,\n"), "--status", "approved")
    submission.refresh_from_db()
    assert submission.status == "approved"
    assert submission.values.count() == 2  # values not in the file are left alone
    assert submission.events.get().from_status == "draft"


def test_unknown_network_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match="unknown network"):
        call_command("import_values", str(write(tmp_path, HEADER)), "--network", "NOPE")


def _big_file(tmp_path: Path, world, rows: int, bad_line: int | None = None) -> Path:
    from indicators.models import DataItem
    from networks.tests.factories import MembershipFactory, MunicipalityFactory

    municipalities = [world.a, world.b]
    for n in range(48):
        municipality = MunicipalityFactory(code=f"LVZ{n:06d}")
        MembershipFactory(network=world.network, municipality=municipality)
        municipalities.append(municipality)
    codes = [f"BIG_{n}" for n in range(20)]
    DataItem.objects.bulk_create([DataItem(code=code, name=code, min_value=0) for code in codes])
    lines = [HEADER]
    line = 1
    for year in range(2000, 2200):
        for municipality in municipalities:
            for code in codes:
                line += 1
                value = "-1" if line == bad_line else f"{(line * 7919) % 100000},{line % 10}"
                lines.append(f"{municipality.code};{code};{year};{value};\n")
                if line - 1 == rows:
                    path = tmp_path / "big.csv"
                    path.write_text(HEADER.replace(",", ";") + "".join(lines[1:]), encoding="utf-8")
                    return path
    raise AssertionError("not enough combinations")


def test_100000_rows_import_in_seconds(world, tmp_path):
    path = _big_file(tmp_path, world, 100_000)
    started = time.perf_counter()
    out, _err = run(path)
    elapsed = time.perf_counter() - started
    assert "100000 values created" in out
    assert Value.objects.count() == 100_000
    assert Value.history.count() == 100_000
    assert elapsed < 60, f"100,000 rows took {elapsed:.1f} s"


def test_one_bad_row_among_100000_writes_nothing_and_names_it(world, tmp_path):
    path = _big_file(tmp_path, world, 100_000, bad_line=77_777)
    err = run_failing(path)
    assert "line 77777: BIG_" in err and "-1 is below the allowed minimum 0" in err
    assert err.count("line ") == 1
    assert not Value.objects.exists() and not Submission.objects.exists()


def test_values_of_a_non_member_are_imported_with_a_warning(world, items, tmp_path):
    # Official statistics may cover every municipality; the command says which are not members.
    _out, err = run(write(tmp_path, HEADER + f"{world.c.code},POPULATION,2024,5000,CSP\n"))
    assert f"not (or no longer) members of network T: {world.c.code}" in err
    assert Value.objects.get().submission.municipality == world.c


def test_xlsx_files_are_read(world, items, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["municipality_code", "item_code", "period", "value", "note"])
    workbook.active.append([world.a.code, "DWELLINGS", 2024, 12.5, None])
    path = tmp_path / "values.xlsx"
    workbook.save(path)
    run(path)
    assert Value.objects.get().number == Decimal("12.5")


def test_an_xlsx_number_of_5000_digits_is_refused_by_its_line(world, items, tmp_path):
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["municipality_code", "item_code", "period", "value", "note"])
    workbook.active.append([world.a.code, "DWELLINGS", 2024, 12345, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = tmp_path / "values.xlsx"
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":  # openpyxl cannot write such a number itself
                data = data.replace(b"<v>12345</v>", b"<v>" + b"9" * 5000 + b"</v>")
            target.writestr(name, data)
    err = run_failing(path)
    assert "line 2: DWELLINGS: " in err
    assert "not a readable" not in err
    assert not Value.objects.exists()


# --- the set-based path (PostgreSQL, plain CSV) against the row-by-row checks --------------------
# On PostgreSQL `values_import_file` checks a plain CSV file in SQL and words the problems through
# the Python checks; `values_import(table=read_table(...))` checks every row in Python. On SQLite
# both are the Python path. Either way a user must see the same result from both.


def _messages(call) -> list[str]:
    from django.utils import translation

    from networks.tabular import ImportFailed

    with translation.override("en"):  # as the command speaks
        with pytest.raises(ImportFailed) as failure:
            call()
        return [str(error) for error in failure.value.errors]


def _by_file(path: Path, network, **kwargs):
    from indicators.services.imports import values_import_file

    return lambda: values_import_file(path, network=network, **kwargs)


def _by_table(path: Path, network, **kwargs):
    from indicators.services.imports import REQUIRED_COLUMNS, values_import
    from networks.tabular import read_table

    return lambda: values_import(table=read_table(path, required=REQUIRED_COLUMNS), network=network, **kwargs)


@pytest.fixture
def more_items(items):
    return {**items, "SHARE": DataItemFactory(code="SHARE", min_value=Decimal(0), max_value=Decimal(100))}


def _every_problem(world) -> str:
    a, b = world.a.code, world.b.code
    return HEADER + (
        f'{a},DWELLINGS,2024,"1 234,5",\n'  # line 2: fine
        f"NOPE,NOPE,24,abc,\n"  # 3: three problems at once, the value unchecked
        f"{a},SHARE,2024,101,\n"  # 4: above the maximum
        f"{a},POPULATION,2024,-0.5,\n"  # 5: below the minimum
        f"{b},DWELLINGS,2024,0.1234567890123456,\n"  # 6: 16 decimals
        f"{b},POPULATION,2024,1e23,\n"  # 7: too large
        f"{b},SHARE,2024,1e400,\n"  # 8: too large, in exponent notation
        f"{b},SHARE,2024-26,5,\n"  # 9: a financial year over three years
        f"{b},SHARE,2024-Q5,5,\n"  # 10: no fifth quarter
        f"{b},DWELLINGS,2025,,\n"  # 11: missing without a reason
        f"{b},DWELLINGS,2025,1.2.3,\n"  # 12: not a number
        f'{a},DWELLINGS,2024,"1234,50",\n'  # 13: duplicate of line 2
        f"{b},POPULATION,2025,x,\n"  # 14: bad, so line 15 is the first of its kind
        f"{b},POPULATION,2025,7,\n"  # 15: fine
        f"{b},POPULATION,2025,8,\n"  # 16: duplicate of line 15
        f"{b},SHARE,2025,0e5,\n"  # 17: zero in exponent notation: fine
        f"{b},SHARE,2025,,no data\n"  # 18: duplicate of line 17, declared missing
        f"{b},SHARE,2026,1e1001,\n"  # 19: too large, and more than PostgreSQL's numeric reads
    )


def test_both_paths_name_every_problem_alike(world, more_items, tmp_path):
    path = write(tmp_path, _every_problem(world))
    by_file = _messages(_by_file(path, world.network))
    assert by_file == _messages(_by_table(path, world.network))
    text = "\n".join(by_file)
    assert [int(m.split(":")[0].removeprefix("line ")) for m in by_file] == [
        3, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 18, 19
    ]  # fmt: skip
    assert "line 3: unknown municipality code 'NOPE'" in text
    assert "line 3: unknown data item code 'NOPE'" in text
    assert "line 4: SHARE: 101 is above the allowed maximum 100" in text
    assert "line 6: DWELLINGS: at most 15 digits after the decimal point" in text
    assert "line 7: POPULATION: the number is too large" in text
    assert "line 8: SHARE: the number is too large" in text
    assert "line 19: SHARE: the number is too large" in text
    assert "line 12: DWELLINGS: '1.2.3' is not a number" in text
    assert f"line 13: {world.a.code} DWELLINGS 2024 already appears on line 2" in text
    assert f"line 16: {world.b.code} POPULATION 2025 already appears on line 15" in text
    assert f"line 18: {world.b.code} SHARE 2025 already appears on line 17" in text
    assert not Value.objects.exists() and not Submission.objects.exists() and not Period.objects.exists()


@pytest.mark.parametrize(
    "variant",
    [
        "semicolons, CRLF and a BOM",
        "tabs and no-break spaces around cells",
        "a blank line",
        "a line of empty cells",
        "a note over two lines",
        "a quote inside a cell",
        "a row with fewer cells",
        "an empty trailing header cell",
        "a line ending COPY's data",
    ],
)
def test_both_paths_agree_on_files_of_every_shape(world, more_items, tmp_path, variant):
    a, b = world.a.code, world.b.code
    rows = [
        [a, "DWELLINGS", "2024", "1 234,5", ""],
        [a, "NOPE", "2024", "1", ""],
        [b, "SHARE", "2024", "1e3", ""],
        [b, "POPULATION", "2024-25", "", "nav datu"],
        [a, "DWELLINGS", "2024", "7", ""],
    ]
    header, end, bom = HEADER.strip(), "\n", False
    if variant == "semicolons, CRLF and a BOM":
        header, end, bom = header.replace(",", ";"), "\r\n", True
        lines = [";".join(row) for row in rows]
    elif variant == "tabs and no-break spaces around cells":
        lines = [",".join(f"\t{cell}\u00a0" if cell else cell for cell in row) for row in rows]
        lines[0] = f'{a},DWELLINGS,2024,"\u00a01\u00a0234,5 ",'
    else:
        lines = [",".join(f'"{cell}"' if "," in cell else cell for cell in row) for row in rows]
    if variant == "a blank line":
        lines.insert(2, "")
    elif variant == "a line of empty cells":
        lines.insert(2, ", ,,,")
    elif variant == "a note over two lines":
        lines.insert(2, f'{b},DWELLINGS,2024,,"no\ndata"')
    elif variant == "a quote inside a cell":
        lines.insert(2, f'{b},DWELLINGS,2024,3,see "A" table')
    elif variant == "a row with fewer cells":
        lines.insert(2, f"{b},DWELLINGS,2024,3")
    elif variant == "a line ending COPY's data":
        lines.insert(2, "\\.")  # COPY would stop reading here; for read_table it is a row
    elif variant == "an empty trailing header cell":
        header += ","
        lines = [line + "," for line in lines]
    path = write(tmp_path, end.join([header, *lines]) + end, bom=bom)
    by_file = _messages(_by_file(path, world.network))
    assert by_file == _messages(_by_table(path, world.network))
    inserted = {"an empty trailing header cell": 0, "a note over two lines": 2}.get(variant, 1)  # lines
    if variant in {"semicolons, CRLF and a BOM", "tabs and no-break spaces around cells"}:
        inserted = 0
    duplicate = 6 + inserted
    assert by_file[0].startswith("line 3: ")  # unknown item
    assert by_file[-1].startswith(f"line {duplicate}: ") and "already appears on line 2" in by_file[-1]


def _values(network) -> set[tuple]:
    return set(
        Value.objects.filter(submission__round__network=network).values_list(
            "submission__municipality__code",
            "submission__round__period__label",
            "item__code",
            "number",
            "is_missing",
            "missing_reason",
            "explanation",
        )
    )


@pytest.mark.parametrize("shape", ["plain", "quoted, with spaces", "with a blank line", "digits of another script"])
def test_both_paths_import_the_same_values(world, more_items, tmp_path, shape):
    a, b = world.a.code, world.b.code
    text = HEADER + (
        f'{a},DWELLINGS,2024,"1 234,5",\n'
        f"{a},POPULATION,2024,18000,CSP\n"
        f"{b},DWELLINGS,2024,,dati netiek uzskaitīti\n"
        f"{b},DWELLINGS,2025-Q1,12.25,\n"
        f"{b},SHARE,2025-Q1,1.000000000000000000,\n"
        f"{b},SHARE,2024-25,-0e-3,\n"
        f"{a},SHARE,2024-25,+.5,\n"
        f"{a},DWELLINGS,2024-25,1E+2,\n"
    )
    if shape == "quoted, with spaces":
        text = text.replace(",CSP", ',"CSP, ""2024"""').replace("12.25", " 12.25 ")
    elif shape == "with a blank line":
        text = text.replace("CSP\n", "CSP\n\n")
    elif shape == "digits of another script":
        text = text.replace("18000", "\u0661\u0668\u0660\u0660\u0660")  # Python's Decimal reads them
    path = write(tmp_path, text)
    file_report = _by_file(path, world.network, status="approved")()
    table_report = _by_table(path, world.other_network, status="approved")()
    assert (file_report.created, file_report.updated, file_report.unchanged) == (8, 0, 0)
    assert (table_report.created, table_report.submissions_created) == (8, file_report.submissions_created)
    assert _values(world.network) == _values(world.other_network)
    assert len(_values(world.network)) == 8
    assert Value.history.filter(history_type="+").count() == 16
    assert set(Submission.objects.values_list("status", "version")) == {("approved", 1)}


def test_duplicates_in_a_reimport_are_named_and_nothing_changes(world, items, tmp_path):
    run(write(tmp_path, HEADER + f"{world.a.code},DWELLINGS,2024,10,\n"))
    counts = (Value.history.count(), Submission.objects.get().version)
    text = HEADER + (
        f"{world.a.code},DWELLINGS,2024,11,\n"  # the existing value, changed …
        f"{world.a.code},DWELLINGS,2024,12,\n"  # … twice
        f"{world.b.code},DWELLINGS,2024,1,\n"  # a new submission …
        f"{world.b.code},DWELLINGS,2024,2,\n"  # … with a value twice
    )
    path = write(tmp_path, text, "again.csv")
    by_file = _messages(_by_file(path, world.network))
    assert by_file == _messages(_by_table(path, world.network))
    assert [m[:7] for m in by_file] == ["line 3:", "line 5:"]
    assert "already appears on line 2" in by_file[0] and "already appears on line 4" in by_file[1]
    assert Value.objects.get().number == 10
    assert (Value.history.count(), Submission.objects.get().version) == counts


def test_a_file_wrong_everywhere_names_the_first_thousand_problems(world, items, tmp_path):
    path = write(tmp_path, HEADER + "".join(f"{world.a.code},DWELLINGS,2024,-{n},\n" for n in range(1, 1006)))
    by_file = _messages(_by_file(path, world.network))
    assert by_file == _messages(_by_table(path, world.network))
    assert len(by_file) == 1001
    assert by_file[-1] == "line 1002: more problems follow; fix these first"


def test_on_postgresql_a_plain_csv_file_is_not_read_row_by_row(world, items, tmp_path, monkeypatch):
    from django.db import connection

    from indicators.services import import_csv, imports

    rows_read = []
    real_read_table = imports.read_table

    def read_table(*args, **kwargs):
        table = real_read_table(*args, **kwargs)
        rows_read.append(len(table.rows))
        return table

    # The header is read by the SQL path, a whole table by the Python path.
    monkeypatch.setattr(import_csv, "read_table", read_table)
    monkeypatch.setattr(imports, "read_table", read_table)
    text = HEADER + "".join(f"{world.a.code},DWELLINGS,{year},{year},\n" for year in range(2000, 2020))
    out, _err = run(write(tmp_path, text))
    assert "20 values created" in out
    # PostgreSQL reads the header only (the rows go to COPY); elsewhere every row is read.
    assert max(rows_read) == (0 if connection.vendor == "postgresql" else 20)


def test_the_sql_path_trims_what_python_strips():
    import sys

    from indicators.services.import_csv import WHITESPACE

    assert set(WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
