"""The API's results carry the statistics office's mark of a missing input (docs/official.md)."""

from __future__ import annotations

from django.urls import reverse

from comparisons.runs import recompute_request, recompute_run_execute
from indicators.models import Period, Value

from .dashboard_fixtures import dashboard_data


def _rows(client, **params) -> dict[tuple[str, str], dict]:
    response = client.get(reverse("api:result_list"), {"network": "T", "period": "2024", **params})
    assert response.status_code == 200
    return {(row["indicator"], row["municipality"]): row for row in response.json()["results"]}


def test_a_result_missing_for_want_of_a_marked_value_shows_the_mark(world, django_assert_max_num_queries):
    data = dashboard_data(world)
    g = data.municipalities["g"]
    Value.objects.filter(
        submission__round__network=world.network,
        submission__round__period__label="2024",
        submission__municipality=g,
        item__code="COST",
    ).update(number=None, is_missing=True, missing_reason=".. confidential", missing_status="..")
    run = recompute_request(network=world.network, period=Period.objects.get(label="2024"), enqueue=False)
    recompute_run_execute(run_id=run.pk)

    client = world.client("anonymous")
    rows = _rows(client, page_size=100)
    cost = rows[("COST", g.code)]
    assert cost["value"] is None and cost["missing_reason"] == "missing input: COST"
    assert cost["missing_status"] == ".."
    # Figures that are there, and other municipalities' rows, carry no mark.
    assert rows[("SOC", g.code)]["missing_status"] == ""
    assert rows[("COST", world.a.code)]["missing_status"] == ""
    # One more query for the page, none when no row on it misses an input.
    with django_assert_max_num_queries(9):
        _rows(client, page_size=100)
    with django_assert_max_num_queries(8):
        _rows(client, municipality=world.a.code)


def test_the_schema_names_the_field(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "missing_status" in schema["components"]["schemas"]["Result"]["properties"]
