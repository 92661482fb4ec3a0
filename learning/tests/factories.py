from __future__ import annotations

import datetime
from decimal import Decimal

import factory

from indicators.tests.factories import IndicatorFactory, PeriodFactory
from learning.models import ImprovementPlan, Meeting, PlanAction, PlanTarget, PracticeCase
from networks.tests.factories import MunicipalityFactory, NetworkFactory


class PracticeCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PracticeCase

    title = factory.Sequence(lambda n: f"Labā prakse {n}")
    title_en = factory.Sequence(lambda n: f"Good practice {n}")
    summary = "Īss apraksts."
    text = "Pilns teksts."
    municipality = factory.SubFactory(MunicipalityFactory)
    network = factory.SubFactory(NetworkFactory)
    status = PracticeCase.Status.PUBLISHED
    visibility = PracticeCase.Visibility.PUBLIC
    published_at = factory.LazyFunction(lambda: datetime.datetime(2025, 5, 1, 12, tzinfo=datetime.UTC))


class ImprovementPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImprovementPlan

    municipality = factory.SubFactory(MunicipalityFactory)
    network = factory.SubFactory(NetworkFactory)
    title = factory.Sequence(lambda n: f"Plāns {n}")
    status = ImprovementPlan.Status.ACTIVE


class PlanTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanTarget

    plan = factory.SubFactory(ImprovementPlanFactory)
    indicator = factory.SubFactory(IndicatorFactory)
    baseline = Decimal(10)
    target_value = Decimal(15)
    target_period = factory.SubFactory(PeriodFactory, label="2026")


class PlanActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanAction

    plan = factory.SubFactory(ImprovementPlanFactory)
    description = "Pārskatīt rindas kārtību"
    owner = "Sociālais dienests"
    due_date = datetime.date(2026, 6, 30)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    network = factory.SubFactory(NetworkFactory)
    title = factory.Sequence(lambda n: f"Tīkla sanāksme {n}")
    date = datetime.date(2026, 3, 12)
    place = "Aizkraukle"
    agenda = "1. Rezultāti"


def learning_objects(world) -> dict:
    """For the permission matrix (networks/tests/test_pages.py): objects of A in the world's network T."""
    published, _created = PracticeCase.objects.get_or_create(
        title="Publicēta prakse",
        defaults={
            "summary": "Tikai tīkla dalībniekiem.",
            "municipality": world.a,
            "network": world.network,
            "status": PracticeCase.Status.PUBLISHED,
            "visibility": PracticeCase.Visibility.MEMBERS,
            "published_at": datetime.datetime(2025, 5, 1, 12, tzinfo=datetime.UTC),
        },
    )
    submitted, _created = PracticeCase.objects.get_or_create(
        title="Iesniegta prakse",
        defaults={"summary": "Gaida publicēšanu.", "municipality": world.a, "network": world.network},
    )
    plan, _created = ImprovementPlan.objects.get_or_create(
        municipality=world.a, network=world.network, defaults={"title": "Aizkraukles plāns"}
    )
    action, _created = PlanAction.objects.get_or_create(
        plan=plan, defaults={"description": "Pārskatīt rindu", "owner": "Sociālais dienests"}
    )
    meeting, _created = Meeting.objects.get_or_create(
        network=world.network, title="Pavasara sanāksme", defaults={"date": datetime.date(2026, 3, 12)}
    )
    return {"published": published, "submitted": submitted, "plan": plan, "action": action, "meeting": meeting}


def coordination_objects(world) -> dict:
    """A round (2023) and an indicator of the world's network T, for the coordinator pages."""
    from indicators.models import NetworkIndicator
    from indicators.tests.factories import RoundFactory

    indicator = IndicatorFactory(code="COORD_IND", name="Koordinatora indikators")
    NetworkIndicator.objects.get_or_create(network=world.network, indicator=indicator)
    round_ = RoundFactory(network=world.network, period=PeriodFactory(label="2023"))
    return {"round": round_, "indicator": indicator}
