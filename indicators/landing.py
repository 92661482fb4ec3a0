"""What waits for the signed-in person: the task panels that open the landing page.

Two panels of `networks.views.my_work` (registered in `IndicatorsConfig.ready()` ahead of the
comparisons' standing; docs/architecture.md, "Task panels"):

- `staff_tasks`: each open round of each municipality the person's staff role reaches in that
  network: period, deadline in words, the submission's status, how many of the round's entered
  items have a value ("17 of 23 filled"), how many soft-check warnings still lack an
  explanation, and the coordinator's message when the submission was returned; each links to the
  form.
- `coordinator_tasks`: each unpublished round of each network the person's coordinator role
  names: submissions to review, overdue members, submissions with unexplained warnings, whether
  the round can be closed or published; each count links to the review list filtered the same
  way (`forms.ReviewFilterForm`), the round to its page.

Only the roles the person holds count (`permissions.roles_of`): an administrator without a
coordinator role is not shown every network's work. The warnings are the soft checks
(`validation.check_value_soft`) with the inputs the review list uses (`selectors.round_review`):
the previous round's approved numbers and the other submitted or approved numbers of the round.
They are read for every round at once, so each panel costs a fixed number of queries whatever the
number of rounds, members and items (staff 5, coordinator 6).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from networks import permissions
from networks.models import Membership, Municipality, Network

from .models import DataItem, Round, Submission, SubmissionEvent
from .models import Value as StoredValue
from .validation import check_value_soft

_COUNTED = (Submission.Status.SUBMITTED, Submission.Status.APPROVED)
_OPEN_STATES = ("none", Submission.Status.DRAFT, Submission.Status.RETURNED)


def deadline_words(deadline: datetime.date | None, *, today: datetime.date, done: bool = False) -> str:
    """How far the deadline is, in words ("3 days left", "overdue by 2 days", "due today");
    empty without a deadline or when the work is done (submitted or approved)."""
    if deadline is None or done:
        return ""
    days = (deadline - today).days
    if days < 0:
        return ngettext("overdue by %(count)d day", "overdue by %(count)d days", -days) % {"count": -days}
    if days == 0:
        return _("due today")
    return ngettext("%(count)d day left", "%(count)d days left", days) % {"count": days}


# --- reads shared by both panels -----------------------------------------------------------------


def _rounds(rounds):
    """The rounds with their network and period, whether they name their own indicators, and the
    id of the network's previous round (the one whose approved numbers the change check reads)."""
    previous = Round.objects.filter(network_id=OuterRef("network_id"), period__start__lt=OuterRef("period__start"))
    return rounds.select_related("network", "period").annotate(
        asks_own=Exists(Round.indicators.through.objects.filter(round_id=OuterRef("pk"))),
        previous_id=Subquery(previous.order_by("-period__start").values("pk")[:1]),
    )


def _entered_items(rounds: list[Round]) -> dict[int, list[DataItem]]:
    """Round id -> the entered data items it asks (`selectors.round_items` without the official
    ones, which are not the municipalities' to fill), for every round in one query."""
    if not rounds:
        return {}
    network_ids = {r.network_id for r in rounds}
    entered = DataItem.objects.filter(source=DataItem.Source.ENTERED)
    own = (
        entered.filter(indicators__rounds__in=[r.pk for r in rounds])
        .annotate(via=Value("round"), key=F("indicators__rounds"))
        .order_by()
    )
    by_set = (
        entered.filter(indicators__network_links__network_id__in=network_ids)
        .annotate(via=Value("network"), key=F("indicators__network_links__network_id"))
        .order_by()
    )
    context = entered.filter(networks__in=network_ids).annotate(via=Value("context"), key=F("networks")).order_by()
    found: dict[tuple[str, int], dict[int, DataItem]] = defaultdict(dict)
    for item in own.union(by_set, context, all=True):
        found[(item.via, item.key)][item.pk] = item
    items = {}
    for round_ in rounds:
        asked = dict(found[("round", round_.pk)] if round_.asks_own else found[("network", round_.network_id)])
        asked.update(found[("context", round_.network_id)])
        items[round_.pk] = sorted(asked.values(), key=lambda item: (item.display_theme, item.code))
    return items


@dataclass
class _RoundValues:
    """The values of some rounds as the soft checks need them."""

    # submission id -> item id -> (number or None when missing, explanation)
    own: dict[int, dict[int, tuple[Decimal | None, str]]] = field(default_factory=dict)
    # round id -> item id -> [(submission id, number)] of submitted or approved submissions
    distribution: dict[int, dict[int, list[tuple[int, Decimal]]]] = field(default_factory=dict)
    # (round id, municipality id, item id) -> the previous round's approved number
    previous: dict[tuple[int, int, int], Decimal] = field(default_factory=dict)

    def unexplained(self, *, round_id: int, municipality_id: int, submission_id: int, items: list[DataItem]) -> int:
        """How many of the submission's numbers carry a warning without an explanation."""
        own = self.own.get(submission_id, {})
        others = self.distribution.get(round_id, {})
        count = 0
        for item in items:
            number, explanation = own.get(item.pk, (None, ""))
            if number is None or explanation.strip():
                continue
            found = check_value_soft(
                item,
                number,
                previous=self.previous.get((round_id, municipality_id, item.pk)),
                others=[n for pk, n in others.get(item.pk, ()) if pk != submission_id],
            )
            count += bool(found)
        return count


def _round_values(rounds: list[Round], *, own: set[int] | None = None) -> _RoundValues:
    """One query: the rounds' values (those of the `own` municipalities' submissions, every one
    when None, and every submitted or approved number for the distribution) and the approved
    numbers of the rounds before them."""
    read = _RoundValues()
    if not rounds:
        return read
    current = {r.pk for r in rounds}
    following = defaultdict(list)
    for round_ in rounds:
        if round_.previous_id:
            following[round_.previous_id].append(round_.pk)
    counted = Q(submission__status__in=_COUNTED, is_missing=False)
    mine = Q() if own is None else Q(submission__municipality_id__in=own) | counted
    before = Q(
        submission__round_id__in=list(following), submission__status=Submission.Status.APPROVED, is_missing=False
    )
    rows = StoredValue.objects.filter(Q(submission__round_id__in=current) & mine | before).values_list(
        "submission_id",
        "submission__round_id",
        "submission__municipality_id",
        "submission__status",
        "item_id",
        "number",
        "is_missing",
        "explanation",
    )
    for submission_id, round_id, municipality_id, status, item_id, number, is_missing, explanation in rows:
        done = status in _COUNTED and not is_missing
        if round_id in current and (own is None or municipality_id in own or done):
            read.own.setdefault(submission_id, {})[item_id] = (None if is_missing else number, explanation or "")
            if done:
                read.distribution.setdefault(round_id, {}).setdefault(item_id, []).append((submission_id, number))
        if status == Submission.Status.APPROVED and not is_missing:
            for later in following.get(round_id, ()):
                read.previous[(later, municipality_id, item_id)] = number
    return read


# --- staff: the forms to fill ------------------------------------------------------------------


@dataclass(frozen=True)
class FormTask:
    """One form of one municipality in one open round, as the landing page says it."""

    round: Round
    municipality: Municipality
    status: str
    deadline_words: str
    overdue: bool
    filled: int
    total: int
    unexplained: int
    returned_message: str
    url: str


def staff_tasks(*, user, today: datetime.date | None = None) -> list[FormTask]:
    """Every open form of the municipalities the user's staff roles reach (in the networks they
    reach), earliest deadline first. Five queries."""
    roles = permissions.roles_of(user)
    if not roles.staff:
        return []
    today = today or timezone.localdate()
    memberships = list(
        Membership.objects.active(on=today)
        .filter(municipality_id__in=roles.staff_of)
        .select_related("municipality")
        .order_by("municipality__name")
    )
    pairs = [(m.network_id, m.municipality) for m in memberships if m.municipality_id in roles.staff_in(m.network_id)]
    if not pairs:
        return []
    rounds = list(
        _rounds(Round.objects.filter(network_id__in={n for n, _m in pairs}, status=Round.Status.OPEN)).order_by(
            F("deadline").asc(nulls_last=True), "network__code", "period__start"
        )
    )
    if not rounds:
        return []
    municipality_ids = {m.pk for _n, m in pairs}
    returned = SubmissionEvent.objects.filter(submission=OuterRef("pk"), to_status=Submission.Status.RETURNED)
    submissions = {
        (s.round_id, s.municipality_id): s
        for s in Submission.objects.filter(round__in=rounds, municipality_id__in=municipality_ids).annotate(
            returned_message=Subquery(returned.order_by("-at", "-pk").values("message")[:1])
        )
    }
    items = _entered_items(rounds)
    values = _round_values(rounds, own=municipality_ids)
    tasks = []
    for round_ in rounds:
        for network_id, municipality in pairs:
            if network_id != round_.network_id:
                continue
            submission = submissions.get((round_.pk, municipality.pk))
            status = submission.status if submission else "none"
            asked = items[round_.pk]
            own = values.own.get(submission.pk, {}) if submission else {}
            late = round_.deadline is not None and today > round_.deadline
            tasks.append(
                FormTask(
                    round=round_,
                    municipality=municipality,
                    status=status,
                    deadline_words=deadline_words(round_.deadline, today=today, done=status not in _OPEN_STATES),
                    overdue=late and status in _OPEN_STATES,
                    filled=sum(1 for item in asked if item.pk in own),
                    total=len(asked),
                    unexplained=values.unexplained(
                        round_id=round_.pk, municipality_id=municipality.pk, submission_id=submission.pk, items=asked
                    )
                    if submission
                    else 0,
                    returned_message=(submission.returned_message or "")
                    if status == Submission.Status.RETURNED
                    else "",
                    url=reverse(
                        "indicators:submission_form", kwargs={"round_pk": round_.pk, "code": municipality.code}
                    ),
                )
            )
    return tasks


def staff_panel(request) -> dict | None:
    """The staff panel's context; None for a person without a staff role."""
    if not permissions.roles_of(request.user).staff:
        return None
    return {"tasks": staff_tasks(user=request.user)}


# --- coordinators: what waits for them ---------------------------------------------------------


@dataclass(frozen=True)
class RoundTasks:
    """One unpublished round of a coordinated network: what waits, each with the page to act on."""

    round: Round
    members: int
    approved: int
    to_review: int
    overdue: int
    warned: int
    deadline_words: str
    ready_to_close: bool
    ready_to_publish: bool
    review_url: str
    round_url: str

    def filtered(self, **query) -> str:
        return f"{self.review_url}?{urlencode(query)}"

    @property
    def to_review_url(self) -> str:
        return self.filtered(status=Submission.Status.SUBMITTED)

    @property
    def overdue_url(self) -> str:
        return self.filtered(overdue=1)

    @property
    def warned_url(self) -> str:
        return self.filtered(unexplained=1)

    @property
    def waits(self) -> bool:
        return bool(self.to_review or self.overdue or self.warned or self.ready_to_close or self.ready_to_publish)


@dataclass(frozen=True)
class NetworkTasks:
    network: Network
    rounds: list[RoundTasks]
    new_round_url: str

    @property
    def waits(self) -> bool:
        return any(r.waits for r in self.rounds)


def _member_ids(memberships: list[tuple[int, int, datetime.date | None, datetime.date | None]], round_: Round) -> set:
    """`selectors.round_member_ids` over rows already read: members on the round's reference date
    (the rule of `MembershipQuerySet.active`)."""
    on = round_.deadline or round_.period.end
    return {
        municipality_id
        for network_id, municipality_id, joined, left in memberships
        if network_id == round_.network_id and (joined is None or joined <= on) and (left is None or left >= on)
    }


def coordinator_tasks(*, user, today: datetime.date | None = None) -> list[NetworkTasks]:
    """Each network the user's coordinator roles name, with its unpublished rounds and what
    waits in them; the counts are those of the review list's filters. Six queries."""
    network_ids = permissions.roles_of(user).coordinator_of
    if not network_ids:
        return []
    today = today or timezone.localdate()
    networks = list(Network.objects.filter(pk__in=network_ids).order_by("code"))
    rounds = list(
        _rounds(Round.objects.filter(network_id__in=network_ids).exclude(status=Round.Status.PUBLISHED)).order_by(
            "network__code", "-period__start"
        )
    )
    memberships = list(
        Membership.objects.filter(network_id__in=network_ids).values_list(
            "network_id", "municipality_id", "joined", "left"
        )
    )
    submissions = defaultdict(dict)
    for pk, round_id, municipality_id, status in Submission.objects.filter(round__in=rounds).values_list(
        "pk", "round_id", "municipality_id", "status"
    ):
        submissions[round_id][municipality_id] = (pk, status)
    items = _entered_items(rounds)
    values = _round_values(rounds)
    by_network = defaultdict(list)
    for round_ in rounds:
        members = _member_ids(memberships, round_)
        own = submissions[round_.pk]
        late = round_.deadline is not None and today > round_.deadline
        statuses = {m: own[m][1] if m in own else "none" for m in members | own.keys()}
        warned = sum(
            1
            for municipality_id, (pk, _status) in own.items()
            if values.unexplained(
                round_id=round_.pk, municipality_id=municipality_id, submission_id=pk, items=items[round_.pk]
            )
        )
        approved = sum(1 for s in statuses.values() if s == Submission.Status.APPROVED)
        by_network[round_.network_id].append(
            RoundTasks(
                round=round_,
                members=len(statuses),
                approved=approved,
                to_review=sum(1 for s in statuses.values() if s == Submission.Status.SUBMITTED),
                overdue=sum(1 for s in statuses.values() if late and s in _OPEN_STATES),
                warned=warned,
                deadline_words=deadline_words(round_.deadline, today=today)
                if round_.status == Round.Status.OPEN
                else "",
                ready_to_close=round_.status == Round.Status.OPEN and bool(statuses) and approved == len(statuses),
                ready_to_publish=round_.status == Round.Status.CLOSED,
                review_url=reverse("indicators:round_matrix", kwargs={"round_pk": round_.pk}),
                round_url=reverse(
                    "indicators:coordination_round", kwargs={"code": round_.network.code, "period": round_.period.label}
                ),
            )
        )
    return [
        NetworkTasks(
            network=network,
            rounds=by_network[network.pk],
            new_round_url=reverse("indicators:coordination_round_open", kwargs={"code": network.code}),
        )
        for network in networks
    ]


def coordinator_panel(request) -> dict | None:
    """The coordinator panel's context; None for a person who coordinates no network."""
    if not permissions.roles_of(request.user).coordinator_of:
        return None
    return {"networks": coordinator_tasks(user=request.user)}
