"""Periods from labels, rounds and submissions created on demand (imports, coordinators)."""

from __future__ import annotations

from django.db import transaction

from networks.models import Municipality, Network

from ..models import Period, Round, Submission


def period_get_or_create(*, label: str) -> Period:
    """The period for `2024`, `2024-25` or `2024-Q1`; ValueError for any other label."""
    kind, start, end = Period.bounds_from_label(label)
    period, _created = Period.objects.get_or_create(
        label=label.strip(), defaults={"kind": kind, "start": start, "end": end}
    )
    return period


@transaction.atomic
def round_get_or_create(*, network: Network, period: Period) -> Round:
    round_, _created = Round.objects.get_or_create(network=network, period=period)
    return round_


@transaction.atomic
def submission_get_or_create(*, round: Round, municipality: Municipality) -> Submission:
    submission, _created = Submission.objects.get_or_create(round=round, municipality=municipality)
    return submission
