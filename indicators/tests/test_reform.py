"""History across a reform (docs/official.md): the 2021 municipalities' 2020 figures from their predecessors'.

Real data: the Central Statistical Bureau's IRD060 (population of the 119 units of 2009-2021 at the
beginning of 2020 and 2021, `data/csb/`) imported with `import_official`, and the portal's own seed
lists of municipalities (`data/lv/`). The expected sums are read from the file independently, with
openpyxl, by the office's labels.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from indicators.models import DataItem, Submission, Value
from indicators.services.reform import predecessor_parts, reconstruct, reconstructed_period
from indicators.tests.factories import DataItemFactory
from networks.models import Municipality, SuccessorShare
from networks.tests.factories import MembershipFactory, NetworkFactory

DATA = Path(__file__).parent / "data" / "csb"
LV = Path(settings.BASE_DIR) / "data" / "lv"
IRD060 = DATA / "IRD060_population_2020-2021_old_units_en.xlsx"
SELECT = ("--select", "Sex=Total", "--select", "Indicator=By registered place")
AIZKRAUKLE_2021 = "LV0020000"
PREILI_2021 = "LV0042000"
KRASLAVA_2021 = "LV0032000"


def ird060_figures(year: str) -> dict[str, int]:
    """The office's label → its population "by registered place", both sexes, at the beginning of
    `year`: the units of the first block (Total), read straight from the sheet."""
    sheet = openpyxl.load_workbook(IRD060, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    column = list(rows[2]).index(year)
    figures: dict[str, int] = {}
    sex = label = None
    for row in rows[3:]:
        sex = row[0] or sex
        label = row[1] or label
        if sex != "Total" or row[2] != "By registered place" or str(label).startswith(".."):
            continue
        figures.setdefault(str(label), row[column])
    return figures


def value(code: str, period: str, item: str = "POPULATION") -> Value:
    return Value.objects.get(
        item__code=item, submission__municipality__code=code, submission__round__period__label=period
    )


def run_reconstruction(*args: str) -> str:
    out = io.StringIO()
    call_command("reconstruct_reform", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def portal(db):
    """The real municipalities of 2021 and 2009 with the shipped successor shares; network T3 of the
    43 units of 2021 (Varakļānu novads' membership ended with its merger into Madonas novads in
    2025) uses the population (additive) and a rate (not additive)."""
    for name in ("municipalities_2021.csv", "municipalities_2009.csv"):
        call_command("import_municipalities", str(LV / name), stdout=io.StringIO())
    call_command("import_successor_shares", str(LV / "successor_shares_2021.csv"), stdout=io.StringIO())
    network = NetworkFactory(code="T3", name="Komunālie pakalpojumi")
    for municipality in Municipality.objects.filter(valid_from="2021-07-01"):
        MembershipFactory(network=network, municipality=municipality, left=municipality.valid_to)
    population = DataItemFactory(
        code="POPULATION", min_value=Decimal(0), source=DataItem.Source.OFFICIAL, additive=True
    )
    rate = DataItemFactory(code="EMPLOYMENT_RATE", additive=False)
    population.networks.add(network)
    rate.networks.add(network)
    return network


@pytest.fixture
def imported(portal):
    out = io.StringIO()
    call_command("import_official", str(IRD060), "--item", "POPULATION", *SELECT, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_aizkraukle_2020_is_the_sum_of_its_six_predecessors(imported):
    figures = ird060_figures("2020")
    six = [
        "Aizkraukle municipality",
        "Jaunjelgava municipality",
        "Koknese municipality",
        "Nereta municipality",
        "Pļaviņas municipality",
        "Skrīveri municipality",
    ]
    # The import itself carried the population over (the item is additive).
    assert "reconstructed values" in imported
    aizkraukle = value(AIZKRAUKLE_2021, "2020")
    assert aizkraukle.number == sum(figures[label] for label in six)
    assert aizkraukle.reconstructed and not aizkraukle.is_missing
    assert aizkraukle.submission.status == Submission.Status.APPROVED
    assert "Pļaviņu novads 4818" in aizkraukle.explanation
    # The predecessors are exactly those six units of the seed list.
    predecessors = Municipality.objects.filter(successor__code=AIZKRAUKLE_2021)
    assert {m.name_en for m in predecessors} == set(six)
    # 2021 (the beginning of 2021) is not before the 2021 units existed: nothing reconstructed.
    assert not Value.objects.filter(
        submission__municipality__code=AIZKRAUKLE_2021, submission__round__period__label="2021"
    ).exists()


def test_every_whole_successor_is_the_sum_and_the_country_is_kept(imported):
    figures = ird060_figures("2020")
    by_successor: dict[str, int] = {}
    members = Municipality.objects.filter(memberships__network__code="T3")
    for municipality in Municipality.objects.filter(successor__in=members, valid_to="2021-06-30"):
        by_successor.setdefault(municipality.successor.code, 0)
        by_successor[municipality.successor.code] += figures[municipality.name_en]
    reconstructed = Value.objects.filter(reconstructed=True, submission__round__period__label="2020")
    # Every unit of 2021; Madonas novads without Varakļānu novads, which it took over only in 2025.
    assert reconstructed.count() == 43 == members.count()
    for v in reconstructed.select_related("submission__municipality"):
        code = v.submission.municipality.code
        if code in (PREILI_2021, KRASLAVA_2021):
            assert v.is_missing
        else:
            assert v.number == by_successor[code], code
    # Without Aglonas novads' part, the whole country minus the two successors it went to.
    total = sum(v.number for v in reconstructed if not v.is_missing)
    aglona, preili, kraslava = (
        figures[label] for label in ("Aglona municipality", "Preiļi municipality", "Krāslava municipality")
    )
    others_of_two = sum(
        figures[m.name_en]
        for m in Municipality.objects.filter(successor__code__in=(PREILI_2021, KRASLAVA_2021)).exclude(split=True)
    )
    assert total == figures["LATVIA"] - others_of_two - aglona
    assert preili and kraslava


def test_a_divided_unit_without_shares_gives_a_missing_value_with_the_reason(imported):
    preili = value(PREILI_2021, "2020")
    assert preili.is_missing and preili.number is None and preili.reconstructed
    assert preili.missing_reason == "Aglonas novads was divided and no shares are given"
    kraslava = value(KRASLAVA_2021, "2020")
    assert kraslava.is_missing and "Aglonas novads was divided" in kraslava.missing_reason
    # The reason in Latvian.
    with translation.override("lv"):
        reconstruct()
    assert value(PREILI_2021, "2020").missing_reason == "Aglonas novads tika sadalīts, un daļas nav norādītas"


def test_a_divided_unit_with_shares_gives_the_weighted_sum(imported, tmp_path):
    figures = ird060_figures("2020")
    shares = tmp_path / "shares.csv"
    shares.write_text(
        "predecessor_code,successor_code,share,note\n"
        'LV0604300,LV0042000,"0,35",test share\n'
        "LV0604300,LV0032000,65%,test share\n",
        encoding="utf-8",
    )
    call_command("import_successor_shares", str(shares), stdout=io.StringIO())
    out = run_reconstruction()
    assert "2 updated" in out
    preili = value(PREILI_2021, "2020")
    whole = sum(figures[label] for label in ("Preiļi municipality", "Riebiņi municipality", "Vārkava municipality"))
    assert preili.number == whole + Decimal("0.35") * figures["Aglona municipality"]
    assert not preili.is_missing and preili.missing_reason == ""
    kraslava = value(KRASLAVA_2021, "2020")
    whole = sum(figures[label] for label in ("Krāslava municipality", "Dagda municipality"))
    assert kraslava.number == whole + Decimal("0.65") * figures["Aglona municipality"]
    assert f"Aglonas novads 0.65 * {figures['Aglona municipality']}" in kraslava.explanation


def test_non_additive_items_are_not_carried(imported, portal, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "municipality_code,item_code,period,value\nLV0320200,EMPLOYMENT_RATE,2020,61.5\nLV0321400,EMPLOYMENT_RATE,2020,58\n",
        encoding="utf-8",
    )
    call_command("import_values", str(rates), "--network", "T3", "--status", "approved", stdout=io.StringIO())
    run_reconstruction()
    assert not Value.objects.filter(
        item__code="EMPLOYMENT_RATE", submission__municipality__code=AIZKRAUKLE_2021
    ).exists()
    assert not Value.objects.filter(item__code="EMPLOYMENT_RATE", reconstructed=True).exists()
    err = io.StringIO()
    call_command("reconstruct_reform", "--item", "EMPLOYMENT_RATE", stdout=io.StringIO(), stderr=err)
    assert "EMPLOYMENT_RATE is not additive" in err.getvalue()


def test_idempotent_and_recorded_in_the_history(imported):
    aizkraukle = value(AIZKRAUKLE_2021, "2020")
    history = list(aizkraukle.history.all())
    assert len(history) == 1 and history[0].history_type == "+" and history[0].reconstructed
    counts = (Value.objects.count(), Value.history.count(), Submission.objects.count())
    out = run_reconstruction()
    assert "0 created, 0 updated, 0 removed, 43 unchanged" in out
    assert (Value.objects.count(), Value.history.count(), Submission.objects.count()) == counts
    # A predecessor's figure changes: the sum follows, with a history row of the change.
    plavinas = value("LV0321400", "2020")
    Value.objects.filter(pk=plavinas.pk).update(number=plavinas.number + 100)
    out = run_reconstruction("--network", "T3", "--item", "POPULATION")
    assert "0 created, 1 updated" in out
    changed = value(AIZKRAUKLE_2021, "2020")
    assert changed.number == aizkraukle.number + 100
    assert [h.history_type for h in changed.history.order_by("history_date", "history_id")] == ["+", "~"]


def test_the_municipalitys_own_figure_wins(imported, tmp_path):
    own = tmp_path / "own.csv"
    own.write_text("municipality_code,item_code,period,value\nLV0020000,POPULATION,2020,30000\n", encoding="utf-8")
    call_command("import_values", str(own), "--network", "T3", "--status", "approved", stdout=io.StringIO())
    aizkraukle = value(AIZKRAUKLE_2021, "2020")
    assert aizkraukle.number == 30000 and not aizkraukle.reconstructed
    out = run_reconstruction()
    assert value(AIZKRAUKLE_2021, "2020").number == 30000
    assert "42 unchanged" in out


def test_all_or_nothing_and_unknown_names(imported):
    with pytest.raises(CommandError, match="unknown network"):
        run_reconstruction("--network", "NOPE")
    with pytest.raises(CommandError, match="NOPE"):
        run_reconstruction("--item", "NOPE")
    before = Value.objects.filter(reconstructed=True).count()
    out = run_reconstruction("--dry-run")
    assert "dry run" in out
    assert Value.objects.filter(reconstructed=True).count() == before


def test_parts_of_whole_and_divided_units(portal):
    parts = predecessor_parts()
    aizkraukle = Municipality.objects.get(code=AIZKRAUKLE_2021)
    assert {p.share for p in parts[aizkraukle.pk]} == {Decimal(1)}
    assert len(parts[aizkraukle.pk]) == 6
    aglona = Municipality.objects.get(name="Aglonas novads")
    assert aglona.split
    for code in (PREILI_2021, KRASLAVA_2021):
        successor = Municipality.objects.get(code=code)
        assert [p.share for p in parts[successor.pk] if p.predecessor_id == aglona.pk] == [None]
    assert SuccessorShare.objects.count() == 2


def test_reconstructed_period_is_before_the_municipality_existed():
    import datetime

    reform = datetime.date(2021, 7, 1)
    assert reconstructed_period(reform, datetime.date(2020, 12, 31))
    assert reconstructed_period(reform, datetime.date(2021, 6, 30))
    assert not reconstructed_period(reform, datetime.date(2021, 12, 31))
    assert not reconstructed_period(None, datetime.date(2000, 12, 31))


def test_the_2009_units_english_names_are_the_statistics_office_labels():
    """Every top-level area of IRD060 that is no region (the 119 units of 2009-2021) is the English
    name of exactly one unit of the seed list, and every unit's English name is such a label."""
    sheet = openpyxl.load_workbook(IRD060, read_only=True).worksheets[0]
    labels = {
        str(row[1]).strip()
        for row in sheet.iter_rows(min_row=4, values_only=True)
        if row[1] and not str(row[1]).startswith("..")
    }
    labels -= {label for label in labels if label == "LATVIA" or "region" in label}
    assert len(labels) == 119
    with (LV / "municipalities_2009.csv").open(encoding="utf-8") as handle:
        units = list(csv.DictReader(handle))
    assert len(units) == 119
    for label in labels:
        assert len([u for u in units if u["name_en"] == label]) == 1, label
    for unit in units:
        assert unit["name_en"] in labels, unit["name"]
    by_code = {u["code"]: u["name_en"] for u in units}
    assert by_code["LV0321400"] == "Pļaviņas municipality"  # Pļaviņu novads
    assert by_code["LV0010000"] == "Riga"  # the republican city, as the office writes it
    assert by_code["LV0640600"] == "Aizpute municipality"


def test_two_reforms_in_a_row_and_the_form_replaces_a_reconstructed_value(db):
    """A (until 2015) → B (2016-2020) → C (from 2021), B and C members: C's 2014 is B's 2014, itself
    A's; a figure typed into C's form replaces the reconstructed one."""
    import datetime

    from indicators.models import Round
    from indicators.services.values import ValueInput, submission_values_save
    from indicators.tests.factories import PeriodFactory, RoundFactory, SubmissionFactory, ValueFactory
    from networks.tests.factories import MunicipalityFactory

    c = MunicipalityFactory(code="LVC", valid_from=datetime.date(2021, 1, 1))
    b = MunicipalityFactory(
        code="LVB", valid_from=datetime.date(2016, 1, 1), valid_to=datetime.date(2020, 12, 31), successor=c
    )
    a = MunicipalityFactory(
        code="LVA", valid_from=datetime.date(2009, 7, 1), valid_to=datetime.date(2015, 12, 31), successor=b
    )
    network = NetworkFactory(code="N")
    for member in (b, c):
        MembershipFactory(network=network, municipality=member)
    item = DataItemFactory(code="KM", additive=True)
    item.networks.add(network)
    round_ = RoundFactory(network=network, period=PeriodFactory(label="2014"))
    ValueFactory(
        submission=SubmissionFactory(round=round_, municipality=a, status=Submission.Status.APPROVED),
        item=item,
        number=Decimal("12.5"),
    )
    report = reconstruct()
    assert (report.created, report.missing) == (2, 0)
    for code in ("LVB", "LVC"):
        assert value(code, "2014", "KM").number == Decimal("12.5") and value(code, "2014", "KM").reconstructed
    own = value("LVC", "2014", "KM")
    submission = own.submission
    submission_values_save(
        submission=submission,
        user=None,
        values={item.pk: ValueInput(number=Decimal(13))},
        expected_version=submission.version,
    )
    own.refresh_from_db()
    assert own.number == 13 and not own.reconstructed
    assert reconstruct().unchanged == 1  # B's; C's own figure is left alone
    assert Round.objects.count() == 1


def test_the_workspace_upload_reconstructs_as_the_command_does(portal, settings, tmp_path):
    """The coordinator's upload of IRD060 (preview, then confirm) carries the population over to
    the successors just as `import_official` does."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    from networks.models import Role
    from networks.tests.factories import RoleFactory, UserFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    user = UserFactory(username="t3-coordinator")
    RoleFactory(user=user, kind=Role.Kind.COORDINATOR, network=portal)
    client = Client()
    client.force_login(user)
    upload = reverse("indicators:official_upload", kwargs={"code": "T3"})
    selections = {"select:Sex": "Total", "select:Indicator": "By registered place"}
    file = SimpleUploadedFile(IRD060.name, IRD060.read_bytes())
    assert client.post(upload, {"file": file, "item": "POPULATION"}).status_code == 200
    preview = client.post(upload, {"item": "POPULATION", **selections})
    assert preview.status_code == 200 and preview.context["report"].created > 0
    assert not Value.objects.filter(reconstructed=True).exists()  # the preview writes nothing
    response = client.post(reverse("indicators:official_confirm", kwargs={"code": "T3"}), selections)
    assert response.status_code == 302
    figures = ird060_figures("2020")
    six = ["Aizkraukle", "Jaunjelgava", "Koknese", "Nereta", "Pļaviņas", "Skrīveri"]
    aizkraukle = value(AIZKRAUKLE_2021, "2020")
    assert aizkraukle.reconstructed
    assert aizkraukle.number == sum(figures[f"{name} municipality"] for name in six)
