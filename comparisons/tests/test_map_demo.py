"""The demo's map: every member of a network on the shipped boundaries, opening on an indicator
with bands so the map is coloured at first sight."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from comparisons.dashboard_selectors import network_indicator_list
from networks.models import Membership, Network

from .test_dashboards import chart_figures, html_of


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", force=True, stdout=io.StringIO())


def test_every_demo_member_has_a_polygon_and_the_map_opens_coloured(demo, client):
    with open(settings.COMPARISON_BOUNDARIES_GEOJSON, encoding="utf-8") as handle:
        codes = {feature["properties"]["atvk_code"] for feature in json.load(handle)["features"]}
    for network in Network.objects.all():
        members = set(Membership.objects.filter(network=network).values_list("municipality__code", flat=True))
        assert members and members <= codes, network.code
    network = Network.objects.get(code="T3")
    indicators = network_indicator_list(network=network)
    assert indicators[0].polarity == "neutral"  # the demo's first indicator has no bands
    banded = next(i for i in indicators if i.polarity != "neutral")
    html = html_of(client.get(reverse("comparisons:map", kwargs={"network": "T3"}), HTTP_ACCEPT_LANGUAGE="en"))
    assert f'<option value="{banded.code}" selected>' in html
    traces = chart_figures(html)["chart-map"]["data"]
    assert len(traces) == len(codes)
    assert sum(trace["fillcolor"] != "#FFFFFF" for trace in traces) >= 40  # coloured, not blank
    assert "Boundaries: Administratīvās teritorijas, VARAM/VZD, data.gov.lv (CC0)" in html
