"""Stored results: what `results_recompute` writes for each peer group (docs/statistics.md)."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest

from comparisons import engine, evaluation, writing
from comparisons.models import CompositeResult, Neighbour, PeerGroup, PeerGroupMember, Result
from comparisons.services import results_recompute
from indicators.models import Period, Round, Submission
from networks.tests.factories import MembershipFactory, MunicipalityFactory

from .factories import indicator_create, submissions_create


def _period(label: str) -> Period:
    return Period.objects.get(label=label)


def _rows(peer_group: str, indicator: str = "X", period: str = "2024") -> dict[str, Result]:
    return {
        r.municipality.code: r
        for r in Result.objects.filter(
            peer_group=peer_group, indicator__code=indicator, period__label=period
        ).select_related("municipality")
    }


@pytest.fixture
def five(world):
    """Network T with five reporting municipalities (A, B and three more) and X = 1000 * A / POP."""
    extra = []
    for i, region in enumerate(["Zemgale", "Latgale", "Latgale"]):
        municipality = MunicipalityFactory(
            code=f"LVX00000{i}", region=region, kind="state_city" if i == 2 else "municipality"
        )
        MembershipFactory(network=world.network, municipality=municipality)
        extra.append(municipality)
    members = [world.a, world.b, *extra]
    indicator_create(code="X", formula="1000 * A / POP", polarity="lower", networks=[world.network])
    figures = [(12, 1000), (30, 2000), (7, 500), (40, 1000), (9, 3000)]
    submissions_create(
        network=world.network,
        period="2024",
        values={m: {"A": a, "POP": pop} for m, (a, pop) in zip(members, figures, strict=True)},
    )
    return members, [1000 * a / pop for a, pop in figures]


def test_network_figures_match_an_independent_computation(world, five):
    members, values = five
    results_recompute(network=world.network, period=_period("2024"))
    rows = _rows("network")
    assert set(rows) == {m.code for m in members}
    data = np.array(values)
    for municipality, value in zip(members, values, strict=True):
        row = rows[municipality.code]
        assert row.value == value
        assert row.n == 5
        assert row.mean == pytest.approx(data.mean(), rel=1e-15)
        assert (row.q1, row.median, row.q3) == tuple(np.quantile(data, [0.25, 0.5, 0.75]))
        assert row.std == pytest.approx(data.std(ddof=1), rel=1e-15)
        # Lower is better: rank 1 is the smallest value.
        assert row.rank == 1 + int((data < value).sum())
        assert row.group_key == "T"
    best = min(rows.values(), key=lambda r: r.value)
    assert (best.rank, best.band, best.score, best.percentile) == (1, "green", 100.0, 100.0)


def test_missing_inputs_and_division_by_zero_keep_a_row_with_the_reason(world):
    indicator_create(code="X", formula="A / POP", networks=[world.network])
    submissions_create(
        network=world.network, period="2024", values={world.a: {"A": None, "POP": 5}, world.b: {"A": 1, "POP": 0}}
    )
    results_recompute(network=world.network, period=_period("2024"))
    rows = _rows("network")
    assert rows[world.a.code].value is None and rows[world.a.code].missing_reason == "missing input: A"
    assert rows[world.b.code].missing_reason == "division by zero"
    assert rows[world.a.code].band == "grey" and rows[world.a.code].rank is None
    assert rows[world.a.code].n == 0


def test_only_approved_submissions_are_compared(world):
    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 1}})
    submissions_create(
        network=world.network, period="2024", values={world.b: {"X": 2}}, status=Submission.Status.SUBMITTED
    )
    results_recompute(network=world.network, period=_period("2024"))
    rows = _rows("network")
    assert set(rows) == {world.a.code}
    assert rows[world.a.code].n == 1


def test_a_round_without_approved_values_stores_nothing_and_does_not_fail(world):
    """Publishing a round nobody's figures were approved in recomputes a scope without a single
    value: no rows, and no crash of the run (it used to build a frame with a duplicated column)."""
    indicator_create(code="X", networks=[world.network])
    submissions_create(
        network=world.network, period="2024", values={world.a: {"X": 1}}, status=Submission.Status.SUBMITTED
    )
    assert results_recompute(network=world.network, period=_period("2024")) == 0
    assert not Result.objects.exists()


def test_all_spans_every_network_and_prefers_the_own_networks_value(world):
    indicator = indicator_create(code="X", networks=[world.network, world.other_network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 10}, world.b: {"X": 20}})
    # A also reports X in network U, differently; C reports only in U.
    MembershipFactory(network=world.other_network, municipality=world.a)
    submissions_create(network=world.other_network, period="2024", values={world.a: {"X": 99}, world.c: {"X": 30}})
    # Another network's values enter once its round is published (U is public).
    Round.objects.filter(network=world.other_network).update(status=Round.Status.PUBLISHED)
    results_recompute(network=world.network, period=_period("2024"))
    rows = _rows("all")
    assert set(rows) == {world.a.code, world.b.code}  # only T's members are stored for T
    assert rows[world.a.code].n == 3
    assert rows[world.a.code].value == 10
    assert rows[world.a.code].mean == pytest.approx(20)
    assert _rows("network")[world.a.code].n == 2
    # In U's scope A's U value wins.
    results_recompute(network=world.other_network, period=_period("2024"), indicator_ids=[indicator.pk])
    u_rows = {r.municipality.code: r for r in Result.objects.filter(network=world.other_network, peer_group="all")}
    assert u_rows[world.a.code].value == 99


def test_kind_region_attribute_and_custom_groups(world, five, settings):
    members, _values = five
    settings.COMPARISON_ATTRIBUTES = None
    for municipality, group in zip(members, ["x", "x", "y", "y", "y"], strict=True):
        municipality.attributes = {"family_group": group, "area_km2": 100.0 + municipality.pk}
        municipality.save()
    custom = PeerGroup.objects.create(name="coast")
    for municipality in members[:3]:
        PeerGroupMember.objects.create(group=custom, municipality=municipality)
    results_recompute(network=world.network, period=_period("2024"))
    groups = set(Result.objects.values_list("peer_group", flat=True))
    # area_km2 never repeats, so it forms no attribute group; family_group does.
    assert {"network", "all", "kind", "region", "attr:family_group", "custom:coast"} <= groups
    assert "attr:area_km2" not in groups
    region = _rows("region")
    assert region[members[3].code].group_key == "Latgale" and region[members[3].code].n == 2
    assert region[world.a.code].n == 3
    assert _rows("kind")[members[4].code].n == 1
    assert _rows("attr:family_group")[world.a.code].n == 2
    assert set(_rows("custom:coast")) == {m.code for m in members[:3]}


def test_nearest_keeps_only_the_focal_row_and_explains_the_distance(world, five, settings):
    members, values = five
    settings.COMPARISON_NEAREST_CONTEXT = ["POP", "area_km2"]
    settings.COMPARISON_NEAREST_K = 2
    for i, municipality in enumerate(members):
        municipality.attributes = {"area_km2": [100, 110, 500, 520, 130][i]}
        municipality.save()
    results_recompute(network=world.network, period=_period("2024"))
    rows = _rows("nearest:2")
    assert set(rows) == {m.code for m in members}
    assert all(row.n == 3 and row.group_key == code for code, row in rows.items())
    neighbours = Neighbour.objects.filter(municipality=world.a).order_by("position")
    assert neighbours.count() == 2
    import pandas as pd

    context = pd.DataFrame(
        {"POP": [1000, 2000, 500, 1000, 3000], "area_km2": [100, 110, 500, 520, 130]},
        index=[str(m.pk) for m in members],
    )
    expected = engine.nearest_neighbours(context, 2)[str(world.a.pk)]
    assert [str(n.neighbour_id) for n in neighbours] == expected
    for neighbour in neighbours:
        assert sum(neighbour.contributions.values()) == pytest.approx(1)
        assert neighbour.contributions == pytest.approx(
            engine.distance_contributions(context, str(world.a.pk), str(neighbour.neighbour_id))
        )
    # The focal municipality's population: itself and its two neighbours.
    population = [values[members.index(world.a)]] + [
        values[[m.pk for m in members].index(n.neighbour_id)] for n in neighbours
    ]
    assert rows[world.a.code].mean == pytest.approx(np.mean(population))


def test_changes_against_the_previous_period(world):
    indicator_create(code="X", polarity="lower", networks=[world.network])
    submissions_create(network=world.network, period="2023", values={world.a: {"X": 10}, world.b: {"X": 5}})
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 8}, world.b: {"X": 6}})
    results_recompute(network=world.network, period=_period("2024"))
    rows = _rows("network")
    assert (rows[world.a.code].previous_value, rows[world.a.code].change_abs) == (10, -2)
    assert rows[world.a.code].change_rel == pytest.approx(-0.2)
    assert rows[world.a.code].improved is True  # lower is better and it went down
    assert rows[world.b.code].improved is False


def test_composite_index_over_the_index_indicators(world):
    indicator_create(code="X", networks=[world.network], in_index=True, weight=2)
    indicator_create(code="Y", networks=[world.network], in_index=True, weight=1)
    indicator_create(code="Z", networks=[world.network])
    submissions_create(
        network=world.network,
        period="2024",
        values={world.a: {"X": 10, "Y": 1, "Z": 1}, world.b: {"X": 20, "Y": None, "Z": 2}},
    )
    results_recompute(network=world.network, period=_period("2024"))
    composite = {c.municipality_id: c for c in CompositeResult.objects.filter(peer_group="network")}
    # A: X score 0 (worst), Y score 50 (alone): (2*0 + 1*50) / 3.
    assert composite[world.a.pk].index_value == pytest.approx(50 / 3)
    # B: only X (weight 2 of 3 = 67 % >= 60 %): score 100.
    assert composite[world.b.pk].index_value == 100
    assert composite[world.b.pk].coverage == pytest.approx(2 / 3)


def test_incremental_recompute_replaces_only_the_affected_indicators(world):
    x = indicator_create(code="X", networks=[world.network])
    indicator_create(code="Y", networks=[world.network])
    submissions = submissions_create(
        network=world.network, period="2024", values={world.a: {"X": 1, "Y": 1}, world.b: {"X": 2, "Y": 2}}
    )
    results_recompute(network=world.network, period=_period("2024"))
    y_before = dict(Result.objects.filter(indicator__code="Y").values_list("pk", "computed_at"))
    submissions[world.a].values.filter(item__code__in=["X", "Y"]).update(number=5)
    written = results_recompute(network=world.network, period=_period("2024"), indicator_ids=[x.pk])
    assert _rows("network", "X")[world.a.code].value == 5
    assert _rows("network", "Y")[world.a.code].value == 1  # not recomputed
    assert dict(Result.objects.filter(indicator__code="Y").values_list("pk", "computed_at")) == y_before
    assert written == Result.objects.filter(indicator__code="X").count()


def test_a_failed_write_leaves_the_previous_results(world):
    indicator_create(code="X", networks=[world.network])
    submissions = submissions_create(
        network=world.network, period="2024", values={world.a: {"X": 1}, world.b: {"X": 2}}
    )
    results_recompute(network=world.network, period=_period("2024"))
    before = list(Result.objects.order_by("pk").values_list("pk", "value"))
    submissions[world.a].values.update(number=7)
    with (
        mock.patch.object(writing, "_insert", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        results_recompute(network=world.network, period=_period("2024"))
    assert list(Result.objects.order_by("pk").values_list("pk", "value")) == before


def test_unknown_peer_group_is_refused(world):
    indicator_create(code="X", networks=[world.network])
    submissions_create(network=world.network, period="2024", values={world.a: {"X": 1}})
    with pytest.raises(ValueError, match="unknown peer group"):
        results_recompute(network=world.network, period=_period("2024"), peer_group_names=["nearby"])


def test_an_incremental_run_keeps_the_full_runs_neighbours(world, five, settings):
    members, _values = five
    settings.COMPARISON_NEAREST_CONTEXT = ["area_km2"]
    settings.COMPARISON_NEAREST_K = 1
    for i, municipality in enumerate(members):
        municipality.attributes = {"area_km2": [100, 110, 500, 520, 130][i]}
        municipality.save()
    x = members[0]  # A: nearest is B (110)
    results_recompute(network=world.network, period=_period("2024"))
    assert list(Neighbour.objects.filter(municipality=x).values_list("neighbour__code", flat=True)) == [world.b.code]
    # Only an indicator changes: the neighbours (and their stored explanation) are reused.
    world.b.attributes = {"area_km2": 9999}
    world.b.save()
    indicator = Result.objects.filter(peer_group="nearest:1").values_list("indicator_id", flat=True).first()
    results_recompute(network=world.network, period=_period("2024"), indicator_ids=[indicator])
    assert _rows("nearest:1")[x.code].n == 2
    assert list(Neighbour.objects.filter(municipality=x).values_list("neighbour__code", flat=True)) == [world.b.code]
    # A full run (as a change of a context item triggers) finds the new nearest.
    results_recompute(network=world.network, period=_period("2024"))
    assert list(Neighbour.objects.filter(municipality=x).values_list("neighbour__code", flat=True)) == [members[4].code]


def test_an_incremental_run_rewrites_only_the_composite_rows_that_change(world):
    c = MunicipalityFactory(code="LVX000009", region="Zemgale")
    MembershipFactory(network=world.network, municipality=c)
    x = indicator_create(code="X", networks=[world.network], in_index=True, weight=2)
    indicator_create(code="Y", networks=[world.network], in_index=True, weight=1)
    submissions = submissions_create(
        network=world.network,
        period="2024",
        values={world.a: {"X": 10, "Y": 1}, world.b: {"X": 20, "Y": 2}, c: {"X": 15, "Y": 3}},
    )
    results_recompute(network=world.network, period=_period("2024"))
    before = {(row.peer_group, row.municipality_id): row.pk for row in CompositeResult.objects.all()}
    submissions[c].values.filter(item__code="X").update(number=16)  # between A and B: only C's score moves
    results_recompute(network=world.network, period=_period("2024"), indicator_ids=[x.pk])
    after = {(row.peer_group, row.municipality_id): row for row in CompositeResult.objects.all()}
    assert after.keys() == before.keys()
    rewritten = {key for key, row in after.items() if row.pk != before[key]}
    assert ("network", c.pk) in rewritten
    assert {municipality for _group, municipality in rewritten} == {c.pk}
    # What the incremental run left is what a full run stores.
    incremental = {key: (row.group_key, row.index_value, row.coverage) for key, row in after.items()}
    results_recompute(network=world.network, period=_period("2024"))
    full = {
        (row.peer_group, row.municipality_id): (row.group_key, row.index_value, row.coverage)
        for row in CompositeResult.objects.all()
    }
    assert incremental == full


@pytest.fixture
def index_of_three(world):
    """Network T: A, B, C and D in one region; X, Y and Z in the composite index (weights 2, 1, 1)."""
    c = MunicipalityFactory(code="LVX000009", region="Zemgale")
    d = MunicipalityFactory(code="LVX000008", region="Zemgale", kind="state_city")
    for municipality in (c, d):
        MembershipFactory(network=world.network, municipality=municipality)
    x = indicator_create(code="X", networks=[world.network], in_index=True, weight=2)
    indicator_create(code="Y", networks=[world.network], in_index=True, weight=1)
    indicator_create(code="Z", polarity="lower", networks=[world.network], in_index=True, weight=1)
    submissions = submissions_create(
        network=world.network,
        period="2024",
        values={
            world.a: {"X": 10, "Y": 1, "Z": 4},
            world.b: {"X": 20, "Y": 2, "Z": None},
            c: {"X": 15, "Y": 3, "Z": 1},
            d: {"X": 12, "Y": 7, "Z": 2},
        },
    )
    results_recompute(network=world.network, period=_period("2024"))
    return x, submissions, (world.a, world.b, c, d)


def _composites() -> dict:
    return {
        (row.peer_group, row.municipality_id): (row.group_key, row.index_value, row.coverage)
        for row in CompositeResult.objects.all()
    }


@pytest.mark.parametrize("probes", [200, 0], ids=["probing-each-pair", "reading-whole-groups"])
def test_an_incremental_run_that_moves_the_groups_worst_recomputes_every_members_composite(
    world, index_of_three, probes, monkeypatch
):
    from comparisons import selectors

    monkeypatch.setattr(selectors, "_PAIR_PROBES", probes)
    x, submissions, members = index_of_three
    a = members[0]
    before = _composites()
    # A had the lowest X (score 0): now D does, and every member's X score moves but the best's (B, 100).
    submissions[a].values.filter(item__code="X").update(number=13)
    results_recompute(network=world.network, period=_period("2024"), indicator_ids=[x.pk])
    incremental = _composites()
    moved = {key for key, figures in incremental.items() if figures != before[key]}
    assert {municipality for _group, municipality in moved} == {a.pk, members[2].pk, members[3].pk}
    results_recompute(network=world.network, period=_period("2024"))
    assert incremental == _composites()


def test_an_incremental_run_reads_the_other_scores_only_of_the_municipalities_whose_score_moved(world, index_of_three):
    x, submissions, members = index_of_three
    c = members[2]
    submissions[c].values.filter(item__code="X").update(number=16)  # between A and B: only C's X score moves
    with mock.patch.object(writing, "stored_scores_of", wraps=writing.stored_scores_of) as read:
        results_recompute(network=world.network, period=_period("2024"), indicator_ids=[x.pk])
    pairs = read.call_args.kwargs["pairs"]
    assert {municipality for _group, municipality in pairs} == {c.pk}
    assert {group for group, _municipality in pairs} == set(
        Result.objects.filter(municipality=c).values_list("peer_group", flat=True)
    )
    assert sorted(read.call_args.kwargs["indicator_ids"]) == sorted(
        Result.objects.exclude(indicator=x).values_list("indicator_id", flat=True).distinct()
    )
    incremental = _composites()
    results_recompute(network=world.network, period=_period("2024"))
    assert incremental == _composites()


def test_an_incremental_run_that_moves_no_score_leaves_the_composite_alone(world, index_of_three):
    x, _submissions, members = index_of_three
    a = members[0]
    earlier = submissions_create(network=world.network, period="2023", values={a: {"X": 8, "Y": 1, "Z": 4}})
    results_recompute(network=world.network, period=_period("2024"))
    before = {row.pk: row.computed_at for row in CompositeResult.objects.all()}
    # A's value of the year before changes: 2024 is recomputed for its change, its scores stay.
    earlier[a].values.filter(item__code="X").update(number=9)
    with mock.patch.object(writing, "stored_scores_of", wraps=writing.stored_scores_of) as read:
        results_recompute(network=world.network, period=_period("2024"), indicator_ids=[x.pk])
    assert read.call_args.kwargs["pairs"] == []
    assert {row.pk: row.computed_at for row in CompositeResult.objects.all()} == before
    assert _rows("network")[a.code].change_abs == 1


def test_the_changes_evaluated_are_the_changes_a_result_stores():
    # `evaluation` names them without importing the models; a change column added to one and
    # not the other would be computed and dropped, or stored empty.
    assert evaluation.CHANGE_COLUMNS == Result.CHANGE_FIELDS
