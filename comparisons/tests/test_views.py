"""The JSON progress of a recompute run: for the network's coordinators and administrators."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import PERSONAS

from .factories import indicator_create, recompute_run_for, submissions_create

ALLOWED = {"coordinator"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_progress_of_a_run_of_the_own_network(world, persona):
    run = recompute_run_for(world)
    response = world.client(persona).get(reverse("comparisons:run_progress", kwargs={"pk": run.pk}))
    if persona in ALLOWED:
        assert response.status_code == 200
        data = response.json()
        assert (data["id"], data["status"], data["finished"], data["network"]) == (run.pk, "done", True, "T")
    else:
        assert response.status_code in (302, 403)


@pytest.mark.parametrize("persona", PERSONAS)
def test_nobody_but_an_administrator_sees_another_networks_run(world, persona):
    run = recompute_run_for(world, network=world.other_network)
    response = world.client(persona).get(reverse("comparisons:run_progress", kwargs={"pk": run.pk}))
    assert response.status_code in (302, 403)
    assert world.client("admin").get(reverse("comparisons:run_progress", kwargs={"pk": run.pk})).status_code == 200


def test_progress_of_a_real_run_and_unknown_runs(world, django_assert_max_num_queries):
    from comparisons.runs import recompute_request, recompute_run_execute
    from indicators.models import Period

    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 1}})
    run = recompute_request(network=world.network, period=Period.objects.get(label="2024"), enqueue=False)
    client = world.client("coordinator")
    url = reverse("comparisons:run_progress", kwargs={"pk": run.pk})
    assert client.get(url).json()["status"] == "pending"
    recompute_run_execute(run_id=run.pk)
    with django_assert_max_num_queries(4):
        data = client.get(url).json()
    assert (data["status"], data["progress"], data["finished"]) == ("done", 100, True)
    assert data["rows_written"] > 0 and data["duration"] > 0
    assert client.get(reverse("comparisons:run_progress", kwargs={"pk": run.pk + 1000})).status_code == 404
    assert client.post(url).status_code == 405
