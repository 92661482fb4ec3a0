from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

from networks.models import Membership, Municipality, Network, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "correct-horse-battery")
        if create:
            self.save(update_fields=["password"])


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"XX{n:07d}")
    name = factory.Sequence(lambda n: f"Pašvaldība {n}")
    name_en = factory.Sequence(lambda n: f"Municipality {n}")
    kind = "municipality"
    region = "Zemgale"
    valid_from = datetime.date(2021, 7, 1)


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"N{n}")
    name = factory.Sequence(lambda n: f"Tīkls {n}")
    name_en = factory.Sequence(lambda n: f"Network {n}")
    policy = Network.Policy.PUBLIC


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    network = factory.SubFactory(NetworkFactory)
    municipality = factory.SubFactory(MunicipalityFactory)
    joined = datetime.date(2022, 1, 1)


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    user = factory.SubFactory(UserFactory)
    kind = Role.Kind.STAFF
