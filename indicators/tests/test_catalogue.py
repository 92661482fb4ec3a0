"""import_catalogue (the command-line contract): formulas checked on load; every catalogue file loads."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from indicators.models import DataItem, Indicator, NetworkIndicator
from networks.tests.factories import NetworkFactory

CATALOGUE_FILES = sorted((Path(settings.BASE_DIR) / "data" / "catalogue").glob("*.*"))

GOOD = """code,kind,name,name_en,unit,decimals,polarity,formula,min,max,influence,in_index,weight,networks,definition
SOCIAL_DWELLINGS,item,Sociālie dzīvokļi,Social dwellings,dzīv.,0,,,0,,,,,T,Sociālo dzīvokļu skaits
POPULATION,item,Iedzīvotāji,Population,cilv.,0,,,0,,,,,,Iedzīvotāju skaits
SOC_1000,indicator,Soc. uz 1000,Social per 1000,dzīv.,2,higher,1000 * SOCIAL_DWELLINGS / POPULATION,,,yes,yes,2,T U,Def
OUTAGES,indicator,Pārtraukumi,Outages,h,0,lower,,,,no,no,,T,Stundas
"""


def run(path: Path) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_catalogue", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path: Path, text: str, name: str = "catalogue.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8-sig"))
    return path


@pytest.fixture
def networks(db):
    return NetworkFactory(code="T"), NetworkFactory(code="U")


def test_import_creates_items_indicators_and_network_sets(networks, tmp_path):
    out, _err = run(write(tmp_path, GOOD))
    assert "data items: 3 created" in out
    assert "indicators: 2 created" in out
    indicator = Indicator.objects.get(code="SOC_1000")
    assert indicator.polarity == "higher"
    assert indicator.can_influence and indicator.in_index
    assert indicator.weight == 2
    assert {i.code for i in indicator.items.all()} == {"SOCIAL_DWELLINGS", "POPULATION"}
    assert set(NetworkIndicator.objects.filter(indicator=indicator).values_list("network__code", flat=True)) == {
        "T",
        "U",
    }
    assert list(DataItem.objects.get(code="SOCIAL_DWELLINGS").networks.values_list("code", flat=True)) == ["T"]


def test_an_indicator_without_formula_is_the_data_item_of_the_same_code(networks, tmp_path):
    run(write(tmp_path, GOOD))
    outages = Indicator.objects.get(code="OUTAGES")
    assert outages.formula == "OUTAGES"
    item = DataItem.objects.get(code="OUTAGES")
    assert item.name == "Pārtraukumi" and item.unit == "h"
    assert list(outages.items.all()) == [item]


def test_reimporting_the_same_file_changes_nothing(networks, tmp_path):
    path = write(tmp_path, GOOD)
    run(path)
    history = (DataItem.history.count(), Indicator.history.count())
    out, _err = run(path)
    assert "data items: 0 created, 0 updated, 2 unchanged; indicators: 0 created, 0 updated, 2 unchanged" in out
    assert (DataItem.history.count(), Indicator.history.count()) == history


def test_changing_a_formula_keeps_the_items_in_step(networks, tmp_path):
    run(write(tmp_path, GOOD))
    changed = GOOD.replace("1000 * SOCIAL_DWELLINGS / POPULATION", "SOCIAL_DWELLINGS").replace(",T U,", ",T,")
    out, _err = run(write(tmp_path, changed, "second.csv"))
    assert "indicators: 0 created, 1 updated, 1 unchanged" in out
    indicator = Indicator.objects.get(code="SOC_1000")
    assert [i.code for i in indicator.items.all()] == ["SOCIAL_DWELLINGS"]
    assert list(indicator.network_links.values_list("network__code", flat=True)) == ["T"]


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("1000 * SOCIAL_DWELLINGS / POPULATION", "1000 * SOCIAL_DWELINGS / POPULATION", "unknown data item code(s)"),
        ("1000 * SOCIAL_DWELLINGS / POPULATION", "1000 * (SOCIAL_DWELLINGS / POPULATION", "expected ')'"),
        ("1000 * SOCIAL_DWELLINGS / POPULATION", "__import__('os')", "unexpected character"),
        (",higher,", ",better,", "polarity must be higher, lower or neutral"),
        (",yes,yes,2,", ",maybe,yes,2,", "influence:"),
        (",2,T U,", ",2,T X,", "unknown network code(s): X"),
        ("OUTAGES,indicator", "OUTAGES,gauge", "kind must be item or indicator"),
    ],
)
def test_a_bad_row_imports_nothing_and_names_the_line(networks, tmp_path, replace, by, message):
    with pytest.raises(CommandError, match="nothing was imported"):
        err = io.StringIO()
        try:
            call_command("import_catalogue", str(write(tmp_path, GOOD.replace(replace, by))), stderr=err)
        finally:
            errors = err.getvalue()
    assert message in errors
    assert "line 4:" in errors or "line 5:" in errors
    assert not DataItem.objects.exists() and not Indicator.objects.exists()


def test_formula_may_use_items_already_in_the_database(networks, tmp_path):
    run(write(tmp_path, GOOD))
    more = "code,kind,name,formula\nPER_CAPITA,indicator,Uz iedzīvotāju,SOCIAL_DWELLINGS / POPULATION\n"
    out, _err = run(write(tmp_path, more, "more.csv"))
    assert "indicators: 1 created" in out
    # A missing column means empty, neutral or no.
    indicator = Indicator.objects.get(code="PER_CAPITA")
    assert (indicator.polarity, indicator.in_index, indicator.can_influence) == ("neutral", False, False)


def test_semicolons_and_xlsx_are_read(networks, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for line in GOOD.strip().splitlines():
        import csv

        sheet.append(next(csv.reader([line])))
    path = tmp_path / "catalogue.xlsx"
    workbook.save(path)
    out, _err = run(path)
    assert "indicators: 2 created" in out


@pytest.mark.parametrize("path", CATALOGUE_FILES, ids=lambda p: p.name)
def test_every_catalogue_file_in_the_repo_loads(db, path):
    from networks.demo import reference_data_seed

    reference_data_seed()
    out, _err = run(path)
    assert "created" in out
    out, _err = run(path)
    assert " 0 created, 0 updated" in out


def test_the_repo_ships_catalogue_files():
    assert CATALOGUE_FILES, "data/catalogue/ holds the demo indicator set"


OPTIONAL = (
    "code,kind,name,name_en,unit,decimals,polarity,formula,"
    "short_name,short_name_en,unit_en,additive,uncertainty\n"
    "POPULATION,item,Iedzīvotāju skaits gada sākumā,Population at the start of the year,cilv.,0,,,"
    "Iedzīvotāji,Population,persons,yes,\n"
    "BIRTHS,item,Dzimušo skaits,Live births,cilv.,0,,,,,persons,yes,\n"
    "BIRTH_RATE,indicator,Dzimušo skaits uz 1000 iedzīvotājiem,Live births per 1000 inhabitants,"
    "uz 1000,1,higher,1000 * BIRTHS / POPULATION,Dzimstība,Birth rate,per 1000,,poisson\n"
)


def test_optional_columns_give_short_names_english_units_and_flags(networks, tmp_path):
    from django.utils import translation

    run(write(tmp_path, OPTIONAL))
    population = DataItem.objects.get(code="POPULATION")
    assert population.additive and population.unit_en == "persons"
    assert not DataItem.objects.get(code="BIRTHS").short_name
    rate = Indicator.objects.get(code="BIRTH_RATE")
    assert rate.uncertainty == "poisson"
    with translation.override("lv"):
        assert rate.display_short_name == "Dzimstība"
        assert rate.display_unit == "uz 1000"
        # Without a short name the name stands in.
        assert DataItem.objects.get(code="BIRTHS").display_short_name == "Dzimušo skaits"
    with translation.override("en"):
        assert rate.display_short_name == "Birth rate"
        assert rate.display_unit == "per 1000"
        assert DataItem.objects.get(code="BIRTHS").display_short_name == "Live births"
    # Re-importing changes nothing.
    out, _err = run(write(tmp_path, OPTIONAL))
    assert "0 updated" in out and "1 unchanged" in out


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        (",poisson\n", ",normal\n", "line 4: uncertainty must be poisson, binomial or empty"),
        (",persons,yes,\nBIRTHS", ",persons,maybe,\nBIRTHS", "line 2: additive:"),
        (",Dzimstība,", "," + "D" * 81 + ",", "line 4: short_name is longer than 80 characters"),
    ],
)
def test_bad_optional_columns_import_nothing(networks, tmp_path, replace, by, message):
    text = OPTIONAL.replace(replace, by, 1)
    assert text != OPTIONAL
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_catalogue", str(write(tmp_path, text)), stderr=err)
    assert message in err.getvalue()
    assert not DataItem.objects.exists()


@pytest.mark.parametrize("path", CATALOGUE_FILES, ids=lambda p: p.name)
def test_every_catalogue_row_in_the_repo_has_short_names_and_an_english_unit(db, path):
    """Pages show the short names, never the codes: every shipped item and indicator has them."""
    from django.utils import translation

    from networks.demo import reference_data_seed

    reference_data_seed()
    run(path)
    for model in (DataItem, Indicator):
        for entry in model.objects.all():
            assert entry.short_name and entry.short_name_en and entry.unit_en, entry.code
            assert len(entry.short_name) <= 40 and len(entry.short_name_en) <= 40, entry.code
            with translation.override("en"):
                assert entry.display_short_name == entry.short_name_en
                assert entry.display_unit == entry.unit_en
