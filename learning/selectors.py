"""Reads of the learning app, shaped for the pages (no N+1)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet

from indicators.models import Period
from networks import permissions
from networks.models import Membership, Network

from .models import ImprovementPlan, Meeting, PlanTarget, PracticeCase


def practice_visible(*, user) -> QuerySet[PracticeCase]:
    """The cases `user` may read; the same rule as `permissions.can_view_practice`, as a query."""
    cases = PracticeCase.objects.all()
    if permissions.is_administrator(user):
        return cases
    roles = permissions.roles_of(user)
    published = Q(status=PracticeCase.Status.PUBLISHED)
    rule = published & Q(visibility=PracticeCase.Visibility.PUBLIC)
    if roles.municipalities:
        # A subquery, not a separate round trip.
        rule |= published & Q(network_id__in=permissions.member_networks(user))
    if roles.coordinator_of:
        rule |= Q(network_id__in=roles.coordinator_of)
    # Unpublished cases: the submitting municipality's staff, in the networks their role reaches.
    if roles.staff:
        rule |= permissions.scoped_rows(roles.staff)
    return cases.filter(rule)


def practice_search(
    *,
    user,
    query: str = "",
    network_id: int | None = None,
    indicator_id: int | None = None,
    municipality_id: int | None = None,
    status: str = "",
) -> QuerySet[PracticeCase]:
    """Full-text search over title, summary, text (both languages) and tags, with filters.

    `icontains` works on every database; on PostgreSQL a full-text vector also matches word
    forms (Latvian has no stemming dictionary in PostgreSQL, so `simple` is used).
    """
    cases = practice_visible(user=user)
    if network_id:
        cases = cases.filter(network_id=network_id)
    if indicator_id:
        cases = cases.filter(indicators__id=indicator_id)
    if municipality_id:
        cases = cases.filter(municipality_id=municipality_id)
    if status:
        cases = cases.filter(status=status)
    if query:
        words = query.split()[:8]
        for word in words:
            match = (
                Q(title__icontains=word)
                | Q(title_en__icontains=word)
                | Q(summary__icontains=word)
                | Q(summary_en__icontains=word)
                | Q(text__icontains=word)
                | Q(text_en__icontains=word)
                | Q(tags__name__icontains=word)
            )
            if connection.vendor == "postgresql":
                from django.contrib.postgres.search import SearchQuery, SearchVector

                vector = SearchVector("title", "title_en", "summary", "summary_en", "text", "text_en", config="simple")
                ids = PracticeCase.objects.annotate(search=vector).filter(search=SearchQuery(word, config="simple"))
                match |= Q(pk__in=ids.values("pk"))
            cases = cases.filter(match)
    # Tag and indicator joins may repeat a case.
    return (
        PracticeCase.objects.filter(pk__in=cases.values("pk"))
        .select_related("municipality", "network")
        .prefetch_related("tags")
        .order_by("-published_at", "-created_at")
    )


def practice_detail_queryset() -> QuerySet[PracticeCase]:
    return PracticeCase.objects.select_related("municipality", "network", "period").prefetch_related(
        "tags", "indicators", "attachments"
    )


def plans_of_network(*, network: Network) -> QuerySet[ImprovementPlan]:
    return (
        ImprovementPlan.objects.filter(network=network)
        .select_related("municipality", "network")
        .order_by("municipality__name", "-created_at")
    )


def plans_of_user(*, user) -> QuerySet[ImprovementPlan]:
    """The plans of the municipalities the person is staff or viewer of, in the networks their
    roles reach (the same rule as `permissions.can_view_plan`)."""
    roles = permissions.roles_of(user)
    return (
        ImprovementPlan.objects.filter(permissions.scoped_rows(roles.staff | roles.viewer))
        .select_related("municipality", "network")
        .order_by("network__code", "municipality__name", "-created_at")
    )


def plan_detail_queryset() -> QuerySet[ImprovementPlan]:
    # The targets are read with their progress by `plan_targets_progress`.
    return ImprovementPlan.objects.select_related("municipality", "network").prefetch_related("actions")


def meetings_of_network(*, network: Network) -> QuerySet[Meeting]:
    return network.meetings.select_related("host").prefetch_related("attendees").order_by("-date")


@dataclass
class Activity:
    rounds: list = field(default_factory=list)
    practices: list = field(default_factory=list)
    meetings: list = field(default_factory=list)


def network_activity(*, network: Network, since: datetime.datetime | None = None, public_only: bool = True) -> Activity:
    """What happened in a network: published rounds, published good practice, meetings.

    `public_only` leaves out what only members may see (members-only cases, meetings, and rounds of
    a members-only network).
    """
    from indicators.models import Round

    rounds = Round.objects.filter(network=network, status=Round.Status.PUBLISHED).select_related("period")
    practices = PracticeCase.objects.filter(network=network, status=PracticeCase.Status.PUBLISHED).select_related(
        "municipality"
    )
    meetings = Meeting.objects.filter(network=network).select_related("host")
    if since is not None:
        rounds = rounds.filter(published_at__gt=since)
        practices = practices.filter(published_at__gt=since)
    if public_only:
        practices = practices.filter(visibility=PracticeCase.Visibility.PUBLIC)
        if not network.is_public:
            rounds = rounds.none()
        meetings = meetings.none()
    return Activity(
        rounds=list(rounds.order_by("-published_at")[:20]),
        practices=list(practices.order_by("-published_at")[:20]),
        meetings=list(meetings.order_by("-date")[:20]),
    )


# --- learn from the best, plan progress, awards (issue 6) -----------------------------------------
# All three read stored results (`comparisons.models.Result`) of the `network` peer group only;
# which rounds a person may see is `permissions.results_visibility` (DESIGN.md §3).

NETWORK_PEER_GROUP = "network"
BEST_RANKS = 3
MOST_IMPROVED = 3


def _direction(polarity: str) -> int:
    """+1 when a larger value is better, -1 when a smaller one is, 0 for neutral indicators."""
    return {"higher": 1, "lower": -1}.get(polarity, 0)


def _improvement_key(row, direction: int) -> tuple:
    """Largest relative change in the good direction first; rows without a relative change
    (previous value 0) after those that have one, then by the absolute change, then by name."""
    rel = row.change_rel
    absolute = row.change_abs or 0.0
    return (rel is None, -(rel or 0.0) * direction, -absolute * direction, row.municipality_id)


CASE_FIELDS = ("pk", "title", "title_en", "contact_name", "contact_email", "contact_phone")


@dataclass
class Performer:
    result: object  # comparisons.models.Result, with `municipality` set
    case: PracticeCase | None = None  # the newest published case on the indicator the person may read
    case_count: int = 0

    @property
    def municipality(self):
        return self.result.municipality

    @property
    def more_cases(self) -> int:
        return max(0, self.case_count - 1)


@dataclass
class LearnFromBest:
    best: list[Performer] = field(default_factory=list)
    improved: list[Performer] = field(default_factory=list)
    neutral: bool = False


def learn_from_best(*, user, scope, indicator) -> LearnFromBest:
    """The top performers (rank 1..3) and the most improved members for the scope's round, each
    with its newest published good practice on `indicator` that `user` may read (title and contact)
    and how many such cases it has. Two queries: the candidates, then the shown ones with their
    cases as subqueries, so the indicator page stays within its query budget.

    `scope` is a `comparisons.dashboard_selectors.DashboardScope`: its round is one the person may
    see (the results visibility rule), and its members give the names without another query.
    Neutral indicators have neither a best nor an improvement; nobody has improved for a person who
    may not see the previous period's round (`scope.changes_visible`).
    """
    from django.db.models import Count, OuterRef, Subquery

    from comparisons.models import Result

    direction = _direction(indicator.polarity)
    found = LearnFromBest(neutral=direction == 0)
    if scope.round is None or direction == 0:
        return found
    cases = practice_visible(user=user).filter(
        network=scope.network,
        status=PracticeCase.Status.PUBLISHED,
        indicators=indicator,
        municipality_id=OuterRef("municipality_id"),
    )
    newest = cases.order_by("-published_at", "-created_at", "-pk")
    counted = cases.order_by().values("municipality_id").annotate(count=Count("pk")).values("count")
    annotations = {f"case_{name}": Subquery(newest.values(name)[:1]) for name in CASE_FIELDS}
    results = Result.objects.filter(
        network=scope.network, period_id=scope.round.period_id, indicator=indicator, peer_group=NETWORK_PEER_GROUP
    )
    # The candidates first, without their cases (half a network improves: hundreds of rows at
    # scale), then the cases of the few shown, as subqueries of a second query.
    municipalities = scope.municipalities
    wanted = Q(rank__lte=BEST_RANKS)
    if scope.changes_visible:
        wanted |= Q(improved=True)
    candidates = [
        r
        for r in results.filter(wanted).only("municipality_id", "value", "rank", "improved", "change_rel", "change_abs")
        if r.municipality_id in municipalities and r.value is not None
    ]
    for row in candidates:
        row.municipality = municipalities[row.municipality_id]
    best = sorted(
        (r for r in candidates if r.rank is not None and r.rank <= BEST_RANKS),
        key=lambda r: (r.rank, r.municipality.display_name),
    )
    improved = sorted(
        (r for r in candidates if r.improved and scope.changes_visible), key=lambda r: _improvement_key(r, direction)
    )[:MOST_IMPROVED]
    # One row per municipality: the results are of one network, period, indicator and peer group.
    shown = {r.municipality_id for r in best} | {r.municipality_id for r in improved}
    if not shown:
        return found
    rows = {
        row.municipality_id: row
        for row in results.filter(municipality_id__in=shown).annotate(case_count=Subquery(counted[:1]), **annotations)
    }
    for row in rows.values():
        row.municipality = municipalities[row.municipality_id]
    best = [rows[r.municipality_id] for r in best]
    improved = [rows[r.municipality_id] for r in improved]
    found.best = [_performer(r) for r in best]
    found.improved = [_performer(r) for r in improved]
    return found


def _performer(row) -> Performer:
    case = None
    if row.case_pk is not None:
        # An unsaved instance for its localised title; the page links to the case by pk.
        case = PracticeCase(**{name: getattr(row, f"case_{name}") for name in CASE_FIELDS})
    return Performer(result=row, case=case, case_count=row.case_count or 0)


@dataclass
class _NetworkRounds:
    """A network's rounds (with their periods) and current member ids, as the visibility rules need them."""

    network: Network
    rounds: list = field(default_factory=list)
    member_ids: set[int] = field(default_factory=set)


def _rounds_of(networks) -> dict[int, _NetworkRounds]:
    """Per network id its rounds and members: two queries, whatever the number of networks."""
    from indicators.models import Round

    found = {n.pk: _NetworkRounds(network=n) for n in networks}
    if not found:
        return {}
    for network_id, municipality_id in (
        Membership.objects.active().filter(network_id__in=found).values_list("network_id", "municipality_id")
    ):
        found[network_id].member_ids.add(municipality_id)
    for round_ in Round.objects.filter(network_id__in=found).select_related("period"):
        round_.network = found[round_.network_id].network
        found[round_.network_id].rounds.append(round_)
    return found


def _seen(user, of: _NetworkRounds) -> dict[int, str]:
    """The periods of the network's rounds `user` may see results of, with the visibility."""
    seen = {}
    for round_ in of.rounds:
        visibility = permissions.results_visibility(user, of.network, round_, of.member_ids)
        if visibility != permissions.RESULTS_NONE:
            seen[round_.period_id] = visibility
    return seen


def visible_periods(*, user, networks) -> dict[int, dict[int, str]]:
    """Per network id, the periods of its rounds `user` may see results of, with the visibility
    (`published` or `provisional`). Two queries, whatever the number of networks."""
    return {network_id: _seen(user, of) for network_id, of in _rounds_of(networks).items()}


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
        direction = _direction(target.indicator.polarity) or 1
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
    """The targets of plans in `network`, each with `.progress` (a `TargetProgress`), in one query.

    The municipality's stored values of the target's indicator (`network` peer group) are read
    only from the periods in `seen` (period id -> visibility, from `visible_periods` or the
    dashboard scope): the newest value, the newest up to the target period (met or not) and the
    baseline period's value, as subqueries of the targets' query.
    """
    from django.db.models import OuterRef, Subquery

    from comparisons.models import Result

    values = Result.objects.filter(
        network=network,
        peer_group=NETWORK_PEER_GROUP,
        municipality_id=OuterRef("plan__municipality_id"),
        indicator_id=OuterRef("indicator_id"),
        period_id__in=list(seen),
        value__isnull=False,
    )
    newest = values.order_by("-period__start", "period__end")
    kinds = {
        "latest": newest,
        "by": newest.filter(period__start__lte=OuterRef("target_period__start")),
        "base": values.filter(period_id=OuterRef("baseline_period_id")),
    }
    annotations = {}
    for kind, rows in kinds.items():
        for name in ("value", "period_id", "period__label", "period__start"):
            annotations[f"{kind}_{name.replace('__', '_')}"] = Subquery(rows.values(name)[:1])
    found = list(
        targets.filter(plan__network=network)
        .select_related("plan", "indicator", "target_period", "baseline_period")
        .annotate(**annotations)
        .order_by("plan_id", "indicator__code")
    )
    for target in found:
        rows = []
        for kind in kinds:
            period_id = getattr(target, f"{kind}_period_id")
            if period_id is None:
                continue
            period = Period(pk=period_id, label=getattr(target, f"{kind}_period_label"))
            period.start = getattr(target, f"{kind}_period_start")
            value = getattr(target, f"{kind}_value")
            rows.append(
                _Row(value=value, period=period, provisional=seen.get(period_id) == permissions.RESULTS_PROVISIONAL)
            )
        baseline = None if target.baseline is None else float(target.baseline)
        target.progress = target_progress_compute(target=target, baseline=baseline, rows=rows)
    return found


def plan_targets_progress(*, user, plan: ImprovementPlan) -> list[PlanTarget]:
    """The plan's targets with their progress, from the rounds `user` may see (three queries)."""
    seen = visible_periods(user=user, networks=[plan.network])[plan.network_id]
    return targets_progress(network=plan.network, targets=PlanTarget.objects.filter(plan=plan), seen=seen)


def network_plans_progress(*, user, network) -> dict[int, list[PlanTarget]]:
    """Every member's plan targets in `network` with progress, by plan id (three queries)."""
    seen = visible_periods(user=user, networks=[network])[network.pk]
    by_plan: dict[int, list[PlanTarget]] = {}
    for target in targets_progress(network=network, targets=PlanTarget.objects.all(), seen=seen):
        by_plan.setdefault(target.plan_id, []).append(target)
    return by_plan


def profile_plan_targets(*, user, scope, municipality) -> list[PlanTarget]:
    """The municipality's plan targets in the scope's network with progress, for its profile page:
    one query, values only from the scope's rounds (those the person may see); nothing, and no
    query, for whoever may not read its plans."""
    if not permissions.can_view_plans_of(user, scope.network, municipality):
        return []
    seen = {r.period_id: visibility for r, visibility in scope.rounds}
    targets = PlanTarget.objects.filter(plan__municipality=municipality).exclude(
        plan__status=ImprovementPlan.Status.ABANDONED
    )
    return targets_progress(network=scope.network, targets=targets, seen=seen)


@dataclass
class Award:
    period: object
    indicator: object
    best: list = field(default_factory=list)  # Result rows of rank 1 (ties share it)
    improved: object = None  # the Result row of the largest improvement
    provisional: bool = False


def network_awards(*, user, network) -> list[Award]:
    """Per period (newest first) and indicator (the network's order): the best performer(s) and
    the most improved member of the `network` peer group, from stored results of the rounds
    `user` may see. Neutral indicators have no awards. Four queries."""
    from comparisons.dashboard_selectors import network_indicator_list
    from comparisons.models import Result
    from comparisons.selectors import previous_round

    of = _rounds_of([network])[network.pk]
    seen = _seen(user, of)
    if not seen:
        return []
    # The most improved is measured against the previous period: only where the person may see
    # that period's round too (a withdrawn round takes its improvements out of public view).
    improvable = [
        round_.period_id
        for round_ in of.rounds
        if round_.period_id in seen
        and permissions.can_view_derived(user, network, previous_round(of.rounds, round_), of.member_ids)
    ]
    indicators = [i for i in network_indicator_list(network=network) if _direction(i.polarity)]
    position = {ind.pk: n for n, ind in enumerate(indicators)}
    rows = (
        Result.objects.filter(
            network=network,
            peer_group=NETWORK_PEER_GROUP,
            period_id__in=list(seen),
            indicator_id__in=list(position),
            value__isnull=False,
        )
        .filter(Q(rank=1) | Q(improved=True, period_id__in=improvable))
        .select_related("period", "municipality")
    )
    awards: dict[tuple[int, int], Award] = {}
    by_pk = {ind.pk: ind for ind in indicators}
    for row in rows:
        key = (row.period_id, row.indicator_id)
        award = awards.get(key)
        if award is None:
            award = awards[key] = Award(
                period=row.period,
                indicator=by_pk[row.indicator_id],
                provisional=seen[row.period_id] == permissions.RESULTS_PROVISIONAL,
            )
        if row.rank == 1:
            award.best.append(row)
        if row.improved and row.period_id in improvable:
            direction = _direction(award.indicator.polarity)
            if award.improved is None or _improvement_key(row, direction) < _improvement_key(award.improved, direction):
                award.improved = row
    for award in awards.values():
        award.best.sort(key=lambda r: r.municipality.display_name)
    return sorted(awards.values(), key=lambda a: (-a.period.start.toordinal(), position[a.indicator.pk]))
