"""A per-capita indicator for a period before the 2021 reform ranks the 2021 municipalities.

The population is the office's IRD060 figures of the 119 old units, the dwellings a figure per old
unit imported with `import_values`; both are summed on the 2021 boundaries (docs/official.md) and
the indicator is computed from the sums by its formula, never by summing ratios.
"""

from __future__ import annotations

import io
import itertools
from decimal import Decimal
from html import unescape

import pytest
from django.core.management import call_command

from comparisons.models import Result
from comparisons.services import results_recompute
from indicators.models import Period, Polarity, Value
from indicators.tests.factories import DataItemFactory, IndicatorFactory, NetworkIndicatorFactory
from indicators.tests.test_reform import IRD060, KRASLAVA_2021, PREILI_2021, SELECT, imported, portal  # noqa: F401
from networks.models import Municipality

AIZKRAUKLE_2021 = "LV0020000"


@pytest.fixture
def per_capita(portal, tmp_path):  # noqa: F811 - the fixture imported above
    dwellings = DataItemFactory(code="DWELLINGS", min_value=Decimal(0), additive=True)
    indicator = IndicatorFactory(
        code="DWELLINGS_PER_1000", formula="1000 * DWELLINGS / POPULATION", polarity=Polarity.HIGHER, decimals=2
    )
    indicator.items.set([dwellings, DataItemFactory(code="POPULATION")])
    NetworkIndicatorFactory(network=portal, indicator=indicator)
    old = Municipality.objects.filter(valid_to="2021-06-30").order_by("code")
    lines = ["municipality_code,item_code,period,value"]
    # A figure per old unit that is no share of its population: the ratios differ unit by unit.
    lines += [f"{m.code},DWELLINGS,2020,{100 + 7 * n}" for n, m in enumerate(old)]
    path = tmp_path / "dwellings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    call_command("import_values", str(path), "--network", "T3", "--status", "approved", stdout=io.StringIO())
    call_command(
        "import_official", str(IRD060), "--item", "POPULATION", *SELECT, stdout=io.StringIO(), stderr=io.StringIO()
    )
    return indicator


def test_a_reconstructed_period_ranks_the_successors(per_capita, portal):  # noqa: F811 - the fixture imported above
    period = Period.objects.get(label="2020")
    results_recompute(network=portal, period=period)
    rows = {
        r.municipality.code: r
        for r in Result.objects.filter(
            network=portal, period=period, indicator=per_capita, peer_group="network"
        ).select_related("municipality")
    }
    members = set(Municipality.objects.filter(memberships__network=portal).values_list("code", flat=True))
    # Rows for the network's members only: the old units are counted through their successors.
    assert set(rows) == members
    assert {r.n for r in rows.values()} == {len(members) - 2}  # Preiļu and Krāslavas novads: missing
    for code in (PREILI_2021, KRASLAVA_2021):
        assert rows[code].value is None and rows[code].missing_reason.startswith("missing input")
    # The indicator of the sums, not a sum of ratios.
    sums = {
        item: Value.objects.get(
            item__code=item, submission__municipality__code=AIZKRAUKLE_2021, submission__round__period=period
        ).number
        for item in ("DWELLINGS", "POPULATION")
    }
    old = Municipality.objects.filter(successor__code=AIZKRAUKLE_2021)
    assert sums["DWELLINGS"] == sum(
        Value.objects.get(item__code="DWELLINGS", submission__municipality=m, submission__round__period=period).number
        for m in old
    )
    expected = float(1000 * sums["DWELLINGS"] / sums["POPULATION"])
    assert rows[AIZKRAUKLE_2021].value == pytest.approx(expected)
    # The ranks order the successors' values, best (highest) first.
    ranked = sorted((r for r in rows.values() if r.value is not None), key=lambda r: r.rank)
    assert [r.rank for r in ranked] == list(range(1, len(members) - 1))
    assert all(a.value >= b.value for a, b in itertools.pairwise(ranked))


# --- the pages mark a period before the municipality existed --------------------------------------


def test_pages_mark_the_periods_before_the_municipality_existed(world, django_assert_max_num_queries):
    from comparisons.tests.dashboard_fixtures import dashboard_data
    from comparisons.tests.test_dashboards import html_of, pages

    dashboard_data(world)
    # A came into being in 2024: its 2023 figures are its predecessors' (reconstructed).
    Municipality.objects.filter(pk=world.a.pk).update(valid_from="2024-01-01")
    client = world.client("viewer_a")
    with django_assert_max_num_queries(12):
        html = html_of(client.get(pages(world)["profile"], {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert "2023 *: 20.0; 2024: 30.0" in html
    assert "reconstructed from the predecessors' figures" in html  # the legend
    assert "its figures of 2024 are reconstructed" not in html
    with django_assert_max_num_queries(12):
        html = unescape(html_of(client.get(pages(world)["profile"], {"period": "2023"}, HTTP_ACCEPT_LANGUAGE="en")))
    assert "its figures of 2023 are reconstructed from the predecessors' figures *" in html
    assert "(Reconstructed from the predecessor municipalities.)" in html
    with django_assert_max_num_queries(12):
        html = html_of(client.get(pages(world)["indicator"], {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en"))
    series = html.split('id="table-series"')[1].split("</table>")[0]
    assert "2023 *" in series and "2024 *" not in series
    with django_assert_max_num_queries(12):
        html = html_of(client.get(pages(world)["indicator"], {"period": "2023"}, HTTP_ACCEPT_LANGUAGE="lv"))
    ranking = html.split('id="table-ranking"')[1].split("</table>")[0]
    assert f"{world.a.display_name} *" in ranking
    assert "rekonstruēts no priekšteču pašvaldību datiem" in html
