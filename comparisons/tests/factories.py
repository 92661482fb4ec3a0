"""Factories and a helper that builds approved submissions for the comparison tests."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import factory

from comparisons.models import RecomputeRun
from indicators.formula import parse_formula
from indicators.models import DataItem, Indicator, NetworkIndicator, Round, Submission, Value
from indicators.services.periods import period_get_or_create


class DataItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataItem
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ITEM{n}")
    name = factory.LazyAttribute(lambda o: o.code)


def indicator_create(
    *, code: str, formula: str = "", polarity: str = "higher", networks=(), in_index: bool = False, weight=1
) -> Indicator:
    """An indicator with its data items (created as needed) and network links."""
    indicator = Indicator.objects.create(
        code=code, name=code, formula=formula or code, polarity=polarity, in_index=in_index, weight=weight
    )
    for item_code in parse_formula(formula or code).codes:
        indicator.items.add(DataItemFactory(code=item_code))
    for position, network in enumerate(networks):
        NetworkIndicator.objects.create(network=network, indicator=indicator, position=position)
    return indicator


def submissions_create(
    *,
    network,
    period: str,
    values: Mapping[object, Mapping[str, object]],
    status: str = Submission.Status.APPROVED,
) -> dict:
    """Submissions of `network` for `period`: {municipality: {item code: number or None (missing)}}."""
    round_, _ = Round.objects.get_or_create(network=network, period=period_get_or_create(label=period))
    submissions = {}
    for municipality, figures in values.items():
        submission, _ = Submission.objects.get_or_create(round=round_, municipality=municipality)
        submission.status = status
        submission.save()
        for code, number in figures.items():
            item = DataItemFactory(code=code)
            Value.objects.update_or_create(
                submission=submission,
                item=item,
                defaults={
                    "number": None if number is None else Decimal(str(number)),
                    "is_missing": number is None,
                    "missing_reason": "not collected" if number is None else "",
                },
            )
        submissions[municipality] = submission
    return submissions


def recompute_run_for(world, *, network=None, period: str = "2024") -> RecomputeRun:
    """A finished recompute run of the world's network T (or `network`) for the permission tests."""
    return RecomputeRun.objects.create(
        network=network or world.network, period=period_get_or_create(label=period), status=RecomputeRun.Status.DONE
    )
