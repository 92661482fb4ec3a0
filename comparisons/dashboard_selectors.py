"""Reads for the dashboards, exports and the API: stored results only, never statistics.

Every page starts from a `DashboardScope` (network, the rounds the person may see, the chosen
period and peer group, when the results were computed) and then reads one set of `Result`
rows. Each function is a fixed small number of queries, whatever the network's size.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from itertools import groupby
from typing import NamedTuple

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    FloatField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from indicators.models import DataItem, Indicator, NetworkIndicator, Round, SeriesBreak, Submission
from indicators.models import Value as ItemValue
from indicators.services.reform import reconstructed_period
from networks import permissions
from networks.collation import latvian, latvian_key
from networks.models import Municipality, Network

from .funnel import FunnelForm
from .models import CompositeResult, Neighbour, RecomputeRun, Result
from .selectors import previous_round, stored_peer_groups_of

SPARKLINE_PERIODS = 6


@dataclass
class DashboardScope:
    network: Network
    members: list[Member]
    # Rounds the person may see, newest first, each with its visibility (published/provisional).
    rounds: list[tuple[Round, str]]
    round: Round | None = None
    visibility: str = permissions.RESULTS_NONE
    peer_group: str = "network"
    peer_groups: list[str] = field(default_factory=list)
    run: RecomputeRun | None = None
    own_ids: frozenset[int] = frozenset()
    # Today's members: whom `permissions.results_visibility` counts as the network's people.
    current_member_ids: frozenset[int] = frozenset()
    # May the person see the round the chosen round's changes are computed against
    # (`permissions.can_view_derived`)? If not, every change is left out of the rows read.
    changes_visible: bool = False
    # The period before the chosen one when the network has a round there the person may not see
    # (the pages say why the changes are missing).
    changes_withheld_period: str = ""

    @property
    def member_ids(self) -> frozenset[int]:
        return frozenset(m.municipality_id for m in self.members)

    @property
    def municipalities(self) -> dict[int, Municipality]:
        return {m.municipality_id: m.municipality for m in self.members}

    @property
    def period(self):
        return self.round.period if self.round else None

    @property
    def provisional(self) -> bool:
        return self.visibility == permissions.RESULTS_PROVISIONAL

    @property
    def ready(self) -> bool:
        """Results exist for the chosen round (a completed recompute)."""
        return self.round is not None and self.run is not None

    def visible_period_ids(self, *, up_to_current: bool = True, limit: int | None = None) -> list[int]:
        """Periods of the visible rounds, oldest first, ending at the chosen period."""
        rounds = [r for r, _ in self.rounds]
        if up_to_current and self.round is not None:
            rounds = [r for r in rounds if r.period.start <= self.round.period.start]
        ids = [r.period_id for r in rounds]
        if limit:
            ids = ids[:limit]
        return list(reversed(ids))


@dataclass(frozen=True, slots=True)
class Member:
    """A municipality's membership of the scope's network, as the dashboards need it."""

    municipality_id: int
    municipality: Municipality
    joined: datetime.date | None
    left: datetime.date | None


def _members_since(memberships: list[Member], start) -> list[Member]:
    """The memberships not ended before ``start``, one per municipality, in the given order.

    Only the last day counts: a network imported today has every membership joined today, yet
    its members' approved figures of earlier periods are theirs to compare.
    """
    found: dict[int, Member] = {}
    for membership in memberships:
        if membership.left is None or membership.left >= start:
            found.setdefault(membership.municipality_id, membership)
    return list(found.values())


def _peer_group_order(name: str) -> tuple[int, str]:
    fixed = {"network": 0, "all": 1, "kind": 2, "region": 3}
    if name in fixed:
        return fixed[name], name
    return (4 if name.startswith("attr:") else 5 if name.startswith("custom:") else 6), name


def dashboard_scope(
    *,
    user,
    network_code: str,
    period_label: str = "",
    peer_group: str = "",
    prefer_period_ids: frozenset[int] | None = None,
    figures_of: str = "",
) -> DashboardScope:
    """The network, the rounds ``user`` may see and the chosen one (by default the newest with results,
    and among them the newest of ``prefer_period_ids`` when one is visible: the landing page asks
    for the periods in which the person's own municipality has figures). ``figures_of``: a
    municipality's code, whose periods with a stored figure are preferred (read with the rounds:
    a page about one municipality opens on its newest figures, not on a newer period it has none in).

    A period that exists but may not be seen is refused (403); an unknown one is 404. A round
    is seen as docs/security.md says (`permissions.results_visibility`).
    """
    # The network comes with its rounds (one query less on every page); a network without rounds
    # is read on its own. Members are plain records over the municipalities: 500 Membership and
    # Network instances cost more than the rest of the scope. The municipalities come without
    # their free-form attributes (decoding 1,000 JSON documents a page): only the map reads
    # them, on its own (`municipality_attributes`).
    rounds_query = Round.objects.filter(network__code=network_code)
    if figures_of:
        rounds_query = rounds_query.annotate(has_figure=Exists(_figures_of(figures_of)))
    rounds = list(rounds_query.select_related("period", "network").order_by("-period__start"))
    if figures_of:
        prefer_period_ids = frozenset(r.period_id for r in rounds if r.has_figure) | (prefer_period_ids or frozenset())
    network = rounds[0].network if rounds else get_object_or_404(Network, code=network_code)
    memberships = [
        Member(municipality_id=municipality.pk, municipality=municipality, joined=joined, left=left)
        for municipality, joined, left in (
            (m, m.member_joined, m.member_left)
            for m in Municipality.objects.filter(memberships__network=network)
            .defer("attributes")
            .annotate(member_joined=F("memberships__joined"), member_left=F("memberships__left"))
            .order_by(latvian("name"), "pk")
        )
    ]
    today = timezone.localdate()
    members = [m for m in memberships if m.joined is None or m.joined <= today]
    members = _members_since(members, today)
    member_ids = {m.municipality_id for m in members}
    visible = []
    chosen = None
    for round_ in rounds:
        round_.network = network  # one instance for all
        seen = permissions.results_visibility(user, network, round_, member_ids)
        if period_label and round_.period.label == period_label:
            permissions.require(seen != permissions.RESULTS_NONE)
            chosen = (round_, seen)
        if seen != permissions.RESULTS_NONE:
            visible.append((round_, seen))
    if period_label and chosen is None:
        raise Http404
    # Which peer groups have results in which visible period (one query for both questions).
    computed = stored_peer_groups_of(network_id=network.pk, period_ids=[r.period_id for r, _seen in visible])
    if chosen is None and visible:
        # By default the newest period with results: an open round without approved figures
        # yet would show a politician an empty page.
        with_results = {period_id for period_id, _name in computed}
        preferred = with_results & (prefer_period_ids or frozenset())
        chosen = next((pair for pair in visible if pair[0].period_id in preferred), None) or next(
            (pair for pair in visible if pair[0].period_id in with_results), visible[0]
        )
    own = frozenset(permissions.roles_of(user).municipalities_in(network.pk) & member_ids)
    scope = DashboardScope(
        network=network, members=members, rounds=visible, own_ids=own, current_member_ids=frozenset(member_ids)
    )
    if chosen is None:
        return scope
    scope.round, scope.visibility = chosen
    before = previous_round(rounds, scope.round)
    scope.changes_visible = permissions.can_view_derived(user, network, before, member_ids)
    if before is not None and not scope.changes_visible:
        scope.changes_withheld_period = before.period.label
    # A past period is shown with the municipalities that were members then: one that has merged
    # into another since still appears in its last periods.
    scope.members = _members_since(memberships, scope.round.period.start)
    names = {name for period_id, name in computed if period_id == scope.round.period_id}
    scope.peer_groups = sorted(names, key=_peer_group_order)
    scope.peer_group = peer_group if peer_group in names else "network"
    scope.run = (
        RecomputeRun.objects.filter(network=network, period=scope.round.period, status=RecomputeRun.Status.DONE)
        .order_by("-finished_at")
        .first()
    )
    return scope


def _figures_of(municipality_code: str) -> QuerySet[Result]:
    """A probe for a round (as `OuterRef`): a stored figure (a value, not a missing one) of the
    municipality in the round's network and period. One row (an index probe into the period's
    partition) instead of reading the member's every figure: 500 indicators x 20 periods are
    ~10,000 rows. Which of the periods the person may see is the scope's question, not this one's."""
    return Result.objects.filter(
        network_id=OuterRef("network_id"),
        municipality_id=Subquery(Municipality.objects.filter(code=municipality_code).values("pk")[:1]),
        peer_group="network",
        period_id=OuterRef("period_id"),
        value__isnull=False,
    )


def municipality_attributes(*, ids: list[int]) -> dict[int, dict]:
    """The free-form attributes of these municipalities, by id (the scope's members come without)."""
    return dict(Municipality.objects.filter(pk__in=ids).values_list("pk", "attributes"))


def scope_municipality(scope: DashboardScope, code: str) -> Municipality:
    """A member municipality of the scope's network by code (404 for anyone else)."""
    for membership in scope.members:
        if membership.municipality.code == code:
            return membership.municipality
    raise Http404


def scope_indicator(scope: DashboardScope, code: str) -> Indicator:
    """An indicator of the network's set by code (404 otherwise)."""
    return get_object_or_404(
        Indicator.objects.filter(pk__in=NetworkIndicator.objects.filter(network=scope.network).values("indicator_id")),
        code=code,
    )


def scope_indicator_with_items(scope: DashboardScope, code: str) -> tuple[Indicator, dict[str, DataItem]]:
    """`scope_indicator` and the data items its formula reads (by code), in one query: the rows
    linking the indicator to its items, each with both. An indicator without linked items is
    read on its own."""
    links = list(
        Indicator.items.through.objects.filter(
            indicator__code=code,
            indicator_id__in=NetworkIndicator.objects.filter(network=scope.network).values("indicator_id"),
        ).select_related("indicator", "dataitem")
    )
    if not links:
        return scope_indicator(scope, code), {}
    return links[0].indicator, {link.dataitem.code: link.dataitem for link in links}


def network_indicator_list(*, network: Network) -> list[Indicator]:
    return [
        link.indicator
        for link in NetworkIndicator.objects.filter(network=network)
        .select_related("indicator")
        .order_by("position", "indicator__code")
    ]


CHANGE_FIELDS = Result.CHANGE_FIELDS


def _without_changes(scope: DashboardScope, rows: list) -> list:
    """The rows, their change against the previous period emptied when the person may not see
    that period's round (`DashboardScope.changes_visible`)."""
    if not scope.changes_visible:
        for row in rows:
            for name in CHANGE_FIELDS:
                if hasattr(row, name):
                    setattr(row, name, None)
    return rows


@dataclass(slots=True)
class ProfileRow:
    """One of a member's stored figures, as its profile, report and landing page show them."""

    indicator_id: int
    value: float | None
    missing_reason: str
    n: int
    median: float | None
    mad: float | None
    rank: int | None
    band: str
    score: float | None
    change_abs: float | None
    change_rel: float | None
    improved: bool | None
    indicator: Indicator | None = None


PROFILE_FIELDS = [name for name in ProfileRow.__dataclass_fields__ if name != "indicator"]
_INDICATOR_COLUMNS = [field.attname for field in Indicator._meta.concrete_fields]


def profile_rows(*, scope: DashboardScope, municipality: Municipality) -> list[ProfileRow]:
    """The municipality's rows of the chosen period and peer group, with their indicators.

    Plain records and the indicators' columns read with them (one query): 500 `Result` instances
    cost more than the query (see `indicator_rows`)."""
    if scope.round is None:
        return []
    queryset = Result.objects.filter(
        network=scope.network, municipality=municipality, peer_group=scope.peer_group, period=scope.round.period
    ).order_by("indicator__code")
    rows = []
    for values in queryset.values_list(*PROFILE_FIELDS, *(f"indicator__{column}" for column in _INDICATOR_COLUMNS)):
        row = ProfileRow(*values[: len(PROFILE_FIELDS)])
        row.indicator = Indicator.from_db(queryset.db, _INDICATOR_COLUMNS, values[len(PROFILE_FIELDS) :])
        rows.append(row)
    return _without_changes(scope, rows)


class PastValue(NamedTuple):
    """One period of a profile's trend (a tuple: a profile builds 10,000 of them at 500 indicators)."""

    label: str
    value: float | None
    # The municipality did not exist yet in the period: its figure is reconstructed.
    reconstructed: bool = False
    # The series breaks in this period: why its figures are not comparable with earlier ones.
    break_note: str = ""


def profile_history(*, scope: DashboardScope, municipality: Municipality) -> dict[int, list[PastValue]]:
    """Indicator -> the municipality's values over the last visible periods, oldest first: one
    entry for every period (None where it has no figure), so the trend lines align and a gap
    shows as a gap."""
    if scope.round is None:
        return {}
    period_ids = scope.visible_period_ids()[-SPARKLINE_PERIODS:]
    labels = {r.period_id: r.period.label for r, _seen in scope.rounds}
    ends = {r.period_id: r.period.end for r, _seen in scope.rounds}
    found: dict[int, list[PastValue]] = {}
    rows = (
        Result.objects.filter(
            network=scope.network, municipality=municipality, peer_group=scope.peer_group, period_id__in=period_ids
        )
        .annotate(break_note=break_note())
        .values_list("indicator_id", "period_id", "value", "break_note")
        .order_by()
    )
    # A period without a figure is the same record for every indicator.
    empty = [PastValue(labels[p], None, reconstructed_period(municipality.valid_from, ends[p])) for p in period_ids]
    position = {p: i for i, p in enumerate(period_ids)}
    for indicator_id, period_id, value, note in rows:
        past = found.get(indicator_id)
        if past is None:
            past = found[indicator_id] = empty.copy()
        i = position[period_id]
        past[i] = PastValue(empty[i].label, value, empty[i].reconstructed, note or "")
    return found


def break_note() -> Subquery:
    """For a result row: the note of a break in its municipality's series of one of the
    indicator's data items that starts in its period, or NULL (docs/official.md). A column of
    the row's own read, so marking breaks costs a page no query."""
    return Subquery(
        SeriesBreak.objects.filter(
            municipality_id=OuterRef("municipality_id"),
            period_id=OuterRef("period_id"),
            item__indicators=OuterRef("indicator_id"),
        )
        .order_by("item__code")
        .values("note")[:1]
    )


@dataclass(slots=True)
class CompositeRow:
    """One member's composite index (plain record; see `RankedRow`)."""

    municipality_id: int
    group_key: str
    index_value: float | None
    coverage: float | None
    municipality: Municipality | None = None


def composite_rows(*, scope: DashboardScope) -> list[CompositeRow]:
    """The composite index of every member for the chosen period and peer group, best first."""
    if scope.round is None:
        return []
    municipalities = scope.municipalities
    found = []
    for values in CompositeResult.objects.filter(
        network=scope.network, period=scope.round.period, peer_group=scope.peer_group
    ).values_list("municipality_id", "group_key", "index_value", "coverage"):
        row = CompositeRow(*values)
        row.municipality = municipalities.get(row.municipality_id)
        if row.municipality is not None:
            found.append(row)
    return best_first(found)


def best_first(rows: list[CompositeRow]) -> list[CompositeRow]:
    """Composite rows by index, best first, then by name; rows without an index last. Names are
    collated only where indexes tie: a Latvian sort key for each of 1,000 members cost more
    than the rest of the read."""
    rows = sorted(rows, key=lambda r: (r.index_value is None, -(r.index_value or 0)))
    ordered: list[CompositeRow] = []
    for _index, tied in groupby(rows, key=lambda r: r.index_value):
        tied = list(tied)
        if len(tied) > 1:
            tied.sort(key=lambda r: latvian_key(r.municipality.display_name))
        ordered.extend(tied)
    return ordered


def neighbours_of(*, scope: DashboardScope, municipality: Municipality) -> list[Neighbour]:
    if scope.round is None or not scope.peer_group.startswith("nearest:"):
        return []
    return list(
        Neighbour.objects.filter(
            network=scope.network, period=scope.round.period, peer_group=scope.peer_group, municipality=municipality
        )
        .select_related("neighbour")
        .order_by("position")
    )


@dataclass(slots=True)
class RankedRow:
    """One member's stored figures of one indicator, as the indicator page and the map show them."""

    municipality_id: int
    group_key: str
    value: float | None
    n: int
    rank: int | None
    band: str
    percentile: float | None
    score: float | None
    median: float | None
    q1: float | None
    q3: float | None
    mad: float | None
    change_abs: float | None
    improved: bool | None
    municipality: Municipality | None = None
    # A funnel plot's figures (`indicator_rows` with ``counts``): the member's approved values of
    # the count and its denominator in the chosen round; None when missing or not read.
    numerator: float | None = None
    denominator: float | None = None


RANKED_FIELDS = [
    name for name in RankedRow.__dataclass_fields__ if name not in ("municipality", "numerator", "denominator")
]


def _approved_number(scope: DashboardScope, code: str) -> Subquery:
    """The row's municipality's approved value of ``code`` in the chosen round, as a float (a
    subquery served by the submission's unique (round, municipality) and the value's unique
    (submission, item)); NULL when not approved, declared missing or absent."""
    return Subquery(
        ItemValue.objects.filter(
            submission__round_id=scope.round.pk,
            submission__municipality_id=OuterRef("municipality_id"),
            submission__status=Submission.Status.APPROVED,
            item__code=code,
            is_missing=False,
        )
        .annotate(as_float=Cast("number", FloatField()))
        .values("as_float")[:1],
        output_field=FloatField(),
    )


def indicator_rows(
    *, scope: DashboardScope, indicator: Indicator, counts: FunnelForm | None = None, user=None
) -> list[RankedRow]:
    """Every stored row of one indicator in the chosen period and peer group, best first.

    Plain records, not model instances: 500 `Result` instances cost ten times the query.
    ``counts``: also read each member's approved values of the formula's count and denominator
    (a funnel plot), in the same query — only when ``user`` may see the round's approved values
    (`permissions.can_view_round_values`, the rule of the round's results); otherwise they stay None.
    """
    if scope.round is None:
        return []
    municipalities = scope.municipalities
    fields = list(RANKED_FIELDS)
    queryset = Result.objects.filter(
        network=scope.network, period=scope.round.period, indicator=indicator, peer_group=scope.peer_group
    )
    if (
        counts is not None
        and user is not None
        and permissions.can_view_round_values(user, scope.network, scope.round, scope.current_member_ids)
    ):
        queryset = queryset.annotate(
            funnel_numerator=_approved_number(scope, counts.numerator),
            funnel_denominator=_approved_number(scope, counts.denominator),
        )
        fields += ["funnel_numerator", "funnel_denominator"]
    kept = []
    for values in queryset.values_list(*fields):
        row = RankedRow(*values[: len(RANKED_FIELDS)])
        if len(values) > len(RANKED_FIELDS):
            row.numerator, row.denominator = values[len(RANKED_FIELDS) :]
        row.municipality = municipalities.get(row.municipality_id)
        if row.municipality is not None:
            kept.append(row)
    kept.sort(key=lambda r: (r.rank is None, r.rank or 0, latvian_key(r.municipality.display_name)))
    return _without_changes(scope, kept)


def indicator_series(*, scope: DashboardScope, indicator: Indicator, municipality: Municipality | None) -> list[Result]:
    """One row per visible period: the municipality's own (with its group's median and
    quartiles), or without a municipality the network group's median and quartiles."""
    if scope.round is None or (municipality is None and scope.peer_group != "network"):
        # Without a municipality only the network group is one group in every period.
        return []
    period_ids = scope.visible_period_ids()
    results = Result.objects.filter(
        network=scope.network, indicator=indicator, peer_group=scope.peer_group, period_id__in=period_ids
    )
    if municipality is not None:
        rows = results.filter(municipality=municipality).select_related("period").annotate(break_note=break_note())
        return sorted(rows, key=lambda row: row.period.start)
    # Every row of the network group carries the group's figures (the same on each): one
    # aggregate row a period, its period from the scope's rounds.
    periods = {round_.period_id: round_.period for round_, _seen in scope.rounds}
    figures = results.values("period_id").annotate(median=Min("median"), q1=Min("q1"), q3=Min("q3")).order_by()
    series = [
        Result(
            network=scope.network,
            period=periods[row["period_id"]],
            indicator=indicator,
            peer_group=scope.peer_group,
            median=row["median"],
            q1=row["q1"],
            q3=row["q3"],
        )
        for row in figures
    ]
    return sorted(series, key=lambda row: row.period.start)


def reporting_ids(*, scope: DashboardScope) -> set[int]:
    """Members whose submission of the chosen round is approved: the rows of the overview."""
    if scope.round is None:
        return set()
    approved = Submission.objects.filter(round=scope.round, status=Submission.Status.APPROVED)
    return set(approved.values_list("municipality_id", flat=True)) & scope.member_ids


def indicator_ranks(*, scope: DashboardScope, indicator: Indicator) -> dict[int, int | None]:
    """Municipality -> rank of one indicator in the chosen period and peer group (a sort key)."""
    if scope.round is None:
        return {}
    return dict(
        Result.objects.filter(
            network=scope.network, period=scope.round.period, peer_group=scope.peer_group, indicator=indicator
        ).values_list("municipality_id", "rank")
    )


def overview_cells(
    *, scope: DashboardScope, municipality_ids: list[int], indicator_ids: list[int]
) -> dict[tuple[int, int], tuple]:
    """(municipality, indicator) -> (value, band, rank, median, mad, n) for one page of the
    overview's matrix (the median, MAD and n say the cell in words)."""
    if scope.round is None or not municipality_ids or not indicator_ids:
        return {}
    rows = Result.objects.filter(
        network=scope.network,
        period=scope.round.period,
        peer_group=scope.peer_group,
        indicator_id__in=indicator_ids,
        municipality_id__in=municipality_ids,
    ).values_list("municipality_id", "indicator_id", "value", "band", "rank", "median", "mad", "n")
    return {(m, i): tuple(rest) for m, i, *rest in rows}


# --- the open-data API: rows of many networks at once ---------------------------------------------


def _visible(queryset, *, user, changes: bool = False):
    """Rows (with ``network`` and ``period``) of the rounds the person may see: the rule is
    `permissions.results_round_condition`, the same as the pages' (docs/security.md). Annotates
    ``published``, and with ``changes`` ``changes_visible``: may the person see the round of the
    period before the row's, which its change is computed against (`permissions.can_view_derived`:
    a member of the network, or that round is one the person may see)?

    The rounds are few (networks x periods): they are read first and become plain conditions
    on the rows' network and period, which the results' primary key serves — a correlated
    subquery per row cost seconds at a million rows.
    """
    member_networks = permissions.results_member_network_ids(user)
    visible: dict[int, list[int]] = {}
    published: dict[int, list[int]] = {}
    # The periods right after the visible rounds of networks the person is not a member of: same
    # kind, starting the day after (`selectors.previous_period`), as (kind, start) per network.
    after_visible: dict[int, list[tuple[str, datetime.date]]] = {}
    for network_id, period_id, status, kind, end in Round.objects.filter(
        permissions.results_rounds_of(member_networks)
    ).values_list("network_id", "period_id", "status", "period__kind", "period__end"):
        visible.setdefault(network_id, []).append(period_id)
        if status == Round.Status.PUBLISHED:
            published.setdefault(network_id, []).append(period_id)
        if member_networks is not None and network_id not in member_networks:
            after_visible.setdefault(network_id, []).append((kind, end + datetime.timedelta(days=1)))

    def rounds_of(pairs: dict[int, list[int]]) -> Q:
        condition = Q(pk__in=[])
        for network_id, period_ids in pairs.items():
            condition |= Q(network_id=network_id, period_id__in=period_ids)
        return condition

    queryset = queryset.annotate(
        published=Case(When(rounds_of(published), then=Value(True)), default=Value(False), output_field=BooleanField())
    )
    if changes and member_networks is None:
        queryset = queryset.annotate(changes_visible=Value(True, output_field=BooleanField()))
    elif changes:
        seen = Q(network_id__in=member_networks)
        for network_id, periods in after_visible.items():
            for kind, start in periods:
                seen |= Q(network_id=network_id, period__kind=kind, period__start=start)
        queryset = queryset.annotate(
            changes_visible=Case(When(seen, then=Value(True)), default=Value(False), output_field=BooleanField())
        )
    if member_networks is None:
        return queryset
    return queryset.filter(rounds_of(visible))


def visible_results(*, user) -> QuerySet[Result]:
    """Stored rows the person may read, each annotated ``changes_visible``: where it is false, the
    row's change against the previous period must not be shown (`CHANGE_FIELDS`)."""
    return _visible(Result.objects.all(), user=user, changes=True)


def visible_composites(*, user) -> QuerySet[CompositeResult]:
    return _visible(CompositeResult.objects.all(), user=user)
