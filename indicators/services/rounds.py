"""A coordinator's reporting rounds: open, extend the deadline, close, publish, unpublish.

Who did what and when (and why, for unpublishing) is kept by the round's history
(django-simple-history: `history_user`, `history_date`, `history_change_reason`).
Publishing and unpublishing change what the public sees, so they tell the comparisons app that
its stored results may need recomputing and visibility has changed.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from networks import events
from networks.models import Network

from .. import notifications
from ..errors import IndicatorsError
from ..models import Indicator, Round
from .periods import period_get_or_create


class RoundError(IndicatorsError):
    """A round transition the rules refuse; the message is shown to the coordinator."""


def _save(round_: Round, *, user, reason: str) -> None:
    round_._history_user = user
    round_._change_reason = reason
    round_.save()


def _notify_opened(round_: Round) -> None:
    """Tell the member municipalities' staff (the notifications module sends after commit)."""
    member_ids = list(round_.network.memberships.active().values_list("municipality_id", flat=True))
    notifications.notify_round_opened(round=round_, municipality_ids=member_ids)


@transaction.atomic
def round_open(
    *,
    network: Network,
    period_label: str,
    deadline: datetime.date,
    indicators: Iterable[Indicator] = (),
    user=None,
) -> Round:
    """Open the round of `network` for the period labelled `period_label`.

    `indicators` must come from the network's indicator set; none means the whole set.
    """
    try:
        period = period_get_or_create(label=period_label)
    except ValueError as exc:
        raise RoundError(str(exc)) from exc
    if Round.objects.filter(network=network, period=period).exists():
        raise RoundError(_("The round %(period)s of this network already exists.") % {"period": period.label})
    today = timezone.localdate()
    if deadline < today:
        raise RoundError(_("The deadline cannot be in the past."))
    chosen = list(indicators)
    allowed = set(network.indicator_set.values_list("indicator_id", flat=True))
    outside = sorted(i.code for i in chosen if i.pk not in allowed)
    if outside:
        raise RoundError(_("Not in the network's indicator set: %(codes)s") % {"codes": ", ".join(outside)})
    round_ = Round(network=network, period=period, opens=today, deadline=deadline, status=Round.Status.OPEN)
    _save(round_, user=user, reason="opened")
    if chosen:
        round_.indicators.set(chosen)
    _notify_opened(round_)
    return round_


@transaction.atomic
def round_deadline_extend(*, round: Round, deadline: datetime.date, user=None) -> Round:
    if round.status != Round.Status.OPEN:
        raise RoundError(_("Only an open round's deadline can be extended."))
    if round.deadline and deadline <= round.deadline:
        raise RoundError(_("The new deadline must be later than the current one."))
    round.deadline = deadline
    _save(round, user=user, reason=f"deadline extended to {deadline.isoformat()}")
    return round


@transaction.atomic
def round_close(*, round: Round, user=None) -> Round:
    if round.status != Round.Status.OPEN:
        raise RoundError(_("Only an open round can be closed."))
    round.status = Round.Status.CLOSED
    _save(round, user=user, reason="closed")
    return round


@transaction.atomic
def round_reopen(*, round: Round, user=None) -> Round:
    if round.status != Round.Status.CLOSED:
        raise RoundError(_("Only a closed round can be reopened."))
    round.status = Round.Status.OPEN
    _save(round, user=user, reason="reopened")
    return round


@transaction.atomic
def round_publish(*, round: Round, user=None) -> Round:
    """Make the approved values public (per the network's policy) and recompute the results."""
    if round.status != Round.Status.CLOSED:
        raise RoundError(_("Only a closed round can be published; close it first."))
    round.status = Round.Status.PUBLISHED
    round.published_at = timezone.now()
    _save(round, user=user, reason="published")
    events.publish(events.VALUES_CHANGED, round_id=round.pk, item_ids=None)
    events.publish(events.ROUND_PUBLISHED, round_id=round.pk)
    return round


@transaction.atomic
def round_unpublish(*, round: Round, reason: str, user=None) -> Round:
    """Withdraw a publication; the reason is kept in the round's history."""
    reason = reason.strip()
    if not reason:
        raise RoundError(_("Say why the results are withdrawn."))
    if round.status != Round.Status.PUBLISHED:
        raise RoundError(_("Only a published round can be unpublished."))
    round.status = Round.Status.CLOSED
    round.published_at = None
    _save(round, user=user, reason=f"unpublished: {reason}"[:100])
    events.publish(events.VALUES_CHANGED, round_id=round.pk, item_ids=None)
    return round
