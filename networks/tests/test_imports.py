"""import_municipalities and import_networks: all or nothing, idempotent (docs/architecture.md)."""

from __future__ import annotations

import datetime
import io
import re
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from networks.models import Membership, Municipality, Network
from networks.tabular import ImportFailed, read_table

GOOD = """code,name,name_en,kind,region,valid_from,valid_to,successor_code,family_group
LV0099000,Jaunnovads,New Municipality,municipality,Zemgale,2021-07-01,,,2
LV0099100,Vecnovads,,municipality,,2009-07-01,2021-06-30,LV0099000,
"""


def run(command: str, path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, text: str, name: str = "file.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.django_db
def test_import_municipalities_creates_with_attributes_and_successor(tmp_path):
    out, _err = run("import_municipalities", write(tmp_path, GOOD))
    assert "2 created" in out
    new = Municipality.objects.get(code="LV0099000")
    old = Municipality.objects.get(code="LV0099100")
    assert new.name_en == "New Municipality"
    assert new.attributes == {"family_group": "2"}
    assert old.attributes == {}  # an empty attribute cell is no attribute
    assert old.successor == new
    assert str(old.valid_to) == "2021-06-30"


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = write(tmp_path, GOOD)
    run("import_municipalities", path)
    history_before = Municipality.history.count()
    out, _err = run("import_municipalities", path)
    assert "0 created, 0 updated, 2 unchanged" in out
    assert Municipality.history.count() == history_before


@pytest.mark.django_db
def test_a_changed_row_is_updated_and_recorded_in_history(tmp_path):
    run("import_municipalities", write(tmp_path, GOOD))
    out, _err = run("import_municipalities", write(tmp_path, GOOD.replace("Zemgale", "Vidzeme"), "second.csv"))
    assert "1 updated, 1 unchanged" in out
    municipality = Municipality.objects.get(code="LV0099000")
    assert municipality.region == "Vidzeme"
    assert municipality.history.first().prev_record.region == "Zemgale"


@pytest.mark.django_db
def test_a_file_with_bad_rows_writes_nothing_and_names_every_line(tmp_path):
    bad = GOOD + (
        "LV0099200,,Nameless,municipality,,,,,\n"  # line 4: no name
        "LV0099300,Slikts datums,,municipality,,31.02.2021,,,\n"  # line 5: impossible date
        "LV0099400,Bez pēcteča,,municipality,,,,LV0000404,\n"  # line 6: unknown successor
        "LV0099000,Dublikāts,,municipality,,,,,\n"  # line 7: duplicate code
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="4 problem"):
        call_command("import_municipalities", str(write(tmp_path, bad)), stdout=io.StringIO(), stderr=err)
    messages = err.getvalue()
    assert "line 4: name is empty" in messages
    assert "line 5: valid_from" in messages
    assert "line 6: successor_code LV0000404 is not a known municipality" in messages
    assert "line 7: code LV0099000 already appears on line 2" in messages
    assert Municipality.objects.count() == 0


def test_the_command_exits_non_zero_on_a_bad_file(tmp_path):
    """The real process, as a coordinator's script sees it: exit status and stderr."""
    import os
    import subprocess
    import sys

    path = write(tmp_path, "code,name\nLV1,\n")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "DEBUG": "1"}
    root = Path(__file__).resolve().parents[2]

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our own manage.py with a temp file
            [sys.executable, "manage.py", *args], capture_output=True, text=True, cwd=root, env=env, check=False
        )

    assert manage("migrate", "-v0").returncode == 0
    result = manage("import_municipalities", str(path))
    assert result.returncode != 0
    assert "line 2: name is empty" in result.stderr


@pytest.mark.django_db
def test_latvian_excel_csv_semicolons_and_bom(tmp_path):
    text = "code;name;area_km2\nLV0099000;Jaunnovads;1 234,5\n"
    run("import_municipalities", write(tmp_path, "\ufeff" + text))
    municipality = Municipality.objects.get(code="LV0099000")
    assert municipality.attributes == {"area_km2": "1 234,5"}


@pytest.mark.django_db
def test_not_utf8_is_a_clear_error(tmp_path):
    path = write(tmp_path, "code,name\nLV0099000,Jaunjelgavas novads\n", encoding="cp1257")
    # cp1257 and UTF-8 agree on ASCII; a Latvian letter makes the difference.
    path.write_bytes("code,name\nLV0099000,Pļaviņas\n".encode("cp1257"))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_municipalities", str(path), stdout=io.StringIO(), stderr=err)
    assert "line 2: the file is not UTF-8" in err.getvalue()


@pytest.mark.django_db
def test_missing_required_column(tmp_path):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_municipalities", str(write(tmp_path, "code,title\nX1,Y\n")), stdout=io.StringIO(), stderr=err
        )
    assert "required column(s) missing: name" in err.getvalue()


@pytest.mark.django_db
def test_xlsx_import(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "name", "valid_from", "population_class"])
    sheet.append(["LV0099000", "Jaunnovads", "2021-07-01", "10-20k"])
    path = tmp_path / "municipalities.xlsx"
    workbook.save(path)
    run("import_municipalities", path)
    municipality = Municipality.objects.get(code="LV0099000")
    assert municipality.attributes == {"population_class": "10-20k"}
    assert str(municipality.valid_from) == "2021-07-01"


@pytest.mark.django_db
def test_truncated_xlsx_is_a_clear_error(tmp_path):
    workbook = Workbook()
    workbook.active.append(["code", "name"])
    path = tmp_path / "broken.xlsx"
    workbook.save(path)
    path.write_bytes(path.read_bytes()[:200])
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_municipalities", str(path), stdout=io.StringIO(), stderr=err)
    assert "not a readable XLSX" in err.getvalue()


def _xlsx(rows: list[list[object]], *, far_cell: str = "", sheet_xml=None) -> bytes:
    """A workbook of `rows`, with one more cell at `far_cell`, its sheet's XML passed through `sheet_xml`."""
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    if far_cell:
        workbook.active[far_cell] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    if sheet_xml is None:
        return buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, sheet_xml(data) if name == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


def _without_dimension(xml: bytes) -> bytes:
    return re.sub(rb"<dimension[^>]*/>", b"", xml)


@pytest.mark.django_db
@pytest.mark.parametrize("sheet_xml", [None, _without_dimension], ids=["declared", "undeclared"])
def test_an_xlsx_with_a_cell_at_the_last_row_is_refused_unread(tmp_path, sheet_xml):
    path = tmp_path / "municipalities.xlsx"
    path.write_bytes(_xlsx([["code", "name"], ["LV0099000", "Jaunnovads"]], far_cell="H1048576", sheet_xml=sheet_xml))
    err = io.StringIO()
    started = time.perf_counter()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_municipalities", str(path), stdout=io.StringIO(), stderr=err)
    # The million empty rows above the cell are not walked.
    assert time.perf_counter() - started < 2
    assert "the sheet has cells as far as H1048576" in err.getvalue()
    assert "save a larger table as CSV" in err.getvalue()
    assert not Municipality.objects.exists()


def test_an_xlsx_number_of_5000_digits_reads_as_written():
    digits = "9" * 5000
    content = _xlsx(
        [["code", "name", "population"], ["LV0099000", "Jaunnovads", 12345]],
        sheet_xml=lambda xml: xml.replace(b"<v>12345</v>", f"<v>{digits}</v>".encode()),
    )
    table = read_table(content, name="municipalities.xlsx")
    assert table.rows[0].get("population") == digits


@pytest.mark.django_db
def test_an_xlsx_number_of_5000_digits_is_refused_by_its_line(tmp_path):
    digits = "7" * 5000
    path = tmp_path / "municipalities.xlsx"
    path.write_bytes(
        _xlsx(
            [["code", "name", "valid_from"], ["LV0099000", "Jaunnovads", 12345]],
            sheet_xml=lambda xml: xml.replace(b"<v>12345</v>", f"<v>{digits}</v>".encode()),
        )
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_municipalities", str(path), stdout=io.StringIO(), stderr=err)
    assert "line 2: " in err.getvalue()
    assert "is not a date" in err.getvalue()
    assert "not a readable XLSX" not in err.getvalue()


def test_an_xlsx_reads_numbers_dates_and_formulas_as_before():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["a", "b", "c", "d", "e", "f"])
    sheet.append([7, 1.5, 1000.0, datetime.date(2021, 7, 1), True, "=1+1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), name="x.xlsx")
    # openpyxl stores no value for a formula: nothing to read, as before.
    assert table.rows[0].data == {"a": "7", "b": "1.5", "c": "1000", "d": "2021-07-01", "e": "True", "f": ""}


def test_an_xlsx_import_table_keeps_its_line_numbers():
    content = _xlsx([["code", "name"], [], ["LV0099000", "Jaunnovads"]])
    with pytest.raises(ImportFailed) as failure:
        read_table(content, name="m.xlsx", required=["code", "name", "kind"])
    assert [(error.line, "kind" in error.message) for error in failure.value.errors] == [(1, True)]
    table = read_table(content, name="m.xlsx")
    assert [row.line for row in table.rows] == [3]


NETWORKS = """code,name,name_en,public,members
T3,Pakalpojumu tīkls,Services network,yes,LV0099000 LV0099100
T9,Visi,Everyone,no,*
"""


@pytest.fixture
def municipalities(db, tmp_path):
    run("import_municipalities", write(tmp_path, GOOD, "m.csv"))


def test_import_networks(municipalities, tmp_path):
    out, _err = run("import_networks", write(tmp_path, NETWORKS))
    assert "2 created" in out
    t3 = Network.objects.get(code="T3")
    assert t3.is_public and t3.name_en == "Services network"
    assert set(t3.memberships.values_list("municipality__code", flat=True)) == {"LV0099000", "LV0099100"}
    # * is every *current* municipality: the one that ended in 2021 is not.
    t9 = Network.objects.get(code="T9")
    assert not t9.is_public
    assert list(t9.memberships.values_list("municipality__code", flat=True)) == ["LV0099000"]


def test_reimporting_networks_changes_nothing(municipalities, tmp_path):
    path = write(tmp_path, NETWORKS)
    run("import_networks", path)
    counts = (Network.history.count(), Membership.history.count())
    out, _err = run("import_networks", path)
    assert "0 created, 0 updated, 2 unchanged" in out
    assert (Network.history.count(), Membership.history.count()) == counts


def test_dropping_a_member_ends_its_membership(municipalities, tmp_path):
    run("import_networks", write(tmp_path, NETWORKS))
    Membership.objects.update(joined="2022-01-01")
    out, _err = run("import_networks", write(tmp_path, NETWORKS.replace(" LV0099100", ""), "second.csv"))
    assert "1 updated" in out
    ended = Membership.objects.get(network__code="T3", municipality__code="LV0099100")
    assert ended.left is not None
    assert Membership.objects.active().filter(network__code="T3").count() == 1


def test_bad_network_rows_write_nothing(municipalities, tmp_path):
    bad = NETWORKS + "T4,Izglītība,,maybe,LV0099000 NOPE1\n,Bez koda,,no,\n"
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_networks", str(write(tmp_path, bad)), stdout=io.StringIO(), stderr=err)
    messages = err.getvalue()
    assert "line 4: public: 'maybe' must be yes or no" in messages
    assert "line 4: members: unknown municipality code(s): NOPE1" in messages
    assert "line 5: code is empty" in messages
    assert Network.objects.count() == 0


def test_the_real_seed_files_load(db):
    from networks.demo import reference_data_seed

    reference_data_seed()
    assert Municipality.objects.filter(valid_from="2021-07-01").count() == 43
    assert Municipality.objects.filter(valid_to="2021-06-30").count() == 119
    plavinas = Municipality.objects.get(code="LV0321400")
    assert plavinas.name == "Pļaviņu novads"
    assert plavinas.successor.name == "Aizkraukles novads"
    aglona = Municipality.objects.get(name="Aglonas novads")
    assert aglona.split and "split" not in aglona.attributes
    assert plavinas.name_en == "Pļaviņas municipality"  # as the statistics office labels it
    assert sorted(aglona.successor_shares.values_list("successor__name", "share")) == [
        ("Krāslavas novads", None),
        ("Preiļu novads", None),
    ]
    assert set(Network.objects.values_list("code", flat=True)) == {"T1", "T2", "T3", "T4"}
    t3 = Network.objects.get(code="T3")
    assert t3.name_en == "Public services and housing policy network"
    assert t3.memberships.filter(municipality__code="LV0020000").exists()


# --- successor shares of divided units (docs/official.md, "History across a reform") -------------

UNITS = """code,name,valid_from,valid_to,successor_code,split
LV0099000,Jaunnovads,2021-07-01,,,
LV0099001,Otrnovads,2021-07-01,,,
LV0099100,Dalītais novads,2009-07-01,2021-06-30,LV0099000,yes
LV0099200,Veselais novads,2009-07-01,2021-06-30,LV0099000,no
"""


@pytest.mark.django_db
def test_split_is_a_field_and_shares_are_imported(tmp_path):
    run("import_municipalities", write(tmp_path, UNITS, "units.csv"))
    divided = Municipality.objects.get(code="LV0099100")
    assert divided.split and not Municipality.objects.get(code="LV0099200").split
    assert "split" not in divided.attributes
    shares = (
        "predecessor_code,successor_code,share,note,source\n"
        'LV0099100,LV0099000,"0,4",by population,law\n'
        "LV0099100,LV0099001,60%,,\n"
    )
    out, _err = run("import_successor_shares", write(tmp_path, shares))
    assert "2 created, 0 updated, 0 unchanged" in out
    assert sorted(divided.successor_shares.values_list("successor__code", "share", "note")) == [
        ("LV0099000", Decimal("0.4"), "by population"),
        ("LV0099001", Decimal("0.6"), ""),
    ]
    out, _err = run("import_successor_shares", write(tmp_path, shares))
    assert "0 created, 0 updated, 2 unchanged" in out
    # A predecessor named again gets exactly the file's rows.
    out, err = run(
        "import_successor_shares", write(tmp_path, "predecessor_code,successor_code,share\nLV0099100,LV0099000,\n")
    )
    assert (
        "0 created, 1 updated, 0 unchanged" in out
        and "removed 1 share(s) no longer listed: LV0099100 → LV0099001" in err
    )
    assert list(divided.successor_shares.values_list("share", flat=True)) == [None]


@pytest.mark.django_db
def test_bad_shares_write_nothing_and_name_every_line(tmp_path):
    run("import_municipalities", write(tmp_path, UNITS, "units.csv"))
    bad = (
        "predecessor_code,successor_code,share\n"
        "LV0099100,LV0099000,0\n"
        "LV0099100,NOPE,0.5\n"
        "LV0099100,LV0099100,0.5\n"
        "LV0099200,LV0099000,0.7\n"
        "LV0099200,LV0099001,0.7\n"
        "LV0099200,LV0099001,0.1\n"
        "LV0099100,LV0099001,abc\n"
        "LV0099100,LV0099001,0.1234567\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_successor_shares", str(write(tmp_path, bad)), stdout=io.StringIO(), stderr=err)
    messages = err.getvalue()
    assert "line 2: share: '0' is not a share" in messages
    assert "line 3: successor_code NOPE is not a known municipality" in messages
    assert "line 4: a municipality cannot be its own successor" in messages
    assert "line 5: the shares of Veselais novads add up to 1.4, more than 1" in messages
    assert "line 7: the same pair already appears on line 6" in messages
    assert "line 8: share: 'abc' is not a number" in messages
    assert "line 9: share: '0.1234567': at most six decimals" in messages
    from networks.models import SuccessorShare

    assert not SuccessorShare.objects.exists()
