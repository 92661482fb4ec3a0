"""Recomputing a scope's stored results: the one entry the rest of the portal calls to compute.

What it is: `results_recompute` runs the pipeline for one network/period — every read
(`scope_read`, through `selectors`) before the write transaction, then `writing.results_write`,
which stores the figures `evaluation` computes batch by batch. `scope_read` is where the reads
meet the pure steps: values in, an `evaluation.Scope` out.

What it is not: no SQL of its own (`selectors`), no figures (`engine`, `evaluation`), no rows
written (`writing`), no bookkeeping of runs, locks or queues (`runs`: a recompute requested
because values changed goes through `runs.recompute_request`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext

from django.conf import settings

from indicators.models import Indicator, Period
from indicators.services.reform import succession_pairs
from networks.models import Network

from . import peer_groups
from .evaluation import Scope, deduplicate_values, evaluate_indicators, indicator_formula, wide_items
from .selectors import (
    approved_submissions,
    approved_submissions_frame,
    approved_values_frame,
    custom_group_members,
    default_peer_groups,
    index_weights,
    municipality_frame,
    network_indicators,
    previous_period,
    stored_neighbours,
    stored_peer_groups,
    stored_scores_reading,
)
from .writing import results_write

Progress = Callable[[int], None]


def results_recompute(
    *,
    network: Network,
    period: Period,
    indicator_ids: Sequence[int] | None = None,
    peer_group_names: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> int:
    """Recompute the stored results of one network/period (only ``indicator_ids`` when given).

    Every read happens before the write transaction (`scope_read`); in it the old rows are
    deleted and the new ones computed and stored batch by batch (`writing.results_write`);
    readers see either the old or the new results. Returns the number of rows written.
    """
    for name in peer_group_names or ():
        peer_groups.check_peer_group(name)
    indicators = network_indicators(network=network, period=period, indicator_ids=indicator_ids)
    index_ids = {i.pk for i in indicators if i.in_index}
    composite = indicator_ids is None or bool(index_ids) or not indicators
    scope = scope_read(
        network=network,
        period=period,
        indicators=indicators,
        peer_group_names=peer_group_names,
        composite=composite,
        incremental=indicator_ids is not None,
        progress=progress,
    )
    written = results_write(scope=scope, indicator_ids=indicator_ids, peer_group_names=peer_group_names)
    if progress:
        progress(95)
    return written


def scope_read(
    *,
    network: Network,
    period: Period,
    indicators: Sequence[Indicator],
    peer_group_names: Sequence[str] | None,
    composite: bool,
    incremental: bool,
    progress: Progress | None,
) -> Scope:
    """Every read of a scope's computation (values, peer groups, neighbours, kept scores), and
    what is evaluated from them once: the indicators' values and each peer group's members."""
    report = progress or (lambda _percent: None)
    indicators = list(indicators)
    previous = previous_period(period)
    period_ids = [period.pk] + ([previous.pk] if previous else [])
    # Only values allowed to enter the network's computation (its own approved ones; other
    # networks' once published and public), as the populations and every value read below.
    approved = approved_submissions(network_id=network.pk, period_ids=period_ids)
    # Read once: who reports (the populations) and, for the values, each submission's scope.
    submissions = approved_submissions_frame(period_ids=period_ids, network_id=network.pk)
    reporting = submissions[["network_id", "period_id", "municipality_id"]].itertuples(index=False, name=None)
    network_ids: set[int] = set()
    all_ids: set[int] = set()
    for network_id, period_id, municipality_id in reporting:
        if period_id == period.pk:
            all_ids.add(municipality_id)
            if network_id == network.pk:
                network_ids.add(municipality_id)
    # A unit of before a reform whose successor reports too is counted through it (its figures are
    # the successor's reconstructed ones, or the successor's own on the new boundaries): never twice.
    succeeded = {p for p, s in succession_pairs() if p in all_ids and s in all_ids}
    all_ids -= succeeded
    network_ids -= succeeded
    municipalities = municipality_frame(ids=approved.filter(round__period_id=period.pk).values("municipality_id"))
    names = list(
        peer_group_names
        or default_peer_groups(
            municipalities=municipalities,
            focal_ids=network_ids,
            focal_query=approved.filter(round__network_id=network.pk, round__period_id=period.pk).values(
                "municipality_id"
            ),
        )
    )

    codes: set[str] = set(settings.COMPARISON_NEAREST_CONTEXT)
    for indicator in indicators:
        codes |= indicator_formula(indicator).codes
    values = deduplicate_values(
        approved_values_frame(period_ids=period_ids, network_id=network.pk, item_codes=codes, submissions=submissions),
        network_id=network.pk,
    )
    report(10)

    custom = custom_group_members(names=[n[len("custom:") :] for n in names if n.startswith("custom:")])
    nearest_group = next((n for n in names if n.startswith("nearest:")), None)
    kept_neighbours = (
        stored_neighbours(network=network, period=period, peer_group=nearest_group)
        if nearest_group and incremental
        else None
    )
    weights = index_weights(network=network) if composite else None
    # An incremental run recomputes the composite only where a recomputed index indicator's score
    # changes: it compares with the stored scores, read last, while Python computes below (no
    # query there). The other index indicators' scores are read for those municipalities only,
    # when the run writes (`writing.results_write`).
    index_ids = sorted(set(weights or ()) & {indicator.pk for indicator in indicators}) if incremental else []
    # An incremental run replaces its indicators' rows in every stored peer group (read once).
    stored_groups = stored_peer_groups(network_id=network.pk, period_id=period.pk) if incremental else None
    with (
        stored_scores_reading(
            network_id=network.pk, period_id=period.pk, indicator_ids=index_ids, group_names=stored_groups
        )
        if index_ids
        else nullcontext(lambda: None)
    ) as index_before:
        wide = wide_items(values, period.pk).reindex(sorted(all_ids))
        long = evaluate_indicators(wide, indicators)
        before = None
        if previous is not None:
            before_wide = wide_items(values, previous.pk).reindex(sorted(network_ids))
            before = evaluate_indicators(before_wide, indicators)
        polarity = {indicator.pk: indicator.polarity for indicator in indicators}

        neighbours: dict[int, list[int]] = {}
        neighbour_rows: list[tuple[int, int, int, dict]] = []
        if kept_neighbours:
            # An incremental run keeps the last full run's neighbours: a change of a context item
            # triggers a full run (triggers.results_stale), so they are still right.
            neighbours = kept_neighbours
        elif nearest_group:
            context = peer_groups.context_frame(
                municipalities=municipalities, wide_items=wide, variables=settings.COMPARISON_NEAREST_CONTEXT
            )
            neighbours, shares = peer_groups.nearest(context, focal_ids=network_ids, k=int(nearest_group.split(":")[1]))
            for focal_id, near in neighbours.items():
                for position, other in enumerate(near, start=1):
                    neighbour_rows.append((focal_id, other, position, shares[(focal_id, other)]))

        members = [
            (
                name,
                peer_groups.membership(
                    name,
                    municipalities=municipalities,
                    focal_ids=network_ids,
                    network_code=network.code,
                    network_ids=network_ids,
                    custom=custom,
                    neighbours=neighbours if name == nearest_group else None,
                ),
            )
            for name in names
        ]
        index_before_scores = index_before()
    report(40)
    return Scope(
        network=network,
        period=period,
        previous=previous,
        indicators=indicators,
        names=names,
        network_ids=network_ids,
        long=long,
        before=before,
        members=members,
        polarity=polarity,
        neighbour_rows=neighbour_rows,
        nearest_group=nearest_group,
        weights=weights,
        index_before=index_before_scores,
        stored_groups=stored_groups,
    )
