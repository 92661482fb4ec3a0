"""The overview read at a glance: indicators by name (codes only in downloads, the API and the
hover's code line), one legend wherever bands appear, the own municipality marked in the table,
the figure and the narrow screen's list, which puts it first."""

from __future__ import annotations

import html as html_lib
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from comparisons.dashboard_views.tables import BandChip, BandListEntry, band_list_html
from indicators.models import Indicator

from .dashboard_fixtures import dashboard_data
from .test_dashboards import chart_figures, html_of, pages

LEGEND = '<aside class="dashboard-legend'


@pytest.fixture
def data(world):
    return dashboard_data(world)


def visible_text(html: str) -> str:
    """The text a person reads: the body without scripts, styles and tags, entities decoded."""
    body = html.split("<body", 1)[1] if "<body" in html else html
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


def codes_in(text: str, codes) -> list[str]:
    return sorted(code for code in codes if re.search(rf"(?<![A-Za-z0-9_]){re.escape(code)}(?![A-Za-z0-9_])", text))


def test_the_overview_names_its_columns_and_keeps_codes_for_the_download(world, data):
    client = world.client("viewer_a")
    html = html_of(client.get(pages(world)["overview"], {"period": "2024"}))
    header = html.split('id="table-heatmap"')[1].split("</thead>")[0]
    assert ">Sociālie dzīvokļi<" in header and ">Izmaksas<" in header
    assert ">SOC<" not in header and ">COST<" not in header
    heat = chart_figures(html)["chart-heatmap"]["data"][0]
    assert "Sociālie dzīvokļi" in heat["x"] and "SOC" not in heat["x"]
    # The code is the hover text's last line.
    # Each cell: its sentence, then the code (the tooltip's last line).
    assert heat["customdata"][0][heat["x"].index("Sociālie dzīvokļi")][1] == "SOC"
    assert "kods: %{customdata[1]}" in heat["hovertemplate"]
    export = client.get(pages(world)["overview"], {"period": "2024", "export": "heatmap", "format": "csv"})
    assert export.content.decode("utf-8-sig").splitlines()[0].split(",")[2:] == ["COST", "SIZE", "SOC"]


def test_the_own_municipality_is_marked_in_the_table_the_figure_and_first_in_the_list(world, data):
    html = html_of(world.client("viewer_a").get(pages(world)["overview"], {"period": "2024", "sort": "SOC"}))
    own_rows = re.findall(r'<tr class="own-row">(.*?)</tr>', html.split('id="table-heatmap"')[1], re.S)
    assert own_rows and "Aizkraukles novads" in own_rows[0]
    figure = chart_figures(html)["chart-heatmap"]
    yaxis = figure["layout"]["yaxis"]
    # Every row labelled; A is 3rd by SOC, outlined and marked.
    assert len(yaxis["tickvals"]) == len(figure["data"][0]["y"]) == 6
    assert yaxis["ticktext"][2] == "▶ Aizkraukles novads"
    (shape,) = figure["layout"]["shapes"]
    assert (shape["y0"], shape["y1"]) == (1.5, 2.5)
    entries = re.findall(r'<li class="band-list-entry([^"]*)"><details( open)?><summary><span[^>]*>([^<]+)<', html)
    assert entries[0] == (" own-entry", " open", "Aizkraukles novads")
    assert [name for _own, _open, name in entries[1:3]] == ["Dobeles novads", "Engures novads"]
    chips = html.split('class="band-list-entry own-entry"')[1].split("</details>")[0]
    assert "Sociālie dzīvokļi" in chips and "band-chip band-yellow" in chips


def test_a_legend_wherever_bands_and_arrows_appear(world, data):
    client = world.client("viewer_a")
    for name, url in pages(world).items():
        html = html_of(client.get(url, {"period": "2024"}))
        assert html.count(LEGEND) == 1, name
        assert "augšējā ceturtdaļa" in html.split(LEGEND)[1] and "↑ ↓ →" in html.split(LEGEND)[1], name


def test_the_narrow_list_escapes_every_text():
    entry = BandListEntry(
        name="<b>Ādaži</b>",
        link='/p/?a=1&b="2"',
        own=False,
        composite="1,5",
        chips=[BandChip(label="A&B", title='"full"', band="green", shown="<1>")],
    )
    built = band_list_html([entry], caption="<caption>")
    assert "<b>" not in built and "&lt;b&gt;Ādaži&lt;/b&gt;" in built
    assert 'href="/p/?a=1&amp;b=&quot;2&quot;"' in built and "A&amp;B" in built and "&lt;1&gt;" in built
    assert 'aria-label="&lt;caption&gt;"' in built and "<details>" in built
    # A band that is not one of the fixed bands is drawn as neutral, never put into the markup.
    odd = BandListEntry(name="X", link="/", own=False, composite="", chips=[BandChip("L", "T", '"><i>', "1")])
    built = band_list_html([odd], caption="c")
    assert "<i>" not in built and 'class="band-chip band-neutral"' in built


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks):
    # The recompute of the results is enqueued after commit: run it as the installation would.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", force=True, stdout=io.StringIO())


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_demo_overview_shows_no_indicator_code(demo, client, language):
    client.force_login(get_user_model().objects.get(username="demo-viewer"))
    codes = set(Indicator.objects.values_list("code", flat=True))
    assert "HEAT_COST_M2" in codes
    url = reverse("comparisons:overview", kwargs={"network": "T3"})
    for query in ({}, {"period": "2024"}):
        html = html_of(client.get(url, query, HTTP_ACCEPT_LANGUAGE=language))
        assert "table-heatmap" in html and "band-list" in html
        assert codes_in(visible_text(html), codes) == [], query
        # The codes are still there for those who look: the links and the figure's hover line.
        assert "HEAT_COST_M2" in html
    assert ("Heating cost per m²" if language == "en" else "Siltuma izmaksas uz m²") in visible_text(html)
