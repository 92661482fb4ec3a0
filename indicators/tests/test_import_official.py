"""import_official (docs/official.md): real statistics-office downloads in, checked against the files.

The files are in `data/csb/` beside this module (README there: the Central Statistical Bureau of
Latvia's downloads, byte for byte, and three small hand-made files in the formats it also serves).
The municipalities are the portal's own seed lists of 2021 and 2009 (`data/lv/`).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from indicators.models import DataItem, Period, Round, Submission, SubmissionEvent, Value
from indicators.services.official_areas import Areas, nominatives
from indicators.services.official_tables import Category, table_read, title_dimensions
from indicators.tests.factories import DataItemFactory, PeriodFactory, RoundFactory, SubmissionFactory, ValueFactory
from networks.models import Municipality, Network
from networks.tests.factories import MembershipFactory, MunicipalityFactory, NetworkFactory

DATA = Path(__file__).parent / "data" / "csb"
LV = Path(settings.BASE_DIR) / "data" / "lv"
TRS020_EN = DATA / "TRS020_roads_2024_en.csv"
TRS020_LV = DATA / "TRS020_roads_2024_lv.csv"
IRS031 = DATA / "IRS031_population_2012-2025_en.csv"
IRD060 = DATA / "IRD060_population_2020-2021_old_units_en.xlsx"
IRS050 = DATA / "IRS050_urban_population_2022_pxweb-v1.json"
TOTALS = ("--select", "Types of surface=Total", "--select", "Indicator=Total")


def run(path: Path, item: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_official", str(path), "--item", item, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path: Path, item: str, *args: str) -> tuple[str, str]:
    """The CommandError's message and what was said on stderr."""
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported") as failure:
        call_command("import_official", str(path), "--item", item, *args, stdout=io.StringIO(), stderr=err)
    return str(failure.value), err.getvalue()


def value(code: str, period: str, item: str = "POPULATION") -> Value:
    return Value.objects.get(
        item__code=item, submission__municipality__code=code, submission__round__period__label=period
    )


def snapshot() -> tuple[int, ...]:
    return (
        Value.objects.count(),
        Value.history.count(),
        Submission.objects.count(),
        SubmissionEvent.objects.count(),
        Round.objects.count(),
        Period.objects.count(),
    )


@pytest.fixture
def portal(db):
    """The real municipalities of 2021 and 2009, a network of the current ones using two official items."""
    for name in ("municipalities_2021.csv", "municipalities_2009.csv"):
        call_command("import_municipalities", str(LV / name), stdout=io.StringIO())
    network = NetworkFactory(code="T3", name="Komunālie pakalpojumi")
    for municipality in Municipality.objects.current():
        MembershipFactory(network=network, municipality=municipality)
    population = DataItemFactory(code="POPULATION", min_value=Decimal(0), source=DataItem.Source.OFFICIAL)
    roads = DataItemFactory(code="ROADS_KM", min_value=Decimal(0), source=DataItem.Source.OFFICIAL)
    population.networks.add(network)  # context figures of the network
    roads.networks.add(network)
    return network


def file_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))


# --- the real files --------------------------------------------------------------------------------


def test_irs031_wide_csv_figures_as_in_the_file(portal):
    out, _err = run(IRS031, "POPULATION")
    # 36 municipalities x 14 years; Indicator has one value and needs no --select.
    assert "504 created, 0 updated, 0 unchanged" in out
    assert "0 areas skipped" in out
    aizkraukle = value("LV0020000", "2020")  # the 2021 unit: the table is on the 2021 boundaries
    assert aizkraukle.number == Decimal(29558) and not aizkraukle.is_missing
    assert aizkraukle.submission.status == Submission.Status.APPROVED
    assert aizkraukle.submission.round.network == portal
    assert "IRS031" in aizkraukle.explanation and "IRS031_population_2012-2025_en.csv" in aizkraukle.explanation
    # Every figure of the file, none else.
    for row in file_rows(IRS031)[3:]:
        if row[1] == "Augšdaugava municipality":
            assert [str(value("LV0022000", str(y)).number.normalize()) for y in range(2012, 2025)] == row[2:15]
    # 2025 is "…" everywhere: missing with that status, never 0.
    missing = Value.objects.filter(submission__round__period__label="2025")
    assert missing.count() == 36
    assert all(v.is_missing and v.number is None and v.missing_status == "…" for v in missing)
    assert missing.first().missing_reason.startswith("…")


def test_trs020_needs_selects_then_municipal_totals_add_up(portal):
    message, _err = run_failing(TRS020_EN, "ROADS_KM")
    # Both other dimensions named, with their values.
    assert '"Types of surface"' in message and "Asphalt and other bituminous surfaces" in message
    assert '"Indicator"' in message and "Municipal streets" in message
    assert Value.objects.count() == 0

    out, _err = run(TRS020_EN, "ROADS_KM", *TOTALS)
    assert "43 created, 0 updated, 0 unchanged" in out
    # The country and nine regions (historic ones too, one label with trailing spaces) are skipped.
    assert "10 areas skipped" in out
    values = Value.objects.filter(item__code="ROADS_KM", submission__round__period__label="2024")
    assert values.count() == 43
    national = next(int(r[3]) for r in file_rows(TRS020_EN)[3:] if r[0] == "Latvia" and r[1:3] == ["Total", "Total"])
    total = sum(v.number for v in values)
    assert national == 57564 and total == 57562  # the file's own rounding
    assert value("LV0020000", "2024", "ROADS_KM").number == 1657
    assert value("LV0001000", "2024", "ROADS_KM").number == 1205  # "Riga": the state city of 2021

    # A select by code or label, any case; another slice of the same table.
    out, _err = run(
        TRS020_EN, "ROADS_KM", "--select", "types of surface=TOTAL", "--select", "Indicator=Municipal roads"
    )
    assert "0 created, 43 updated, 0 unchanged" in out
    assert value("LV0020000", "2024", "ROADS_KM").number == 851


def test_trs020_latvian_labels(portal):
    out, _err = run(TRS020_LV, "ROADS_KM")
    assert "36 created" in out and "0 areas skipped" in out
    assert value("LV0020000", "2024", "ROADS_KM").number == 1657
    assert value("LV0055000", "2024", "ROADS_KM").number == 234  # Varakļānu novads


def test_ird060_xlsx_by_the_2009_units(portal):
    message, _err = run_failing(IRD060, "POPULATION")
    assert '"Sex"' in message and "Females" in message and "By registered place" in message
    out, err = run(IRD060, "POPULATION", "--select", "Sex=Total", "--select", "Indicator=By registered place")
    # 119 units x 2 years; towns and rural territories ("..") and regions are skipped.
    assert "238 created, 0 updated, 0 unchanged" in out
    assert "119 municipalities" in out
    assert "no municipality of the portal has their names" not in err
    # "Pļaviņas municipality" is the 2009 list's Pļaviņu novads, Riga the republican city of 2009.
    assert value("LV0321400", "2020").number == 4818
    assert value("LV0010000", "2021").number == 614618
    assert value("LV0320200", "2020").submission.municipality.name == "Aizkraukles novads"
    assert not Value.objects.filter(submission__municipality__code="LV0020000").exists()
    # "By actual place" is "…" for 2021: missing with its status.
    run(IRD060, "POPULATION", "--select", "Sex=Total", "--select", "Indicator=By actual place")
    actual = value("LV0321400", "2021")
    assert actual.is_missing and actual.missing_status == "…" and actual.number is None
    assert value("LV0321400", "2020").number == 4808


def test_irs050_pxweb_json_by_old_codes(portal):
    out, _err = run(IRS050, "POPULATION")
    assert "9 created" in out
    assert value("LV0010000", "2022").number == 605802
    assert value("LV0270000", "2022").number == 32955
    assert "Central Statistics Bureau of Latvia" in value("LV0010000", "2022").explanation


# --- the hand-made files of the other formats ------------------------------------------------------


def test_jsonstat_2_with_status(portal):
    out, _err = run(DATA / "handmade_TRS020_jsonstat2.json", "ROADS_KM", "--select", "INDICATOR=Total")
    assert "6 created" in out and "1 areas skipped" in out  # 3 x 2; Latvia skipped
    assert value("LV0020000", "2024", "ROADS_KM").number == 1657
    assert value("LV0001000", "2024", "ROADS_KM").number == 1205
    assert value("LV0020000", "2023", "ROADS_KM").missing_status == "…"
    run(DATA / "handmade_TRS020_jsonstat2.json", "ROADS_KM", "--select", "INDICATOR=MUN_ROADS")
    confidential = value("LV0055000", "2023", "ROADS_KM")
    assert confidential.is_missing and confidential.missing_status == ".."
    assert value("LV0001000", "2024", "ROADS_KM").number == 0  # a real 0 stays 0


def test_jsonstat_1_bundle_codes_without_prefix(portal):
    out, _err = run(DATA / "handmade_IRS031_jsonstat1.json", "POPULATION")
    assert "9 created" in out
    assert value("LV0021000", "2024").number == 13284
    assert value("LV0055000", "2025").missing_status == "…"


def test_pc_axis_with_data_symbols(portal):
    out, _err = run(DATA / "handmade_IRS031.px", "POPULATION")
    assert "9 created" in out
    assert value("LV0020000", "2023").number == 28828
    assert value("LV0020000", "2025").missing_status == "…"  # "." with DATASYMBOL1
    assert value("LV0021000", "2025").missing_status == ".."
    assert value("LV0055000", "2025").missing_status == "-"
    assert "IRS031" in value("LV0020000", "2023").explanation


def test_semicolon_csv_without_bom_and_long_layout(portal, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        '"Annual average population by Territorial unit and Time period"\n\n'
        "Territorial unit;Time period;Value\n"
        "LV0020000 Aizkraukle municipality;2023;28828\n"
        "Alūksne municipality;2023;13533,0\n"
        "Varakļāni municipality;2023;..\n",
        encoding="utf-8",
    )
    out, _err = run(path, "POPULATION")
    assert "3 created" in out
    assert value("LV0021000", "2023").number == 13533
    assert value("LV0055000", "2023").missing_status == ".."


def test_outsiders_are_counted_in_words_that_agree(portal, tmp_path):
    """One municipality outside the network is "1 municipality … is not a member", in both languages."""
    from django.utils import translation

    from networks.models import Membership

    Membership.objects.filter(network=portal, municipality__code="LV0021000").delete()
    path = tmp_path / "long.csv"
    path.write_text(
        "Territorial unit;Time period;Value\nLV0020000 Aizkraukle municipality;2023;28828\n"
        "Alūksne municipality;2023;13533\n",
        encoding="utf-8",
    )
    _out, err = run(path, "POPULATION")
    assert "network T3: 1 municipality is not (or no longer) a member: LV0021000" in err
    # The workspace upload reports in the coordinator's language, through the same service.
    from indicators.services.official import OfficialReport, _warn_outsiders

    outsider = Municipality.objects.get(code="LV0021000")
    with translation.override("lv"):
        report = OfficialReport(item="POPULATION", table="IRS031")
        _warn_outsiders(portal, [outsider.pk], report)
    assert report.warnings == ["tīkls T3: 1 pašvaldība nav (vai vairs nav) dalībniece: LV0021000"]


# --- all or nothing, idempotence, dry run, errors ---------------------------------------------------


def test_reimporting_changes_nothing(portal, published_events):
    run(IRS031, "POPULATION")
    before = snapshot()
    versions = dict(Submission.objects.values_list("pk", "version"))
    published_events.clear()
    out, _err = run(IRS031, "POPULATION")
    assert "0 created, 0 updated, 504 unchanged" in out
    assert snapshot() == before
    assert dict(Submission.objects.values_list("pk", "version")) == versions
    assert published_events == []  # nothing to recompute


def test_a_corrupted_copy_writes_nothing_and_names_every_bad_cell(portal, tmp_path):
    text = IRS031.read_bytes().decode("utf-8-sig")
    lines = text.split("\r\n")
    lines[3] = lines[3].replace(",29558,", ",29x58,")  # Aizkraukle 2020
    lines[5] = lines[5].replace(",26225,", ",,")  # Augšdaugava 2020: empty
    lines[7] = lines[7].replace(",19216,", ",-5,")  # Balvi 2020: below the item's minimum
    path = tmp_path / "IRS031_corrupted.csv"
    path.write_bytes(("\ufeff" + "\r\n".join(lines)).encode())
    message, err = run_failing(path, "POPULATION")
    assert "3 problem(s)" in message
    problems = err.splitlines()
    assert len(problems) == 3
    assert "line 4: column \"2020\" (Aizkraukle municipality, 2020): '29x58' is not a number" in problems[0]
    assert 'line 6: column "2020" (Augšdaugava municipality, 2020): the cell is empty' in problems[1]
    assert "line 8:" in problems[2] and "below the allowed minimum" in problems[2]
    assert snapshot() == (0, 0, 0, 0, 0, 0)


def test_dry_run_writes_nothing(portal, published_events):
    out, _err = run(IRS031, "POPULATION", "--dry-run")
    assert "504 created" in out and "dry run: nothing was saved" in out
    assert snapshot() == (0, 0, 0, 0, 0, 0)
    assert not Network.objects.get(code="T3").rounds.exists()


def test_unknown_item_and_item_no_network_uses(portal):
    message, _err = run_failing(IRS031, "NO_SUCH_ITEM")
    assert "unknown data item 'NO_SUCH_ITEM'" in message
    DataItemFactory(code="LONELY")
    message, _err = run_failing(IRS031, "LONELY")
    assert "no network uses data item LONELY" in message


def test_select_errors_name_dimensions_and_values(portal):
    message, _err = run_failing(TRS020_EN, "ROADS_KM", "--select", "Colour=Red")
    assert "no dimension 'Colour'" in message and "Types of surface" in message
    message, _err = run_failing(TRS020_EN, "ROADS_KM", "--select", "Indicator=Bridges")
    assert "no value 'Bridges'" in message and "State roads" in message
    message, _err = run_failing(TRS020_EN, "ROADS_KM", "--select", "Indicator")
    assert "DIMENSION=VALUE" in message
    assert Value.objects.count() == 0


def test_a_label_matching_two_units_is_an_error(portal, tmp_path):
    MunicipalityFactory(code="LVX000001", name="Ogres novads", name_en="Ogre Municipality")  # a twin of LV0040000
    path = tmp_path / "ogre.csv"
    path.write_text("Territorial unit,2024\nOgre municipality,1\nAizkraukle municipality,2\n", encoding="utf-8")
    _message, err = run_failing(path, "POPULATION")
    assert "'Ogre municipality' matches 2 municipalities" in err
    assert "LVX000001" in err and "LV0040000" in err
    assert Value.objects.count() == 0


def test_historic_suffix_and_hierarchy(portal, tmp_path):
    path = tmp_path / "suffix.csv"
    path.write_text(
        "Territorial unit,2024\n"
        "Aizkraukle municipality (before 01.07.2021.),10\n"
        "..Aizkraukle,7\n"  # a town of it
        "Aizkraukle municipality (from 01.07.2021.),20\n"
        "Zemgale region,30\n"
        "..Jelgava municipality,40\n"  # under a region: a municipality
        "Atlantis municipality,50\n",
        encoding="utf-8",
    )
    out, err = run(path, "POPULATION")
    assert "3 created" in out and "3 areas skipped" in out
    assert value("LV0320200", "2024").number == 10  # the 2009 unit, as the label says
    assert value("LV0020000", "2024").number == 20
    assert value("LV0030000", "2024").number == 40  # the unit of 2024
    assert "Atlantis municipality" in err  # looks like a municipality: said


def test_existing_submissions_keep_their_status_and_results_are_told(portal, published_events):
    aizkraukle = Municipality.objects.get(code="LV0020000")
    round_ = RoundFactory(network=portal, period=PeriodFactory(label="2024"))
    draft = SubmissionFactory(round=round_, municipality=aizkraukle, status=Submission.Status.DRAFT)
    aluksne = Municipality.objects.get(code="LV0021000")
    approved = SubmissionFactory(round=round_, municipality=aluksne, status=Submission.Status.APPROVED)
    ValueFactory(submission=approved, item=DataItem.objects.get(code="ROADS_KM"), number=Decimal(1))
    out, err = run(TRS020_EN, "ROADS_KM", *TOTALS)
    assert "42 created, 1 updated, 0 unchanged" in out
    draft.refresh_from_db()
    assert draft.status == Submission.Status.DRAFT  # staff's draft is not approved behind their back
    assert draft.values.get().number == 1657
    assert "1 submissions are not approved yet" in err
    # One recompute request for the round (new submissions: every indicator).
    assert published_events == [("values_changed", {"round_id": draft.round_id, "item_ids": None})]
    published_events.clear()
    # A later revision of one figure: only this item's indicators.
    approved_value = Value.objects.get(submission=approved)
    approved_value.number = 5
    approved_value.save()
    out, _err = run(TRS020_EN, "ROADS_KM", *TOTALS)
    assert "0 created, 1 updated, 42 unchanged" in out
    item = DataItem.objects.get(code="ROADS_KM")
    assert published_events == [("values_changed", {"round_id": draft.round_id, "item_ids": [item.pk]})]


def test_every_network_using_the_item_gets_the_values(portal):
    other = NetworkFactory(code="S1")
    DataItem.objects.get(code="ROADS_KM").networks.add(other)
    out, _err = run(TRS020_LV, "ROADS_KM")
    assert "(networks S1, T3): 36 created" in out  # counted per figure, not per network
    assert Value.objects.filter(submission__round__network=other).count() == 36
    assert Value.objects.count() == 72


def test_values_history_records_official_values(portal):
    run(DATA / "handmade_IRS031.px", "POPULATION")
    history = Value.history.filter(missing_status="..").get()
    assert history.history_type == "+" and history.is_missing


def test_bad_files_are_refused_with_their_reason(portal, tmp_path):
    for name, content, expected in (
        ("empty.csv", b"", "no header line"),
        ("bad.json", b"{not json", "the file is not JSON"),
        ("bad.xlsx", b"PK\x03\x04garbage", "not a readable XLSX workbook"),
        ("cp1257.csv", "Teritoriālā vienība;2024\nAizkraukles novads;1\n".encode("cp1257"), "not UTF-8"),
        (
            "short.px",
            b'MATRIX="X";\nSTUB="A";\nVALUES("A")="a";\nHEADING="Time period";\n'
            b'VALUES("Time period")="2024";\nDATA=\n1 2;\n',
            "DATA holds 2 values",
        ),
        (
            "month.csv",
            b"Territorial unit,2024M01\nAizkraukle municipality,1\n",
            "monthly periods are not supported",
        ),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        message, err = run_failing(path, "POPULATION")
        assert expected in message + err, (name, message, err)
    assert Value.objects.count() == 0


# --- units -------------------------------------------------------------------------------------------


def test_title_names_the_dimensions():
    assert title_dimensions(
        "Population by sex in regions at the beginning of the year by Sex, Territorial unit, Indicator and Time period"
    ) == ["Sex", "Territorial unit", "Indicator", "Time period"]
    assert title_dimensions("Ceļu garums (km) - Teritoriālā vienība, Rādītāji un Laika periods") == [
        "Teritoriālā vienība",
        "Rādītāji",
        "Laika periods",
    ]


def test_latvian_genitives_give_the_offices_names():
    assert "Pļaviņas" in nominatives("Pļaviņu")
    assert "Cēsis" in nominatives("Cēsu")
    assert "Tukums" in nominatives("Tukuma")
    assert "Aizkraukle" in nominatives("Aizkraukles")
    assert "Ventspils" in nominatives("Ventspils")


@pytest.mark.django_db
def test_areas_by_code_with_or_without_prefix_and_by_folded_name():
    riga = MunicipalityFactory(code="LV0001000", name="Rīga", name_en="Riga")
    vainode = MunicipalityFactory(code="LV0645000", name="Vaiņodes novads")
    areas = Areas()
    assert areas.candidates(Category("0001000", "x")) == {riga.pk}
    assert areas.candidates(Category("LV0001000", "x")) == {riga.pk}
    assert areas.candidates(Category("RIGA", "RIGA")) == {riga.pk}
    assert areas.candidates(Category("x", "Vainode municipality")) == {vainode.pk}
    assert areas.candidates(Category("LV", "Latvia")) == set()


def test_read_keeps_lines_and_places():
    table = table_read(IRD060)
    assert [d.name for d in table.dimensions] == ["Sex", "Territorial unit", "Indicator", "Time period"]
    first = table.cells[0]
    assert (first.line, first.place, first.value) == (4, "D4", "1907675")
