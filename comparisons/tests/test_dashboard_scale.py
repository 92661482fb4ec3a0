"""What keeps the dashboards fast at 500 members x 200 indicators, checked against the slow
way it replaced: the heatmap read a page at a time, tables built in Python instead of the
template language, numbers formatted without `number_format`, the peer groups found by an
index walk instead of `SELECT DISTINCT`, the API's visibility without a subquery per row."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.urls import reverse
from django.utils import formats, translation
from hypothesis import given, settings
from hypothesis import strategies as st

from comparisons import dashboard_selectors, selectors
from comparisons.dashboard_views import dashboards
from comparisons.dashboard_views.tables import Cell, Table, number, table_html
from comparisons.models import Result
from networks.collation import latvian_key
from networks.models import Membership, Municipality

from .dashboard_fixtures import dashboard_data

NAMES = r"(Aizkraukles|Bauskas|Dobeles|Engures|Fiktīvais|Gulbenes) novads"


@pytest.fixture
def data(world):
    return dashboard_data(world)


def heat_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode().split('id="table-heatmap"')[1].split("</table>")[0]


def overview(world) -> str:
    return reverse("comparisons:overview", kwargs={"network": "T"})


def test_the_heatmap_is_read_a_page_at_a_time_in_the_order_of_the_whole(world, data, monkeypatch):
    monkeypatch.setattr(dashboards, "OVERVIEW_ROWS", 4)
    client = world.client("viewer_a")
    everyone = ["Aizkraukles", "Bauskas", "Dobeles", "Engures", "Fiktīvais", "Gulbenes"]
    first = client.get(overview(world), {"period": "2024", "sort": "name"})
    assert re.findall(NAMES, heat_of(first)) == everyone[:4]
    html = first.content.decode()
    assert "Pašvaldības 1\u20134 no 6" in html
    second = client.get(overview(world), {"period": "2024", "sort": "name", "page": "2"})
    assert re.findall(NAMES, heat_of(second)) == everyone[4:]
    # By an indicator's rank (SOC 2024: D1 E2 A3 F4 B5 G6): the sort runs over all members.
    by_rank = client.get(overview(world), {"period": "2024", "sort": "SOC", "page": "2"})
    assert re.findall(NAMES, heat_of(by_rank)) == ["Bauskas", "Gulbenes"]
    # Out of range or nonsense: the nearest real page, never an error.
    assert (
        re.findall(NAMES, heat_of(client.get(overview(world), {"period": "2024", "sort": "name", "page": "99"})))
        == (everyone[4:])
    )
    assert (
        re.findall(NAMES, heat_of(client.get(overview(world), {"period": "2024", "sort": "name", "page": "x"})))
        == (everyone[:4])
    )
    # The viewer's own municipality (A, 3rd by SOC) is one click away from any page.
    pager = by_rank.content.decode().split('<nav class="d-print-none small mb-2"')[1].split("</nav>")[0]
    assert re.search(r'href="\?[^"]*sort=SOC[^"]*page=1"[^>]*>[^<]*Aizkraukles novads', pager)


def test_the_export_has_every_row_and_column_whatever_the_page(world, data, monkeypatch):
    monkeypatch.setattr(dashboards, "OVERVIEW_ROWS", 2)
    monkeypatch.setattr(dashboards, "OVERVIEW_COLUMNS", 1)
    client = world.client("viewer_a")
    response = client.get(overview(world), {"period": "2024", "page": "2", "export": "heatmap", "format": "csv"})
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 6  # header + every member
    assert lines[0].split(",")[2:] == ["COST", "SIZE", "SOC"]


def test_indicator_columns_are_paged_and_the_sort_keeps_its_column_page(world, data, monkeypatch):
    monkeypatch.setattr(dashboards, "OVERVIEW_COLUMNS", 2)
    client = world.client("viewer_a")
    first = client.get(overview(world), {"period": "2024"})
    header = first.content.decode().split('id="table-heatmap"')[1].split("</thead>")[0]
    # Columns by name; the sort keys are the codes.
    assert ">Izmaksas<" in header and "sort=SIZE" in header and "sort=SOC" not in header
    second = client.get(overview(world), {"period": "2024", "cols": "2"})
    header = second.content.decode().split('id="table-heatmap"')[1].split("</thead>")[0]
    assert ">Sociālie dzīvokļi<" in header and "sort=COST" not in header
    # Sorting by a column of the second page stays on that page.
    assert re.search(r'href="\?[^"]*cols=2[^"]*sort=SOC"', header)


def test_a_past_period_shows_the_members_of_that_period(world, data):
    """B left the network in mid-2025: 2024 still compares it, 2025 no longer."""
    Membership.objects.filter(network=world.network, municipality=world.b).update(
        joined=datetime.date(2020, 1, 1), left=datetime.date(2024, 12, 31)
    )
    client = world.client("coordinator")
    in_2024 = re.findall(NAMES, heat_of(client.get(overview(world), {"period": "2024", "sort": "name"})))
    in_2025 = re.findall(NAMES, heat_of(client.get(overview(world), {"period": "2025", "sort": "name"})))
    assert "Bauskas" in in_2024 and "Bauskas" not in in_2025
    html = client.get(overview(world), {"period": "2024"}).content.decode()
    status = html.split("dashboard-controls")[1].split("</p>")[0]
    assert re.search(r"6\D+6", status)  # approved 6 of 6 members then, not "6 of 5"


def test_peer_groups_found_by_the_index_walk_equal_select_distinct(world, data):
    period_ids = list(Result.objects.values_list("period_id", flat=True).distinct())
    expected = set(
        Result.objects.filter(network=world.network, period_id__in=period_ids)
        .values_list("period_id", "peer_group")
        .distinct()
    )
    assert len({name for _period, name in expected}) > 1  # more than the network group
    assert selectors.stored_peer_groups_of(network_id=world.network.pk, period_ids=period_ids) == expected
    assert selectors.stored_peer_groups_of(network_id=world.network.pk, period_ids=[]) == set()


def test_api_visibility_without_subqueries_matches_the_rounds(world, data):
    """Anonymous: the published rounds of a public network; members also the approved 2025."""
    anonymous = set(dashboard_selectors.visible_results(user=AnonymousUser()).values_list("period__label", "published"))
    assert anonymous == {("2023", True), ("2024", True)}
    member = set(
        dashboard_selectors.visible_results(user=world.users["viewer_a"]).values_list("period__label", "published")
    )
    assert member == {("2023", True), ("2024", True), ("2025", False)}


def test_api_filters_by_unknown_codes_give_an_empty_page(world, data):
    client = world.client("anonymous")
    for param in ("network", "period", "indicator", "municipality"):
        response = client.get("/api/results/", {param: "NO-SUCH"})
        assert response.status_code == 200 and response.json()["count"] == 0, param


# --- tables and numbers, against the slow way ----------------------------------------------------

# The template `comparisons/_table.html` had before the table was built in Python.
REFERENCE_TEMPLATE = (
    '{% load i18n %}<div class="table-responsive" tabindex="0" role="region" aria-label="{{ table.caption }}">\n'
    '<table class="table table-sm table-hover dashboard-table" id="table-{{ table.slug }}">\n'
    "  <caption>{{ table.caption }}</caption>\n"
    "  <thead><tr>\n"
    "    {% for label, sort_key in table.header_cells %}\n"
    '      <th scope="col"{% if sortable and sort_key and sort_key == sort %} aria-sort="ascend'
    'ing"{% endif %}>{% if sort_key and sortable %}<a href="?{{ query_without_sort }}{% if quer'
    'y_without_sort %}&amp;{% endif %}sort={{ sort_key|urlencode }}" hx-get="?{{ query_without_'
    'sort }}{% if query_without_sort %}&amp;{% endif %}sort={{ sort_key|urlencode }}" hx-target'
    '="#dashboard" hx-push-url="true">{{ label }}</a>{% else %}{{ label }}{% endif %}</th>\n'
    "    {% endfor %}\n"
    "  </tr></thead>\n"
    "  <tbody>\n"
    "  {% for highlight, cells in table.display_rows %}\n"
    '    <tr{% if highlight %} class="own-row"{% endif %}>\n'
    "      {% for shown, link, is_number in cells %}\n"
    '        {% if forloop.first %}<th scope="row">{% if link %}<a href="{{ link }}">{{ shown }'
    '}</a>{% else %}{{ shown }}{% endif %}{% if highlight %} <span class="badge text-bg-warning'
    '">{% translate "yours" %}</span>{% endif %}</th>\n'
    '        {% else %}<td{% if is_number %} class="num"{% endif %}>{% if link %}<a href="{{ li'
    'nk }}">{{ shown }}</a>{% else %}{{ shown }}{% endif %}</td>{% endif %}\n'
    "      {% endfor %}\n"
    "    </tr>\n"
    "  {% endfor %}\n"
    "  </tbody>\n"
    "</table>\n"
    "</div>"
)


def _squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("language", ["lv", "en"])
def test_table_markup_equals_the_template_it_replaced(language):
    table = Table(
        slug="heat<map>",
        caption='Caption & "quotes" <b>',
        header=["Municipality", "Composite", "A&B"],
        sort_keys={0: "name", 2: "A&B code"},
    )
    table.add([Cell(raw="Ādažu <novads>", link="/p/?a=1&b=2"), Cell(raw=1234567.891, decimals=2), Cell()])
    table.add(
        [Cell(raw="Bauskas novads"), Cell(raw=-0.004, decimals=2), Cell(raw="x", display="▲ <top>")], highlight=True
    )
    table.add([Cell(raw=None), Cell(raw=12, decimals=0), Cell(raw=True)])
    for sortable, sort, query in ((True, "name", "period=2024&peer=region"), (False, "", ""), (True, "A&B code", "")):
        with translation.override(language):
            expected = Template(REFERENCE_TEMPLATE).render(
                Context({"table": table, "sortable": sortable, "sort": sort, "query_without_sort": query})
            )
            built = table_html(table, sortable=sortable, sort=sort, query_without_sort=query)
        assert _squeeze(built) == _squeeze(expected)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.floats(min_value=-1e14, max_value=1e14, allow_nan=False),
        st.integers(min_value=-(10**13), max_value=10**13).map(float),
        st.sampled_from([0.0, -0.0, 0.005, -0.005, 0.125, 2.675, 999.995, -999.995, 1e-9, 1234.5]),
    ),
    decimals=st.integers(min_value=0, max_value=4),
    language=st.sampled_from(["lv", "en"]),
)
def test_numbers_are_formatted_as_number_format_would(value, decimals, language):
    with translation.override(language):
        expected = formats.number_format(
            round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True
        )
        if not expected.strip("-0,."):
            expected = expected.lstrip("-")  # a rounded-away minus is not shown: "0,00", not "-0,00"
        assert number(value, decimals) == expected


def test_control_options_are_escaped_and_the_current_one_selected():
    from comparisons.templatetags.dashboard_tags import indicator_options, municipality_options
    from indicators.models import Indicator
    from networks.models import Municipality

    towns = [Municipality(pk=1, code="LV1", name='Ādaži <b>&"'), Municipality(pk=2, code="LV2", name="Bauska")]
    html = municipality_options(towns, towns[1])
    assert html == (
        '<option value="LV1">Ādaži &lt;b&gt;&amp;&quot;</option><option value="LV2" selected>Bauska</option>'
    )
    assert "selected" not in municipality_options(towns, None)
    items = [Indicator(code="SOC", name="Soc<ial>"), Indicator(code="COST", name="Cost")]
    with translation.override("lv"):
        html = indicator_options(items, items[0])
    assert html.startswith('<option value="SOC" selected>Soc&lt;ial&gt;</option>')


def test_a_pinned_language_names_things_in_the_language_of_the_page_being_built():
    from indicators.models import Indicator
    from networks.models import Municipality, language_pinned

    town = Municipality(code="LV1", name="Ādažu novads", name_en="Adazi municipality")
    item = Indicator(code="SOC", name="Sociālā palīdzība", name_en="Social assistance", short_name_en="Social")
    with translation.override("en"), language_pinned():
        assert (town.display_name, item.display_short_name, number(1234.5, 1)) == (
            "Adazi municipality",
            "Social",
            "1,234.5",
        )
    with translation.override("lv"), language_pinned():
        assert (town.display_name, item.display_short_name, number(1234.5, 1)) == (
            "Ādažu novads",
            "Sociālā palīdzība",
            "1\u00a0234,5",
        )
    # Outside a pinned page the language is looked up on each call, as before.
    with translation.override("en"):
        assert town.display_name == "Adazi municipality"
    with translation.override("lv"):
        assert town.display_name == "Ādažu novads"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Ādaži", "Aizpute", "Cēsis", "Čaka", "Zilupe", "Ērgļi"]),
            st.sampled_from([None, 1.0, 2.5, 40.0]),
        ),
        max_size=12,
    )
)
@settings(max_examples=200, deadline=None)
def test_composite_rows_best_first_collates_names_only_among_ties(rows):
    """The same order as sorting every row by (no index, -index, Latvian name)."""
    records = [
        dashboard_selectors.CompositeRow(i, "", value, None, Municipality(pk=i, code=str(i), name=name))
        for i, (name, value) in enumerate(rows)
    ]
    with translation.override("lv"):
        expected = sorted(
            records,
            key=lambda r: (r.index_value is None, -(r.index_value or 0), latvian_key(r.municipality.display_name)),
        )
        assert [(r.municipality.name, r.index_value) for r in dashboard_selectors.best_first(records)] == [
            (r.municipality.name, r.index_value) for r in expected
        ]
