"""The submission workflow: draft → submitted → (returned → submitted)* → approved, and
submitted → draft when the staff withdraw a submission before its review.

Every change of a submission's status goes through this module. Every transition locks the
submission row, checks the move against `WORKFLOW_MOVES` (or, for an import, `IMPORT_MOVES`),
sets `updated_at`, records a `SubmissionEvent` (who, when, from, to, message) and tells whoever
needs to know. The single transitions serve the staff's buttons; `submissions_bulk_transition`
and `submissions_bulk_create` move or create many at once with the same rules and event rows, in
a few statements (`submissions_bulk_approve`, `import_values`).

It is not where values are saved (`values`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import product

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from networks import events

from .. import notifications, selectors
from ..errors import IndicatorsError
from ..models import DataItem, Round, Submission, SubmissionEvent, ValueQuery
from ..validation import check_value_entered, check_value_soft


class WorkflowError(IndicatorsError):
    """A transition that is not allowed from the submission's current status."""


_Status = Submission.Status
# The moves (from, to) the staff's workflow allows.
WORKFLOW_MOVES = frozenset(
    {
        (_Status.DRAFT, _Status.SUBMITTED),
        (_Status.RETURNED, _Status.SUBMITTED),
        (_Status.SUBMITTED, _Status.RETURNED),
        (_Status.APPROVED, _Status.RETURNED),
        (_Status.SUBMITTED, _Status.APPROVED),
        # Withdrawn by the staff before the review started (`submission_withdraw`).
        (_Status.SUBMITTED, _Status.DRAFT),
    }
)
# The moves an import of values allows: the coordinator's file states the status its figures
# have (official statistics arrive approved), whatever the submission's status was.
IMPORT_MOVES = frozenset((a, b) for a, b in product(_Status.values, repeat=2) if a != b)
BATCH = 2000


@dataclass
class SubmissionCheck:
    """What stops a submission: errors by item id (block) and unexplained warnings by item id."""

    errors: dict[int, list[str]] = field(default_factory=dict)
    warnings: dict[int, list[str]] = field(default_factory=dict)
    unexplained: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.unexplained


class SubmissionInvalid(IndicatorsError):
    def __init__(self, check: SubmissionCheck) -> None:
        self.check = check
        super().__init__(
            _("The submission cannot be sent yet: correct the errors and explain the warnings marked below.")
        )


def submission_warnings(
    *, submission: Submission, items: Iterable[DataItem], values: dict | None = None, previous: dict | None = None
) -> dict[int, list[str]]:
    """Soft-check warnings of the submission's current numbers, by item id.

    `values` and `previous` (from the selectors) may be passed when the caller has them already.
    """
    values = selectors.submission_values(submission=submission) if values is None else values
    previous = selectors.previous_values(submission=submission) if previous is None else previous
    distribution = selectors.network_distribution(submission=submission)
    warnings: dict[int, list[str]] = {}
    for item in items:
        value = values.get(item.pk)
        if value is None or value.is_missing:
            continue
        before = previous.get(item.pk)
        found = check_value_soft(
            item,
            value.number,
            previous=None if before is None or before.is_missing else before.number,
            others=distribution.get(item.pk),
        )
        if found:
            warnings[item.pk] = found
    return warnings


def submission_check(
    *,
    submission: Submission,
    items: list[DataItem] | None = None,
    values: dict | None = None,
    previous: dict | None = None,
) -> SubmissionCheck:
    """Hard errors (an entered item without a value, a missing value without a reason, a number
    outside the allowed range) and the soft warnings that still need an explanation.

    `values` and `previous` (from the selectors) may be passed when the caller has them already."""
    items = selectors.round_items(round=submission.round) if items is None else items
    values = selectors.submission_values(submission=submission) if values is None else values
    check = SubmissionCheck()
    for item in items:
        if item.source != DataItem.Source.ENTERED:
            continue
        value = values.get(item.pk)
        if value is None:
            check.errors[item.pk] = [_("enter the value or declare it missing")]
        elif value.is_missing and not value.missing_reason.strip():
            check.errors[item.pk] = [_("say why the value is missing")]
        elif not value.is_missing and (error := check_value_entered(item, value.number).error):
            # The range or the decimals may have changed since the value was saved, or the value
            # came with more decimals than the item shows (an import).
            check.errors[item.pk] = [error]
    check.warnings = submission_warnings(submission=submission, items=items, values=values, previous=previous)
    check.unexplained = {item_id for item_id in check.warnings if not (values[item_id].explanation or "").strip()}
    return check


def _lock(submission: Submission) -> Submission:
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    submission.status = locked.status
    submission.version = locked.version
    return submission


def _transition(*, submission: Submission, user, to_status: str, message: str = "") -> SubmissionEvent:
    from_status = submission.status
    _check_move(from_status, to_status, WORKFLOW_MOVES)
    submission.status = to_status
    submission.updated_at = timezone.now()
    submission.save(update_fields=["status", "updated_at"])
    return SubmissionEvent.objects.create(
        submission=submission, from_status=from_status, to_status=to_status, user=user, message=message.strip()
    )


def _results_stale(submission: Submission) -> None:
    item_ids = list(submission.values.values_list("item_id", flat=True))
    events.publish(events.VALUES_CHANGED, round_id=submission.round_id, item_ids=item_ids)


@transaction.atomic
def submission_submit(*, submission: Submission, user, message: str = "") -> SubmissionEvent:
    """Draft or returned → submitted; raises SubmissionInvalid while errors or unexplained warnings remain."""
    _lock(submission)
    if submission.status not in (Submission.Status.DRAFT, Submission.Status.RETURNED):
        raise WorkflowError(_("Only a draft or a returned submission can be submitted."))
    if submission.round.status != Round.Status.OPEN:
        raise WorkflowError(_("The round is closed."))
    check = submission_check(submission=submission)
    if not check.ok:
        raise SubmissionInvalid(check)
    event = _transition(submission=submission, user=user, to_status=Submission.Status.SUBMITTED, message=message)
    notifications.notify_submission_arrived(submission=submission)
    return event


@transaction.atomic
def submission_withdraw(*, submission: Submission, user) -> SubmissionEvent:
    """Submitted → draft, by the municipality's staff, before the review started: the figures can
    be changed and submitted again. Refused once the coordinator returned or approved it, or wrote
    in a value's thread since it was submitted (`selectors.submission_review_started`)."""
    _lock(submission)
    if submission.status != Submission.Status.SUBMITTED:
        raise WorkflowError(_("Only a submitted submission that is not reviewed yet can be withdrawn."))
    if submission.round.status != Round.Status.OPEN:
        raise WorkflowError(_("The round is closed."))
    if selectors.submission_review_started(submission=submission):
        raise WorkflowError(
            _("The coordinator has started the review (a question on a value): ask them to return it instead.")
        )
    return _transition(submission=submission, user=user, to_status=Submission.Status.DRAFT)


@transaction.atomic
def submission_return(*, submission: Submission, user, message: str) -> SubmissionEvent:
    """Submitted (or approved) → returned, with a message saying what to fix."""
    if not message.strip():
        raise WorkflowError(_("Say what needs to be corrected."))
    _lock(submission)
    if submission.status not in (Submission.Status.SUBMITTED, Submission.Status.APPROVED):
        raise WorkflowError(_("Only a submitted or approved submission can be returned."))
    was_approved = submission.status == Submission.Status.APPROVED
    event = _transition(submission=submission, user=user, to_status=Submission.Status.RETURNED, message=message)
    if was_approved:
        # Its values leave the results.
        _results_stale(submission)
    notifications.notify_submission_returned(submission=submission, message=message.strip())
    return event


@transaction.atomic
def submission_approve(*, submission: Submission, user, message: str = "") -> SubmissionEvent:
    """Submitted → approved: the values enter the network's results."""
    _lock(submission)
    if submission.status != Submission.Status.SUBMITTED:
        raise WorkflowError(_("Only a submitted submission can be approved."))
    event = _transition(submission=submission, user=user, to_status=Submission.Status.APPROVED, message=message)
    _results_stale(submission)
    return event


@transaction.atomic
def submissions_bulk_approve(*, round: Round, user, submission_ids: Iterable[int]) -> int:
    """Approve the round's submitted submissions among `submission_ids`; others are left alone.

    Returns how many were approved. One recompute request for the whole round.
    """
    submissions = list(
        Submission.objects.select_for_update()
        .filter(round=round, pk__in=list(submission_ids), status=Submission.Status.SUBMITTED)
        .order_by("pk")
    )
    submissions_bulk_transition(submissions=submissions, to_status=Submission.Status.APPROVED, user=user)
    if submissions:
        events.publish(events.VALUES_CHANGED, round_id=round.pk, item_ids=None)
    return len(submissions)


def _check_move(from_status: str, to_status: str, moves: frozenset[tuple[str, str]]) -> None:
    if (from_status, to_status) not in moves:
        raise WorkflowError(
            _("A submission cannot go from %(from)s to %(to)s.")
            % {"from": Submission.Status(from_status).label, "to": Submission.Status(to_status).label}
        )


@transaction.atomic
def submissions_bulk_transition(
    *,
    submissions: Sequence[Submission],
    to_status: str,
    user,
    message: str = "",
    moves: frozenset[tuple[str, str]] = WORKFLOW_MOVES,
) -> list[Submission]:
    """Move the `submissions` not at `to_status` yet to it, with the single transitions' rules: each
    move must be in `moves`, `updated_at` is set and each gets its event row. Returns the ones moved
    (their `status` updated). No notification: the caller tells whoever needs to know.

    The move is checked against the status each one has in the database at the UPDATE (no lock
    taken before): raises WorkflowError, changing nothing, when another change came first.
    """
    moving = [submission for submission in submissions if submission.status != to_status]
    by_status: dict[str, list[int]] = {}
    for submission in moving:
        _check_move(submission.status, to_status, moves)
        by_status.setdefault(submission.status, []).append(submission.pk)
    now = timezone.now()
    for from_status, ids in sorted(by_status.items()):
        moved = Submission.objects.filter(pk__in=ids, status=from_status).update(status=to_status, updated_at=now)
        if moved != len(ids):
            raise WorkflowError(_("Another change of these submissions came first: reload and try again."))
    _events_create([(submission.pk, submission.status) for submission in moving], to_status, user, message)
    for submission in moving:
        submission.status = to_status
        submission.updated_at = now
    return moving


@transaction.atomic
def submissions_bulk_create(
    *, keys: Sequence[tuple[int, int]], status: str, user, message: str = ""
) -> list[Submission]:
    """New submissions for (round_id, municipality_id) keys at `status`, with their pks, each with
    its event (from no status); version 1, as the values that come with them make it."""
    if connection.vendor != "postgresql":
        new = [Submission(round_id=r, municipality_id=m, status=status, version=1) for r, m in keys]
        created = Submission.objects.bulk_create(new, batch_size=BATCH)  # sets the pks (SQLite >= 3.35)
    elif not keys:
        created = []
    else:
        # Thousands of submissions: one statement, without building an INSERT of model instances.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Submission._meta.db_table} (round_id, municipality_id, status, version, updated_at)"  # noqa: S608 - model table  # nosec B608
                " SELECT round_id, municipality_id, %s, 1, %s FROM unnest(%s::bigint[], %s::bigint[])"
                " AS k(round_id, municipality_id) RETURNING id, round_id, municipality_id",
                [status, timezone.now(), [r for r, _m in keys], [m for _r, m in keys]],
            )
            created = [
                Submission(pk=pk, round_id=round_id, municipality_id=municipality_id, status=status, version=1)
                for pk, round_id, municipality_id in cursor.fetchall()
            ]
    _events_create([(submission.pk, "") for submission in created], status, user, message)
    return created


def _events_create(moves: list[tuple[int, str]], status: str, user, message: str) -> None:
    """The event rows of bulk moves (submission_id, from_status) -> `status`, as `_transition`
    writes them one by one."""
    message = message.strip()
    if connection.vendor != "postgresql":
        SubmissionEvent.objects.bulk_create(
            [
                SubmissionEvent(submission_id=pk, from_status=old, to_status=status, user=user, message=message)
                for pk, old in moves
            ],
            batch_size=BATCH,
        )
        return
    if not moves:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SubmissionEvent._meta.db_table}"  # noqa: S608 - model table  # nosec B608
            " (submission_id, from_status, to_status, at, message, user_id)"
            " SELECT submission_id, from_status, %s, %s, %s, %s"
            " FROM unnest(%s::bigint[], %s::text[]) AS e(submission_id, from_status)",
            [status, timezone.now(), message, getattr(user, "pk", None), [m[0] for m in moves], [m[1] for m in moves]],
        )


@transaction.atomic
def value_query_add(*, submission: Submission, item: DataItem, user, text: str) -> ValueQuery:
    """A message in the query thread of one value."""
    if not text.strip():
        raise WorkflowError(_("Write a message."))
    return ValueQuery.objects.create(submission=submission, item=item, author=user, text=text.strip())


def round_deadline_remind(*, round: Round) -> int:
    """E-mail the staff of member municipalities that have not submitted yet; returns how many.

    Once per deadline: the round row is claimed first (`reminded_for`), so a repeated or
    concurrent run sends nothing, and an extended deadline gets its own reminder. Called by the
    beat task outside any transaction, so the mail leaves at once; if sending fails the claim is
    released and the exception propagates, so the task's retry sends again.
    """
    rounds = Round.objects.filter(pk=round.pk)
    previous = rounds.values_list("reminded_for", flat=True).first()
    claimed = (
        rounds.filter(deadline__isnull=False)
        .exclude(reminded_for=models.F("deadline"))
        .update(reminded_for=models.F("deadline"))
    )
    if not claimed:
        return 0
    done = set(
        Submission.objects.filter(
            round=round, status__in=[Submission.Status.SUBMITTED, Submission.Status.APPROVED]
        ).values_list("municipality_id", flat=True)
    )
    waiting = selectors.round_member_ids(round=round) - done
    if not waiting:
        return 0
    try:
        return notifications.notify_deadline_near(round=round, municipality_ids=waiting)
    except Exception:
        rounds.update(reminded_for=previous)
        raise
