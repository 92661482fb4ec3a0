"""Good practice: the cases a person may read, the search, and learn from the best (the top
performers and the most improved with their newest case)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery

from comparisons.models import Result
from networks import permissions
from networks.collation import latvian, latvian_key

from ..models import PracticeCase, Tag
from .ranking import BEST_RANKS, MOST_IMPROVED, NETWORK_PEER_GROUP, better_direction, improvement_key


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
        .prefetch_related(_tags())
        .order_by("-published_at", "-created_at")
    )


def _tags() -> Prefetch:
    """A case's tags in Latvian alphabetical order."""
    return Prefetch("tags", queryset=Tag.objects.order_by(latvian("name")))


def practice_detail_queryset() -> QuerySet[PracticeCase]:
    return PracticeCase.objects.select_related("municipality", "network", "period").prefetch_related(
        _tags(), "indicators", "attachments"
    )


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
    direction = better_direction(indicator.polarity)
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
        key=lambda r: (r.rank, latvian_key(r.municipality.display_name)),
    )
    improved = sorted(
        (r for r in candidates if r.improved and scope.changes_visible), key=lambda r: improvement_key(r, direction)
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
