from __future__ import annotations

import datetime
from decimal import Decimal

import factory

from indicators.models import DataItem, Indicator, NetworkIndicator, Period, Round, Submission, Value
from networks.tests.factories import MembershipFactory, MunicipalityFactory, NetworkFactory


class DataItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataItem
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ITEM_{n}")
    name = factory.Sequence(lambda n: f"Rādītājs {n}")
    name_en = factory.Sequence(lambda n: f"Item {n}")
    unit = "units"
    source = DataItem.Source.ENTERED


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"IND_{n}")
    name = factory.Sequence(lambda n: f"Indikators {n}")
    name_en = factory.Sequence(lambda n: f"Indicator {n}")
    formula = "1"


class NetworkIndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NetworkIndicator
        django_get_or_create = ("network", "indicator")

    network = factory.SubFactory(NetworkFactory)
    indicator = factory.SubFactory(IndicatorFactory)


class PeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Period
        django_get_or_create = ("label",)

    label = "2024"
    kind = Period.Kind.YEAR
    start = factory.LazyAttribute(lambda p: datetime.date(int(p.label[:4]), 1, 1))
    end = factory.LazyAttribute(lambda p: datetime.date(int(p.label[:4]), 12, 31))


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Round
        django_get_or_create = ("network", "period")

    network = factory.SubFactory(NetworkFactory)
    period = factory.SubFactory(PeriodFactory)
    opens = datetime.date(2025, 1, 15)
    deadline = datetime.date(2099, 3, 31)
    status = Round.Status.OPEN


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    round = factory.SubFactory(RoundFactory)
    municipality = factory.SubFactory(MunicipalityFactory)
    status = Submission.Status.DRAFT


class ValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Value

    submission = factory.SubFactory(SubmissionFactory)
    item = factory.SubFactory(DataItemFactory)
    number = Decimal(100)


def data_round(world, *, label: str = "2024", others: int = 5, other_values=(100, 102, 98, 101, 99)) -> Round:
    """A round of the world's network asking two housing items through one indicator, plus a
    context item and an official one; `others` extra members have submitted DWELLINGS values."""
    dwellings = DataItemFactory(
        code="DWELLINGS",
        name="Sociālie dzīvokļi",
        name_en="Social dwellings",
        unit="dwellings",
        theme="Mājokļi",
        theme_en="Housing",
        instructions="Skaits gada beigās.",
        instructions_en="Number at the end of the year.",
        min_value=Decimal(0),
    )
    queue = DataItemFactory(
        code="QUEUE", name="Rinda", name_en="Waiting list", unit="households", theme="Mājokļi", theme_en="Housing"
    )
    area = DataItemFactory(
        code="AREA", name="Platība", name_en="Area", unit="km²", theme="Konteksts", theme_en="Context", decimals=1
    )
    population = DataItemFactory(
        code="POPULATION",
        name="Iedzīvotāji",
        name_en="Population",
        unit="people",
        theme="Konteksts",
        theme_en="Context",
        source=DataItem.Source.OFFICIAL,
    )
    indicator = IndicatorFactory(code="SOC_HOUSING", formula="1000 * DWELLINGS / POPULATION + 0 * QUEUE")
    indicator.items.set([dwellings, queue, population])
    NetworkIndicatorFactory(network=world.network, indicator=indicator)
    area.networks.add(world.network)
    round_ = RoundFactory(network=world.network, period=PeriodFactory(label=label))
    for n, number in zip(range(others), other_values, strict=False):
        municipality = MunicipalityFactory(code=f"LVX{n:06d}", name=f"Novads {n}", name_en=f"Municipality {n}")
        MembershipFactory(network=world.network, municipality=municipality)
        submission = SubmissionFactory(round=round_, municipality=municipality, status=Submission.Status.SUBMITTED)
        ValueFactory(submission=submission, item=dwellings, number=Decimal(number))
    return round_


def page_objects(world) -> dict:
    """For the permission matrix of every page (networks/tests/test_pages.py): a round of the
    world's network and a draft submission of municipality A with one value."""
    round_ = data_round(world, others=0)
    submission, _created = Submission.objects.get_or_create(round=round_, municipality=world.a)
    Value.objects.get_or_create(submission=submission, item=DataItem.objects.get(code="DWELLINGS"), number=12)
    return {"round": round_, "submission": submission}
