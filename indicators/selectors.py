"""Reads of rounds, submissions and values, shaped for the data-entry and review pages (no N+1)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Subquery
from django.utils import timezone

from networks import permissions
from networks.collation import latvian, sorted_latvian
from networks.models import Membership, Municipality, Role

from .models import DataItem, Round, Submission, Value, ValueQuery
from .validation import check_value_soft


def round_get(*, pk: int) -> Round:
    """The round with its network and period (raises Round.DoesNotExist)."""
    return Round.objects.select_related("network", "period").get(pk=pk)


def round_items(*, round: Round) -> list[DataItem]:
    """The data items a round asks, ordered by theme and code.

    The items read by the round's indicators (or, when the round names none, by the network's
    indicator set), plus the items the network asks as context figures. Official items are
    included: the form shows them read-only.
    """
    if round.indicators.exists():
        by_indicator = Q(indicators__rounds=round)
    else:
        by_indicator = Q(indicators__network_links__network_id=round.network_id)
    asked = by_indicator | Q(networks=round.network_id, source=DataItem.Source.ENTERED)
    items = DataItem.objects.filter(asked).distinct()
    return sorted(items, key=lambda item: (item.display_theme, item.code))


def round_member_ids(*, round: Round) -> set[int]:
    """Municipalities that are members of the round's network on the round's reference date."""
    on = round.deadline or round.period.end
    return set(
        Membership.objects.active(on=on).filter(network_id=round.network_id).values_list("municipality_id", flat=True)
    )


def previous_values(*, submission: Submission, item_ids: list[int] | None = None) -> dict[int, Value]:
    """The municipality's approved value of each item (or of `item_ids`) in the network's previous
    period.

    "Previous" is the latest round of the same network whose period starts before this one.
    Only approved values count: a draft or returned figure may still change, and comparing
    against it would produce warnings that vanish later.
    """
    previous_round = (
        Round.objects.filter(network_id=submission.round.network_id, period__start__lt=submission.round.period.start)
        .order_by("-period__start")
        .values_list("pk", flat=True)
        .first()
    )
    if previous_round is None:
        return {}
    values = Value.objects.filter(
        submission__round_id=previous_round,
        submission__municipality_id=submission.municipality_id,
        submission__status=Submission.Status.APPROVED,
    ).select_related("submission__round__period")
    if item_ids is not None:
        values = values.filter(item_id__in=item_ids)
    return {value.item_id: value for value in values}


def network_distribution(*, submission: Submission, item_ids: list[int] | None = None) -> dict[int, list[Decimal]]:
    """Other members' submitted or approved numbers in the same round, by item id (of every item,
    or of `item_ids`)."""
    numbers: dict[int, list[Decimal]] = defaultdict(list)
    rows = Value.objects.filter(
        submission__round_id=submission.round_id,
        submission__status__in=[Submission.Status.SUBMITTED, Submission.Status.APPROVED],
        is_missing=False,
    ).exclude(submission_id=submission.pk)
    if item_ids is not None:
        rows = rows.filter(item_id__in=item_ids)
    rows = rows.values_list("item_id", "number")
    for item_id, number in rows:
        numbers[item_id].append(number)
    return dict(numbers)


def submission_values(*, submission: Submission) -> dict[int, Value]:
    return {value.item_id: value for value in submission.values.all()}


def submission_review_started(*, submission: Submission) -> bool:
    """Whether the coordinator has begun reviewing a submitted submission: someone other than the
    municipality's own staff wrote in a value's thread since it was last submitted. (Returned or
    approved submissions are past the review; the workflow asks their status itself.)"""
    submitted_at = (
        submission.events.filter(to_status=Submission.Status.SUBMITTED).order_by("-at", "-pk").values("at")[:1]
    )
    staff = Role.objects.filter(kind=Role.Kind.STAFF, municipality_id=submission.municipality_id).values("user_id")
    return (
        ValueQuery.objects.filter(submission=submission, at__gte=Subquery(submitted_at))
        .exclude(author_id__in=staff)
        .exists()
    )


def submission_events(*, submission: Submission) -> QuerySet:
    return submission.events.select_related("user").order_by("at", "pk")


@dataclass
class HistoryRow:
    """One change of one value: who, when, from what to what (`None` = no value at all)."""

    at: datetime.datetime
    user: object
    item: DataItem
    kind: str  # "+" entered, "~" changed, "-" cleared (django-simple-history's history_type)
    before: Decimal | str | None
    after: Decimal | str | None
    note: str


def _state(record) -> Decimal | str | None:
    if record is None or record.history_type == "-":
        return None
    if record.is_missing:
        return "missing"
    # normalize(): the stored 15 decimal places are storage, not what was entered.
    return record.number.normalize()


def submission_value_history(*, submission: Submission, limit: int = 200) -> list[HistoryRow]:
    """Every change of every value of the submission, newest first, each with its previous state.

    Built from django-simple-history's records (one query): a record's "before" is the previous
    record of the same item. `before`/`after` are numbers (shown the locale's way), "missing" or
    None (no value).
    """
    records = list(
        Value.history.filter(submission_id=submission.pk)
        .select_related("history_user", "item")
        .order_by("history_date", "history_id")
    )
    last: dict[int, object] = {}
    rows = []
    for record in records:
        before = last.get(record.item_id)
        rows.append(
            HistoryRow(
                at=record.history_date,
                user=record.history_user,
                item=record.item,
                kind=record.history_type,
                before=_state(before),
                after=_state(record),
                note=record.missing_reason or record.explanation if record.history_type != "-" else "",
            )
        )
        last[record.item_id] = record
    rows.reverse()
    return rows[:limit]


def submission_queries(*, submission: Submission) -> dict[int, list[ValueQuery]]:
    """The query threads of a submission by item id, oldest message first."""
    threads: dict[int, list[ValueQuery]] = defaultdict(list)
    for query in ValueQuery.objects.filter(submission=submission).select_related("author").order_by("at", "pk"):
        threads[query.item_id].append(query)
    return dict(threads)


@dataclass
class ValueWarning:
    """The soft-check warnings of one value, with the staff's explanation (empty when none)."""

    item: DataItem
    messages: list[str]
    explanation: str

    @property
    def explained(self) -> bool:
        return bool(self.explanation.strip())


@dataclass
class MatrixRow:
    municipality: Municipality
    submission: Submission | None
    status: str
    overdue: bool
    warnings: list[ValueWarning] = field(default_factory=list)
    # One state per item of the round, in `RoundReview.items` order: filled, warning, missing, empty.
    cells: list[str] = field(default_factory=list)

    @property
    def unexplained(self) -> int:
        return sum(1 for warning in self.warnings if not warning.explained)


@dataclass
class ItemCompleteness:
    """One data item across the round's members: how many gave a number (`warned` of them with a
    soft-check warning), declared it missing, and how many have nothing yet."""

    item: DataItem
    filled: int = 0
    missing: int = 0
    warned: int = 0
    empty: int = 0


@dataclass
class RoundReview:
    """What the coordinator reviews: a row per member, the counts by status, per-item completeness."""

    rows: list[MatrixRow]
    items: list[DataItem]
    completeness: list[ItemCompleteness]

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def overdue(self) -> int:
        return sum(1 for row in self.rows if row.overdue)

    @property
    def with_unexplained(self) -> int:
        return sum(1 for row in self.rows if row.unexplained)


def round_completion(*, round: Round, today: datetime.date | None = None) -> list[MatrixRow]:
    """One row per member municipality (and any other municipality with a submission): its
    submission's status, overdue when the deadline passed and nothing was submitted yet."""
    today = today or timezone.localdate()
    member_ids = round_member_ids(round=round)
    submissions = {
        s.municipality_id: s
        for s in Submission.objects.filter(round=round)
        .select_related("municipality")
        .order_by(latvian("municipality__name"))
    }
    municipalities = {s.municipality_id: s.municipality for s in submissions.values()}
    missing_ids = member_ids - municipalities.keys()
    if missing_ids:
        municipalities.update((m.pk, m) for m in Municipality.objects.filter(pk__in=missing_ids))
    rows = []
    late = round.deadline is not None and today > round.deadline
    for municipality in sorted_latvian(municipalities.values(), key=lambda m: m.name):
        submission = submissions.get(municipality.pk)
        status = submission.status if submission else "none"
        overdue = late and status in ("none", Submission.Status.DRAFT, Submission.Status.RETURNED)
        rows.append(MatrixRow(municipality=municipality, submission=submission, status=status, overdue=overdue))
    return rows


def round_review(*, round: Round, today: datetime.date | None = None) -> RoundReview:
    """The completion rows with every submission's soft-check warnings and explanations, and the
    completeness of each data item, in a fixed number of queries whatever the number of members.

    The warnings are those `services.submissions.submission_warnings` gives one submission: the
    previous period's approved values of the same municipality, and the distribution of the other
    submitted or approved values of this round.
    """
    rows = round_completion(round=round, today=today)
    # Official figures are not the municipalities' to enter: neither missing nor warned about here.
    items = [item for item in round_items(round=round) if item.source == DataItem.Source.ENTERED]
    by_submission: dict[int, dict[int, Value]] = defaultdict(dict)
    distribution: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    counted = (Submission.Status.SUBMITTED, Submission.Status.APPROVED)
    values = Value.objects.filter(submission__round=round).only(
        "submission_id", "item_id", "number", "is_missing", "explanation", "submission__status"
    )
    for value in values.select_related("submission"):
        by_submission[value.submission_id][value.item_id] = value
        if not value.is_missing and value.submission.status in counted:
            distribution[value.item_id].append((value.submission_id, value.number))
    previous = _previous_numbers(round=round)
    item_rows = {item.pk: ItemCompleteness(item=item) for item in items}
    for row in rows:
        own = by_submission.get(row.submission.pk, {}) if row.submission else {}
        for item in items:
            value = own.get(item.pk)
            summary = item_rows[item.pk]
            if value is None:
                summary.empty += 1
                row.cells.append("empty")
                continue
            if value.is_missing:
                summary.missing += 1
                row.cells.append("missing")
                continue
            found = check_value_soft(
                item,
                value.number,
                previous=previous.get((row.municipality.pk, item.pk)),
                others=[number for pk, number in distribution.get(item.pk, ()) if pk != value.submission_id],
            )
            summary.filled += 1
            if found:
                summary.warned += 1
                row.cells.append("warning")
                row.warnings.append(ValueWarning(item=item, messages=found, explanation=value.explanation or ""))
            else:
                row.cells.append("filled")
    return RoundReview(rows=rows, items=items, completeness=list(item_rows.values()))


def _previous_numbers(*, round: Round) -> dict[tuple[int, int], Decimal]:
    """(municipality id, item id) -> the approved number of the network's previous round (see
    `previous_values`), in one query."""
    previous_round = (
        Round.objects.filter(network_id=round.network_id, period__start__lt=round.period.start)
        .order_by("-period__start")
        .values("pk")[:1]
    )
    rows = Value.objects.filter(
        submission__round_id=Subquery(previous_round),
        submission__status=Submission.Status.APPROVED,
        is_missing=False,
    ).values_list("submission__municipality_id", "item_id", "number")
    return {(municipality_id, item_id): number for municipality_id, item_id, number in rows}


def staff_rounds(*, user) -> list[tuple[Round, Municipality, Submission | None]]:
    """The open rounds of the networks the user's municipalities belong to, with their submissions
    (only the networks the person's staff roles reach)."""
    roles = permissions.roles_of(user)
    municipality_ids = set(roles.staff_of)
    if not municipality_ids:
        return []
    memberships = list(
        Membership.objects.active().filter(municipality_id__in=municipality_ids).select_related("municipality")
    )
    network_ids = {m.network_id for m in memberships}
    rounds = list(
        Round.objects.filter(network_id__in=network_ids, status=Round.Status.OPEN)
        .select_related("network", "period")
        .order_by("deadline", "network__code")
    )
    submissions = {
        (s.round_id, s.municipality_id): s
        for s in Submission.objects.filter(round__in=rounds, municipality_id__in=municipality_ids)
    }
    result = []
    for round_ in rounds:
        reached = roles.staff_in(round_.network_id)
        for membership in memberships:
            if membership.network_id == round_.network_id and membership.municipality_id in reached:
                result.append(
                    (round_, membership.municipality, submissions.get((round_.pk, membership.municipality_id)))
                )
    return result


def coordinated_rounds(*, user, limit: int = 50) -> QuerySet[Round]:
    """The rounds of the networks the user coordinates, newest period first, with how many
    submissions wait for review. (The review pages check `can_review_submissions` themselves.)"""
    network_ids = Role.objects.filter(user=user, kind=Role.Kind.COORDINATOR).values("network_id")
    return (
        Round.objects.filter(network_id__in=network_ids)
        .select_related("network", "period")
        .annotate(waiting=Count("submissions", filter=Q(submissions__status=Submission.Status.SUBMITTED)))
        .order_by("-period__start", "network__code")[:limit]
    )
