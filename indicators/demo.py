"""Demo content for `seed_demo`: the T3 indicator set, real context figures and invented values.

The catalogue (`data/catalogue/t3_public_services.csv`) and the context figures
(`data/values/lv_context.csv`: population on 1 January 2026, road length 2024 and area, from the
Central Statistical Bureau via the shared data folder) are real, and so is the municipalities'
population of 2012-2024: the bureau's table IRS031 (`data/csb/`, on the 2021 boundaries), imported
as official values by the command's own service (`official_import`, docs/official.md). The
history periods 2012-2020 carry only the population and the figures of the per-capita housing and
waste indicators, so their time series reach back before the 2021 reform. Every other figure is invented by
a seeded random generator, plausible for each municipality's size and kind, with trends over the
five periods (the 2022 energy price shock in heating costs, slowly rising connection and
recycling rates) and a few figures declared missing. The rounds are marked `is_demo`, so every
page that shows them says "demo data".

Deterministic: the same installation always gets the same figures, and running the seed again
changes nothing.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from networks.models import Municipality, Network
from networks.tabular import Row, Table, read_table

from .models import DataItem, Indicator, Round, Submission
from .services.catalogue import catalogue_import
from .services.imports import values_import
from .services.official import official_import, official_plan
from .services.official_tables import table_read

DATA_DIR = Path(settings.BASE_DIR) / "data"
CATALOGUE_FILES = (DATA_DIR / "catalogue" / "t3_public_services.csv",)
CONTEXT_FILE = DATA_DIR / "values" / "lv_context.csv"
DEMO_NETWORK = "T3"
DEMO_PERIODS = ("2021", "2022", "2023", "2024", "2025")
# Before the 2021 reform: published rounds with the population and a few items only.
HISTORY_PERIODS = tuple(str(year) for year in range(2012, 2021))
HISTORY_ITEMS = (
    "POPULATION",
    "DWELLINGS_MUNICIPAL",
    "SOCIAL_DWELLINGS",
    "HOUSING_QUEUE",
    "WASTE_TOTAL_T",
    "WASTE_SEPARATE_T",
)
# The indicators the history rounds ask (their items are HISTORY_ITEMS).
HISTORY_INDICATORS = (
    "MUN_DWELLINGS_1000",
    "SOCIAL_DWELLINGS_1000",
    "HOUSING_QUEUE_1000",
    "WASTE_PER_CAPITA",
    "WASTE_SEPARATE_SHARE",
)
# The official population (IRS031): its 2025 column is all "…", so 2025 keeps the context figure.
OFFICIAL_POPULATION = DATA_DIR / "csb" / "IRS031_population_2012-2025_en.csv"
OFFICIAL_PERIODS = tuple(str(year) for year in range(2012, 2025))
DEMO_MUNICIPALITY = "LV0020000"  # Aizkraukles novads: demo-staff fills its latest round
# Besides Aizkraukle, a few municipalities have not started the latest round yet.
LATE_MUNICIPALITIES = ("LV0038000", "LV0053000")
CONTEXT_ITEMS = ("POPULATION", "AREA_KM2", "ROADS_KM", "HOUSEHOLDS")
# Pre-merger population on 1 January 2025 given by the source's note (no 2026 figure).
POPULATION_2025 = {"LV0038000": 27102, "LV0055000": 2820}
MERGED_AWAY = {"LV0055000": "2025"}  # Varakļāni: merged into Madona on 1 July 2025
GROWING_SUBURBS = ("Mārupes", "Ķekavas", "Ādažu", "Ropažu", "Olaines", "Salaspils")
MISSING_NOTE = "dati netiek uzskaitīti (demo)"
HEAT_PRICE_INDEX = {"2021": 1.0, "2022": 1.55, "2023": 1.85, "2024": 1.62, "2025": 1.55}


def _profile(municipality: Municipality, population: float) -> dict[str, float]:
    """Per-municipality constants, seeded by its code so they do not depend on the others."""
    rng = random.Random(f"benchlearning-demo-{municipality.code}")  # noqa: S311 - invented figures, not security
    city = municipality.kind == "state_city"
    return {
        "city": city,
        "decline": -rng.uniform(0.005, 0.02)
        if any(name in municipality.name for name in GROWING_SUBURBS)
        else rng.uniform(0.002, 0.009 if city else 0.017),
        "household_size": rng.uniform(2.0, 2.3) if city else rng.uniform(2.2, 2.6),
        "dwellings_per_1000": rng.uniform(6, 22) if city else rng.uniform(10, 38),
        "social_share": rng.uniform(0.04, 0.2),
        "vacant_share": rng.uniform(0.01, 0.06) if city else rng.uniform(0.03, 0.16),
        "queue_per_1000": rng.uniform(1.5, 7) if city else rng.uniform(0.3, 4),
        "rent_per_dwelling": rng.uniform(900, 1600) if city else rng.uniform(450, 1000),
        "arrears": rng.uniform(0.03, 0.22),
        "repair_per_dwelling": rng.uniform(120, 700),
        "heated_m2_per_person": rng.uniform(14, 22) if city else rng.uniform(4, 14),
        "heat_eur_m2": rng.uniform(9.5, 13) if city else rng.uniform(10, 17),
        "outage_hours": rng.uniform(0, 12) if city else rng.uniform(0, 40),
        "water_share": rng.uniform(0.93, 0.99) if city else rng.uniform(0.45, 0.85),
        "sewer_gap": rng.uniform(0.01, 0.05) if city else rng.uniform(0.03, 0.15),
        "water_m3_per_person": rng.uniform(38, 55),
        "loss_share": rng.uniform(0.08, 0.2) if city else rng.uniform(0.12, 0.35),
        "paved_share": rng.uniform(0.8, 0.97) if city else rng.uniform(0.12, 0.45),
        "maint_per_km": rng.uniform(9000, 26000) if city else rng.uniform(1200, 4500),
        "light_kwh_per_km": rng.uniform(9000, 20000) if city else rng.uniform(600, 3500),
        "waste_t_per_person": rng.uniform(0.35, 0.5) if city else rng.uniform(0.22, 0.4),
        "separate_share": rng.uniform(0.18, 0.35),
    }


def _fmt(number: float, decimals: int) -> str:
    return str(Decimal(repr(max(number, 0.0))).quantize(Decimal(1).scaleb(-decimals)))


def demo_values_rows() -> list[tuple[str, str, str, str, str]]:
    """(municipality_code, item_code, period, value, note) for every municipality and period."""
    context = {
        (row.get("municipality_code"), row.get("item_code"), row.get("period")): (row.get("value"), row.get("note"))
        for row in read_table(CONTEXT_FILE).rows
    }
    decimals = dict(DataItem.objects.values_list("code", "decimals"))
    official = official_population()
    rows: list[tuple[str, str, str, str, str]] = []
    municipalities = Municipality.objects.filter(code__in={key[0] for key in context}).order_by("code")
    for municipality in municipalities:
        code = municipality.code
        real_population = context.get((code, "POPULATION", "2025"), ("", ""))[0]
        base = float(real_population) if real_population else float(POPULATION_2025.get(code, 10000))
        base_period = "2025" if real_population else "2024"
        profile = _profile(municipality, base)
        area = float(context[(code, "AREA_KM2", "2024")][0])
        roads = float(context[(code, "ROADS_KM", "2024")][0])
        for index, period in enumerate(HISTORY_PERIODS + DEMO_PERIODS, start=-len(HISTORY_PERIODS)):
            if MERGED_AWAY.get(code) == period:
                break
            rng = random.Random(f"benchlearning-demo-{code}-{period}")  # noqa: S311 - invented figures
            years_back = DEMO_PERIODS.index(base_period) - index
            population = official.get((code, period)) or base * (1 + profile["decline"]) ** years_back
            households = population / profile["household_size"]
            dwellings = population * profile["dwellings_per_1000"] / 1000 * rng.uniform(0.98, 1.01)
            heated = population * profile["heated_m2_per_person"] * (1 + 0.004 * index)
            supplied = population * profile["water_m3_per_person"] * rng.uniform(0.95, 1.05)
            road_length = roads * (1 + 0.002 * (index - 3))
            paved = road_length * min(profile["paved_share"] + 0.006 * index, 0.99)
            waste = population * profile["waste_t_per_person"] * rng.uniform(0.96, 1.04)
            water_share = min(profile["water_share"] + 0.008 * index, 0.995)
            figures = {
                "POPULATION": population,
                "AREA_KM2": area,
                "ROADS_KM": road_length,
                "HOUSEHOLDS": households,
                "DWELLINGS_MUNICIPAL": dwellings,
                "SOCIAL_DWELLINGS": dwellings * profile["social_share"],
                "DWELLINGS_VACANT": dwellings * profile["vacant_share"] * rng.uniform(0.7, 1.3),
                "HOUSING_QUEUE": population * profile["queue_per_1000"] / 1000 * rng.uniform(0.8, 1.2),
                "RENT_BILLED_EUR": dwellings * profile["rent_per_dwelling"] * (1 + 0.03 * index),
                "RENT_ARREARS_EUR": dwellings
                * profile["rent_per_dwelling"]
                * profile["arrears"]
                * rng.uniform(0.8, 1.2),
                "HOUSING_REPAIR_EUR": dwellings * profile["repair_per_dwelling"] * rng.uniform(0.6, 1.5),
                "HEATED_AREA_M2": heated,
                "HEAT_COST_EUR": heated
                * profile["heat_eur_m2"]
                * HEAT_PRICE_INDEX.get(period, 1.0)
                * rng.uniform(0.95, 1.05),
                "HEAT_OUTAGE_HOURS": profile["outage_hours"] * rng.uniform(0.3, 1.8),
                "HH_WATER": households * water_share,
                "HH_SEWER": households * max(water_share - profile["sewer_gap"], 0.2),
                "WATER_SUPPLIED_M3": supplied,
                "WATER_LOSS_M3": supplied * max(profile["loss_share"] - 0.005 * index, 0.04),
                "ROADS_PAVED_KM": paved,
                "ROAD_MAINT_EUR": road_length * profile["maint_per_km"] * (1 + 0.04 * index) * rng.uniform(0.9, 1.1),
                "STREETLIGHT_KWH": road_length * profile["light_kwh_per_km"] * (1 - 0.04 * index),
                "WASTE_TOTAL_T": waste,
                "WASTE_SEPARATE_T": waste * min(max(profile["separate_share"] + 0.025 * index, 0.03), 0.7),
            }
            for item_code, number in figures.items():
                if period in HISTORY_PERIODS and item_code not in HISTORY_ITEMS:
                    continue
                if item_code == "POPULATION" and (code, period) in official:
                    continue  # the official figure, imported by `official_import`
                real = context.get((code, item_code, period))
                if real is not None:
                    rows.append((code, item_code, period, *real))
                elif item_code not in CONTEXT_ITEMS and rng.random() < 0.02:
                    rows.append((code, item_code, period, "", MISSING_NOTE))
                else:
                    rows.append((code, item_code, period, _fmt(number, decimals.get(item_code, 0)), ""))
    return rows


def official_population() -> dict[tuple[str, str], float]:
    """The IRS031 population by (municipality code, period), read as `official_import` reads it."""
    item = DataItem.objects.filter(code="POPULATION").first()
    if item is None:
        return {}
    plan = official_plan(table_read(OFFICIAL_POPULATION), item=item, only=OFFICIAL_PERIODS)
    codes = dict(Municipality.objects.filter(pk__in={pk for pk, _label in plan.figures}).values_list("pk", "code"))
    return {
        (codes[pk], label): float(figure.number)
        for (pk, label), figure in plan.figures.items()
        if figure.number is not None
    }


def _table(rows: list[tuple[str, str, str, str, str]]) -> Table:
    columns = ["municipality_code", "item_code", "period", "value", "note"]
    return Table(columns, [Row(line, dict(zip(columns, row, strict=True))) for line, row in enumerate(rows, start=2)])


@transaction.atomic
def demo_values_seed(*, log: Callable[[str], object] = lambda _msg: None) -> None:
    """The T3 catalogue, context figures and five demo periods; latest round open, Aizkraukle in draft."""
    for path in CATALOGUE_FILES:
        report = catalogue_import(table=read_table(path))
        log(f"{path.relative_to(settings.BASE_DIR)}: {report}")
    network = Network.objects.get(code=DEMO_NETWORK)
    rows = demo_values_rows()
    latest = DEMO_PERIODS[-1]
    waiting = {DEMO_MUNICIPALITY, *LATE_MUNICIPALITIES}
    latest_codes = sorted({r[0] for r in rows if r[2] == latest} - waiting)
    # The coordinator has already approved the earliest submissions of the open round.
    early = set(latest_codes[: len(latest_codes) // 4])
    groups = (
        (Submission.Status.APPROVED, [r for r in rows if r[2] != latest or r[0] in early]),
        (Submission.Status.SUBMITTED, [r for r in rows if r[2] == latest and r[0] not in waiting | early]),
        # Not started yet: only the official context figures are there.
        (
            Submission.Status.DRAFT,
            [r for r in rows if r[2] == latest and r[0] in waiting and r[1] in CONTEXT_ITEMS],
        ),
    )
    for status, group in groups:
        report = values_import(table=_table(group), network=network, status=status, is_demo=True)
        log(f"demo values {network.code} ({status}): {report}")
    report = official_import(OFFICIAL_POPULATION, item_code="POPULATION", periods=OFFICIAL_PERIODS)
    log(f"{OFFICIAL_POPULATION.relative_to(settings.BASE_DIR)}: {report}")
    today = timezone.localdate()
    periods = HISTORY_PERIODS + DEMO_PERIODS
    for round_ in Round.objects.filter(network=network, period__label__in=periods).select_related("period"):
        fields: dict = {"is_demo": True}
        year = int(round_.period.label)
        if round_.period.label == latest:
            fields["status"] = Round.Status.OPEN
            fields["opens"] = round_.opens or datetime.date(year + 1, 1, 15)
            fields["deadline"] = round_.deadline or max(datetime.date(year + 1, 3, 31), today + datetime.timedelta(30))
        else:
            fields["status"] = Round.Status.PUBLISHED
            fields["opens"] = datetime.date(year + 1, 1, 15)
            fields["deadline"] = datetime.date(year + 1, 3, 31)
            fields["published_at"] = round_.published_at or datetime.datetime(year + 1, 6, 1, 12, tzinfo=datetime.UTC)
        if round_.period.label in HISTORY_PERIODS and not round_.indicators.exists():
            round_.indicators.set(Indicator.objects.filter(code__in=HISTORY_INDICATORS))
        changed = [name for name, value in fields.items() if getattr(round_, name) != value]
        if changed:
            for name in changed:
                setattr(round_, name, fields[name])
            round_.save(update_fields=changed)
