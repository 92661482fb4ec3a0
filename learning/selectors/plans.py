"""Improvement plans: the lists and the progress of each target towards its target value, from the
stored results of the rounds the person may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from comparisons.models import Result
from indicators.models import Period
from networks import permissions
from networks.collation import latvian
from networks.models import Network

from ..models import ImprovementPlan, PlanTarget
from .ranking import NETWORK_PEER_GROUP, better_direction
from .visibility import visible_periods


def plans_of_network(*, network: Network) -> QuerySet[ImprovementPlan]:
    return (
        ImprovementPlan.objects.filter(network=network)
        .select_related("municipality", "network")
        .order_by(latvian("municipality__name"), "-created_at")
    )


def plans_of_user(*, user) -> QuerySet[ImprovementPlan]:
    """The plans of the municipalities the person is staff or viewer of, in the networks their
    roles reach (the same rule as `permissions.can_view_plan`)."""
    roles = permissions.roles_of(user)
    return (
        ImprovementPlan.objects.filter(permissions.scoped_rows(roles.staff | roles.viewer))
        .select_related("municipality", "network")
        .order_by("network__code", latvian("municipality__name"), "-created_at")
    )


def plan_detail_queryset() -> QuerySet[ImprovementPlan]:
    # The targets are read with their progress by `plan_targets_progress`.
    return ImprovementPlan.objects.select_related("municipality", "network").prefetch_related("actions")


@dataclass
class TargetProgress:
    """How far a plan target is: from its baseline towards its target value, by its target period.

    `share` is the part of the way from baseline to target achieved by the latest value
    (0 at the baseline, 1 at the target; below 0 when it went the wrong way, above 1 beyond
    the target); none without a baseline or when baseline and target are equal.
    `status`: `met` (the latest value up to the target period reaches the target), `missed`
    (a value for the target period or later exists and the target was not reached by then),
    `open` (the target period has no value yet), `nodata` (no stored value at all).
    """

    target: object
    baseline: float | None = None
    current: float | None = None
    current_period: object = None
    current_provisional: bool = False
    share: float | None = None
    status: str = "nodata"

    @property
    def met(self) -> bool:
        return self.status == "met"

    @property
    def percent(self) -> int | None:
        return None if self.share is None else round(100 * self.share)

    @property
    def bar_percent(self) -> int:
        """The progress bar's width: the percentage held within 0..100."""
        return max(0, min(100, self.percent or 0))


def target_progress_compute(*, target, baseline: float | None, rows: list) -> TargetProgress:
    """Progress of one target from the municipality's stored rows of its indicator (each with
    `period` and `value`, any order; missing values are ignored).

    The direction is the sign of target - baseline; without a baseline, or when both are equal,
    the indicator's polarity (neutral: higher counts as reaching). A value reaches the target when
    it is at or beyond it in that direction.
    """
    target_value = float(target.target_value)
    rows = sorted((r for r in rows if r.value is not None), key=lambda r: r.period.start)
    if baseline is None and target.baseline_period_id is not None:
        baseline = next((r.value for r in rows if r.period_id == target.baseline_period_id), None)
    progress = TargetProgress(target=target, baseline=baseline)
    if baseline is not None and baseline != target_value:
        direction = 1 if target_value > baseline else -1
    else:
        direction = better_direction(target.indicator.polarity) or 1
    if not rows:
        return progress
    latest = rows[-1]
    progress.current, progress.current_period = latest.value, latest.period
    progress.current_provisional = getattr(latest, "provisional", False)
    if baseline is not None and baseline != target_value:
        progress.share = (latest.value - baseline) / (target_value - baseline)
    by_target = [r for r in rows if r.period.start <= target.target_period.start]
    tolerance = 1e-9 * max(1.0, abs(target_value))
    if by_target and (by_target[-1].value - target_value) * direction >= -tolerance:
        progress.status = "met"
    elif any(r.period.start >= target.target_period.start for r in rows):
        progress.status = "missed"
    else:
        progress.status = "open"
    return progress


@dataclass
class _Row:
    """A stored value as `target_progress_compute` reads it."""

    value: float
    period: object
    provisional: bool = False

    @property
    def period_id(self) -> int:
        return self.period.pk


def targets_progress(*, network, targets: QuerySet[PlanTarget], seen: dict[int, str]) -> list[PlanTarget]:
    """The targets of plans in `network`, each with `.progress` (a `TargetProgress`).

    The municipality's stored values of the target's indicator (`network` peer group) are read
    only from the periods in `seen` (period id -> visibility, from `visible_periods` or the
    dashboard scope). Two plain queries, the second only when there are targets: the targets,
    then the values of their municipalities and indicators. (Reading the values as subqueries
    of the targets' query cost more than both: each subquery was planned over every period's
    partition of the results, ~12 ms a profile at 200 indicators x 10 periods even when the
    municipality has no plan.)
    """
    found = list(
        targets.filter(plan__network=network)
        .select_related("plan", "indicator", "target_period", "baseline_period")
        .order_by("plan_id", "indicator__code")
    )
    if not found:
        return found
    rows: dict[tuple[int, int], list[_Row]] = {}
    values = (
        Result.objects.filter(
            network=network,
            peer_group=NETWORK_PEER_GROUP,
            municipality_id__in={t.plan.municipality_id for t in found},
            indicator_id__in={t.indicator_id for t in found},
            period_id__in=list(seen),
            value__isnull=False,
        )
        # Oldest first; of two periods starting together the longer first (the shorter is newer).
        .order_by("period__start", "-period__end")
        .values_list("municipality_id", "indicator_id", "period_id", "value", "period__label", "period__start")
    )
    for municipality_id, indicator_id, period_id, value, label, start in values:
        period = Period(pk=period_id, label=label, start=start)
        rows.setdefault((municipality_id, indicator_id), []).append(
            _Row(value=value, period=period, provisional=seen.get(period_id) == permissions.RESULTS_PROVISIONAL)
        )
    for target in found:
        baseline = None if target.baseline is None else float(target.baseline)
        target.progress = target_progress_compute(
            target=target, baseline=baseline, rows=rows.get((target.plan.municipality_id, target.indicator_id), [])
        )
    return found


def plan_targets_progress(*, user, plan: ImprovementPlan) -> list[PlanTarget]:
    """The plan's targets with their progress, from the rounds `user` may see (four queries)."""
    seen = visible_periods(user=user, networks=[plan.network])[plan.network_id]
    return targets_progress(network=plan.network, targets=PlanTarget.objects.filter(plan=plan), seen=seen)


def network_plans_progress(*, user, network) -> dict[int, list[PlanTarget]]:
    """Every member's plan targets in `network` with progress, by plan id (four queries)."""
    seen = visible_periods(user=user, networks=[network])[network.pk]
    by_plan: dict[int, list[PlanTarget]] = {}
    for target in targets_progress(network=network, targets=PlanTarget.objects.all(), seen=seen):
        by_plan.setdefault(target.plan_id, []).append(target)
    return by_plan


def profile_plan_targets(*, user, scope, municipality) -> list[PlanTarget]:
    """The municipality's plan targets in the scope's network with progress, for its profile page:
    one query, and one more for the values when it has targets, only from the scope's rounds
    (those the person may see); nothing, and no query, for whoever may not read its plans."""
    if not permissions.can_view_plans_of(user, scope.network, municipality):
        return []
    seen = {r.period_id: visibility for r, visibility in scope.rounds}
    targets = PlanTarget.objects.filter(plan__municipality=municipality).exclude(
        plan__status=ImprovementPlan.Status.ABANDONED
    )
    return targets_progress(network=scope.network, targets=targets, seen=seen)
