"""The open-data API: its schema validates, every endpoint answers every persona, and
unpublished or members-only results reach only the network's members."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from conftest import PERSONAS
from networks.models import Network

from .dashboard_fixtures import dashboard_data

MEMBERS = {"staff_a", "staff_b", "viewer_a", "coordinator"}
ENDPOINTS = ["api:network_list", "api:indicator_list", "api:result_list", "api:composite_list"]


@pytest.fixture
def data(world):
    return dashboard_data(world)


def everything(client, url: str, params: dict | None = None) -> list[dict]:
    """Every row of a paginated list, following `next`."""
    rows = []
    response = client.get(url, params or {})
    while True:
        assert response.status_code == 200
        body = response.json()
        rows.extend(body["results"])
        if not body["next"]:
            return rows
        response = client.get(body["next"])


def test_the_schema_validates(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = set(schema["paths"])
    assert {"/api/results/", "/api/indicators/", "/api/composite/", "/api/networks/"} <= paths
    parameters = {p["name"] for p in schema["paths"]["/api/results/"]["get"]["parameters"]}
    assert {"network", "period", "indicator", "municipality", "peer_group", "page"} <= parameters


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_schema_is_served_to_everyone(world, persona):
    response = world.client(persona).get(reverse("api:schema"))
    assert response.status_code == 200
    assert b"/api/results/" in response.content


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_endpoint_answers_every_persona(world, data, persona):
    client = world.client(persona)
    for name in ENDPOINTS:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        assert {"count", "next", "previous", "results"} <= set(body), name


@pytest.mark.parametrize("persona", PERSONAS)
def test_unpublished_results_only_for_members(world, data, persona):
    client = world.client(persona)
    rows = everything(client, reverse("api:result_list"), {"network": "T"})
    periods = {row["period"] for row in rows}
    values = {row["value"] for row in rows}
    if persona in MEMBERS:
        assert periods == {"2023", "2024", "2025"}
        assert 777.0 in values
        assert {row["provisional"] for row in rows if row["period"] == "2025"} == {True}
        assert {row["provisional"] for row in rows if row["period"] == "2024"} == {False}
    else:
        assert periods == {"2023", "2024"}
        assert 777.0 not in values
        assert not any(row["provisional"] for row in rows)
    composite = everything(client, reverse("api:composite_list"), {"network": "T"})
    assert ("2025" in {row["period"] for row in composite}) is (persona in MEMBERS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_members_only_network_results_only_for_members(world, data, persona):
    Network.objects.filter(pk=world.network.pk).update(policy=Network.Policy.MEMBERS)
    client = world.client(persona)
    rows = everything(client, reverse("api:result_list"))
    assert bool(rows) is (persona in MEMBERS)
    # Definitions are public whatever the policy.
    codes = {row["code"] for row in everything(client, reverse("api:indicator_list"), {"network": "T"})}
    assert codes == {"SOC", "COST", "SIZE"}


def test_filters_and_fields(world, data):
    client = world.client("anonymous")
    rows = everything(
        client,
        reverse("api:result_list"),
        {"network": "T", "period": "2024", "indicator": "SOC", "municipality": world.a.code},
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["value"], row["rank"], row["n"], row["band"], row["median"]) == (30.0, 3, 6, "yellow", 25.0)
    assert (row["network"], row["period"], row["indicator"], row["peer_group"]) == ("T", "2024", "SOC", "network")
    assert row["improved"] is True and row["previous_value"] == 20.0
    region = everything(client, reverse("api:result_list"), {"network": "T", "period": "2024", "peer_group": "region"})
    assert region and {r["peer_group"] for r in region} == {"region"}
    assert everything(client, reverse("api:result_list"), {"indicator": "NOPE"}) == []
    indicator = everything(client, reverse("api:indicator_list"), {"network": "T"})
    soc = next(i for i in indicator if i["code"] == "SOC")
    assert (soc["formula"], soc["polarity"], soc["networks"]) == ("1000 * SOCIAL / POPULATION", "higher", ["T"])


def test_results_are_paginated(world, data):
    client = world.client("viewer_a")
    first = client.get(reverse("api:result_list"), {"network": "T", "page_size": 5}).json()
    assert len(first["results"]) == 5 and "page=2" in first["next"]
    assert len(everything(client, reverse("api:result_list"), {"network": "T", "page_size": 5})) == first["count"]
    # 3 periods x 3 indicators x 6 members in the network peer group.
    assert first["count"] == 54


def test_api_lists_use_few_queries(world, data, django_assert_max_num_queries):
    client = world.client("viewer_a")
    for name in ENDPOINTS:
        with django_assert_max_num_queries(8):
            assert client.get(reverse(name)).status_code == 200


def test_api_is_read_only(world, data):
    client = world.client("coordinator")
    assert client.post(reverse("api:result_list"), {}).status_code in (403, 405)


def test_a_members_list_reads_its_networks_once(world, data):
    """A member's list costs the anonymous list's queries plus the session, the user, the roles
    and the member networks, each read once (the visibility rule is asked once per request)."""
    url = reverse("api:result_list") + "?network=T"
    visitor, viewer = world.client("anonymous"), world.client("viewer_a")
    with CaptureQueriesContext(connection) as anonymous:
        assert visitor.get(url).status_code == 200
    with CaptureQueriesContext(connection) as member:
        assert viewer.get(url).status_code == 200
    assert len(member) <= len(anonymous) + 4
