"""import_values: DESIGN.md §5 — long format, all or nothing, idempotent, history for every value."""

from __future__ import annotations

import io
import time
from decimal import Decimal
from pathlib import Path
from unittest import mock

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


def test_status_approved_marks_results_stale_once_per_round(world, items, tmp_path):
    text = HEADER + "".join(
        f"{m.code},{i},{p},1,\n" for m in (world.a, world.b) for i in items for p in ("2023", "2024")
    )
    with mock.patch("comparisons.triggers.results_stale") as stale:
        run(write(tmp_path, text), "--status", "approved")
    assert set(Submission.objects.values_list("status", flat=True)) == {"approved"}
    rounds = sorted(Round.objects.values_list("pk", flat=True))
    assert sorted(call.kwargs["round_id"] for call in stale.call_args_list) == rounds
    assert all(call.kwargs["item_ids"] is None for call in stale.call_args_list)


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
