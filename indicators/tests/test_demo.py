"""The demo content of seed_demo: the T3 indicator set, real context figures, five demo periods,
and the history periods 2012-2020 with the official population (IRS031)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from indicators.demo import DEMO_PERIODS, HISTORY_INDICATORS, HISTORY_ITEMS, HISTORY_PERIODS, demo_values_rows
from indicators.formula import parse_formula
from indicators.models import DataItem, Indicator, Round, Submission, Value
from networks.models import Network


@pytest.fixture(scope="module")
def rows(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import transaction

        from networks.demo import reference_data_seed

        with transaction.atomic():
            reference_data_seed()
            from indicators.demo import CATALOGUE_FILES
            from indicators.services.catalogue import catalogue_import
            from networks.tabular import read_table

            catalogue_import(table=read_table(CATALOGUE_FILES[0]))
            result = demo_values_rows()
            transaction.set_rollback(True)
    return result


def test_the_demo_set_has_12_to_20_bilingual_indicators_with_definitions(db):
    from networks.demo import reference_data_seed

    reference_data_seed()
    call_command("import_catalogue", "data/catalogue/t3_public_services.csv", stdout=io.StringIO())
    indicators = list(Network.objects.get(code="T3").indicators.all())
    assert 12 <= len(indicators) <= 20
    for indicator in indicators:
        assert indicator.name and indicator.name_en and indicator.definition and indicator.definition_en
        assert indicator.items.exists()
    # Counts per 1000 inhabitants: their indicator pages draw a funnel plot.
    flagged = {i.code: i.uncertainty for i in indicators if i.uncertainty}
    assert flagged == {"SOCIAL_DWELLINGS_1000": "poisson", "HOUSING_QUEUE_1000": "poisson"}
    # Counts, lengths, money and areas carry across a reform; an average of hours does not.
    additive = dict(DataItem.objects.values_list("code", "additive"))
    assert additive["POPULATION"] and additive["ROADS_KM"] and additive["RENT_BILLED_EUR"]
    assert not additive["HEAT_OUTAGE_HOURS"]


def test_every_municipality_has_five_periods_with_real_context(rows):
    by_key = {(r[0], r[1], r[2]): r for r in rows}
    municipalities = {r[0] for r in rows}
    assert len(municipalities) == 43
    assert {r[2] for r in rows} == set(HISTORY_PERIODS + DEMO_PERIODS)
    assert {r[1] for r in rows if r[2] in HISTORY_PERIODS} == set(HISTORY_ITEMS)
    # The municipalities' population of 2012-2024 is official (imported from IRS031, not a demo
    # row); the state cities, which IRS031 does not list, keep a demo figure.
    assert ("LV0020000", "POPULATION", "2015") not in by_key and ("LV0020000", "POPULATION", "2024") not in by_key
    assert ("LV0001000", "POPULATION", "2015") in by_key
    # Real figures from the shared data: Rīga's population on 1 January 2026 and its roads in 2024.
    assert by_key[("LV0001000", "POPULATION", "2025")][3] == "588911"
    assert by_key[("LV0001000", "ROADS_KM", "2024")][3] == "1205"
    # Madona has no 2026 figure in the source: declared missing with the reason.
    madona = by_key[("LV0038000", "POPULATION", "2025")]
    assert madona[3] == "" and "nav pieejams" in madona[4]
    # Varakļāni merged into Madona on 1 July 2025: no 2025 figures.
    assert ("LV0055000", "POPULATION", "2025") not in by_key
    assert ("LV0055000", "HOUSEHOLDS", "2024") in by_key
    missing = [r for r in rows if r[3] == ""]
    assert 0 < len(missing) < len(rows) * 0.05


def test_demo_figures_are_plausible(rows):
    by_key = {(r[0], r[1], r[2]): Decimal(r[3]) for r in rows if r[3]}
    for code in ("LV0001000", "LV0020000", "LV0047000"):
        for period in DEMO_PERIODS:
            water = by_key[(code, "HH_WATER", period)] / by_key[(code, "HOUSEHOLDS", period)]
            assert 0.4 < water <= 1
            heat = by_key[(code, "HEAT_COST_EUR", period)] / by_key[(code, "HEATED_AREA_M2", period)]
            assert 5 < heat < 40
    # The 2022 energy price shock shows in heating costs.
    riga = {p: by_key[("LV0001000", "HEAT_COST_EUR", p)] for p in ("2021", "2022")}
    assert riga["2022"] > riga["2021"] * Decimal("1.3")


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())


def test_seed_demo_creates_demo_rounds(seeded):
    rounds = Round.objects.filter(network__code="T3").select_related("period")
    assert sorted(r.period.label for r in rounds) == list(HISTORY_PERIODS + DEMO_PERIODS)
    # Before the reform: the per-capita indicators alone, on the official population of that year.
    history = rounds.get(period__label="2015")
    assert sorted(history.indicators.values_list("code", flat=True)) == sorted(HISTORY_INDICATORS)
    population = Value.objects.get(
        item__code="POPULATION", submission__round=history, submission__municipality__code="LV0020000"
    )
    assert population.number == 32202  # Aizkraukle municipality's 2015 average population in IRS031
    assert "IRS031" in population.explanation
    assert all(r.is_demo for r in rounds)
    latest = rounds.get(period__label="2025")
    assert latest.status == Round.Status.OPEN
    assert {r.status for r in rounds if r != latest} == {Round.Status.PUBLISHED}
    past = Submission.objects.filter(round__network__code="T3").exclude(round=latest)
    assert set(past.values_list("status", flat=True)) == {Submission.Status.APPROVED}
    home = Submission.objects.get(round=latest, municipality__code="LV0020000")
    assert home.status == Submission.Status.DRAFT
    # Only the official figures are there: demo-staff has the rest to fill in.
    assert set(home.values.values_list("item__code", flat=True)) <= {"POPULATION", "AREA_KM2", "ROADS_KM", "HOUSEHOLDS"}
    # Every indicator's formula can be evaluated on the approved demo figures.
    submission = Submission.objects.get(round__period__label="2024", municipality__code="LV0001000")
    values = {v.item.code: v.number for v in Value.objects.filter(submission=submission).select_related("item")}
    for indicator in Indicator.objects.filter(networks__code="T3"):
        result, reason = parse_formula(indicator.formula).evaluate(values)
        assert result is not None or "missing" in reason


def test_demo_staff_can_download_and_upload_the_template_of_the_open_round(seeded, client):
    from django.urls import reverse
    from openpyxl import load_workbook

    latest = Round.objects.get(network__code="T3", period__label="2025")
    client.login(username="demo-staff", password="benchlearning-demo")
    url = reverse("indicators:excel_template", args=[latest.pk, "LV0020000"])
    response = client.get(url)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "template.xlsx"
    response = client.post(reverse("indicators:excel_upload", args=[latest.pk, "LV0020000"]), {"file": buffer})
    assert response.status_code == 200  # an untouched template: no problem, no change
    assert 'class="excel-problem"' not in response.content.decode()


def test_seed_demo_twice_changes_no_value(seeded):
    history = Value.history.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Value.history.count() == history
