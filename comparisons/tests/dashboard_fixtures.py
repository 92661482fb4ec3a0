"""Real stored results for the dashboard tests: values, approved submissions, a real recompute.

Network T of the `world` fixture gets four more members (six in all) and three indicators;
three rounds: 2023 and 2024 published, 2025 closed but not published (provisional for
members, invisible to everyone else). Results are written by the engine's own service.
"""

from __future__ import annotations

from dataclasses import dataclass

from comparisons.runs import recompute_request, recompute_run_execute
from indicators.models import Indicator, Period, Round
from networks.tests.factories import MembershipFactory, MunicipalityFactory

from .factories import indicator_create, submissions_create

# SOC (higher is better): dwellings per 1000 people; COST (lower is better); SIZE (neutral).
# 2024 SOC: A 30, B 10, D 50, E 40, F 20, G 5 -> ranks D1 E2 A3 F4 B5 G6, median 25.
FIGURES = {
    "2023": {"a": (20, 130), "b": (12, 100), "d": (45, 90), "e": (40, 120), "f": (25, 140), "g": (6, 160)},
    "2024": {"a": (30, 110), "b": (10, 105), "d": (50, 95), "e": (40, 125), "f": (20, 150), "g": (5, 170)},
    # 2025: only approved figures, the round is not published. A's SOC is 777 (a marker value).
    "2025": {"a": (777, 100), "b": (11, 100), "d": (51, 100), "e": (41, 100), "f": (21, 100), "g": (4, 100)},
}
POPULATION = 1000
CENTROIDS = {"a": (56.60, 25.25), "b": (56.40, 24.19), "d": (57.15, 24.85), "e": (56.95, 24.10)}


@dataclass
class DashboardData:
    municipalities: dict
    soc: Indicator
    cost: Indicator
    size: Indicator
    rounds: dict


def dashboard_data(world) -> DashboardData:
    municipalities = {"a": world.a, "b": world.b}
    for key, code, name, name_en in (
        ("d", "LVD000004", "Dobeles novads", "Dobele Municipality"),
        ("e", "LVE000005", "Engures novads", "Engure Municipality"),
        ("f", "LVF000006", "Fiktīvais novads", "Fictive Municipality"),
        ("g", "LVG000007", "Gulbenes novads", "Gulbene Municipality"),
    ):
        municipalities[key] = MunicipalityFactory(code=code, name=name, name_en=name_en)
        MembershipFactory(network=world.network, municipality=municipalities[key])
    for key, (lat, lon) in CENTROIDS.items():
        municipality = municipalities[key]
        municipality.attributes = {"centroid_lat": str(lat), "centroid_lon": str(lon), "area_km2": str(100 + lat)}
        municipality.save()
    soc = indicator_create(
        code="SOC", formula="1000 * SOCIAL / POPULATION", polarity="higher", networks=[world.network], in_index=True
    )
    soc.name, soc.name_en, soc.unit, soc.decimals = "Sociālie dzīvokļi", "Social dwellings", "per 1000", 1
    soc.theme, soc.theme_en = "Mājokļi", "Housing"
    soc.uncertainty = "poisson"  # a count of dwellings: the indicator page draws a funnel plot
    soc.definition_en = "Social dwellings per 1000 inhabitants at the end of the year."
    soc.save()
    cost = indicator_create(code="COST", polarity="lower", networks=[world.network], in_index=True)
    cost.name, cost.name_en, cost.unit, cost.decimals = "Izmaksas", "Cost", "EUR", 0
    cost.theme, cost.theme_en = "Finanses", "Finance"
    cost.save()
    size = indicator_create(code="SIZE", formula="POPULATION", polarity="neutral", networks=[world.network])
    rounds = {}
    for label, figures in FIGURES.items():
        values = {
            municipalities[key]: {"SOCIAL": social, "POPULATION": POPULATION, "COST": cost_value}
            for key, (social, cost_value) in figures.items()
        }
        submissions_create(network=world.network, period=label, values=values)
        round_ = Round.objects.get(network=world.network, period__label=label)
        round_.status = Round.Status.PUBLISHED if label != "2025" else Round.Status.CLOSED
        round_.save()
        rounds[label] = round_
    for label in FIGURES:
        run = recompute_request(network=world.network, period=Period.objects.get(label=label), enqueue=False)
        recompute_run_execute(run_id=run.pk)
    return DashboardData(municipalities=municipalities, soc=soc, cost=cost, size=size, rounds=rounds)
