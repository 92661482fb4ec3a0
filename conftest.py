"""Shared fixtures: one set of personas used by every permission test (STYLE.md, Tests).

A network T with member municipalities A and B; staff of A, staff of B, a viewer (politician)
of A, the coordinator of T, an outsider with an account but no role, an administrator, and
the anonymous visitor. A second network U (not coordinated by our coordinator) holds C.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from networks.models import Role
from networks.tests.factories import MembershipFactory, MunicipalityFactory, NetworkFactory, RoleFactory, UserFactory

PERSONAS = ("staff_a", "staff_b", "viewer_a", "coordinator", "outsider", "anonymous")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests create many accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_in_process(request):
    """Tests run tasks in process even where CI configures a broker; the integration tests
    (marked `integration`) talk to the real broker and worker."""
    if request.node.get_closest_marker("integration"):
        yield
        return
    from benchlearning.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def published_events(monkeypatch) -> list[tuple[str, dict]]:
    """The events the services publish, as (name, payload), in order; still delivered."""
    from networks import events

    published: list[tuple[str, dict]] = []
    deliver = events.publish

    def record(event: str, **payload) -> None:
        published.append((event, payload))
        deliver(event, **payload)

    monkeypatch.setattr(events, "publish", record)
    return published


@pytest.fixture(autouse=True)
def _no_login_throttling(settings):
    # django-axes needs the request that Client.login() does not pass; the throttling itself is
    # tested with AXES_ENABLED on in networks/tests/test_auth.py.
    settings.AXES_ENABLED = False


@dataclass
class World:
    network: object
    other_network: object
    a: object
    b: object
    c: object
    users: dict

    def client(self, persona: str) -> Client:
        client = Client()
        user = self.users.get(persona)
        if user is not None:
            client.force_login(user)
        return client


@pytest.fixture
def world(db) -> World:
    network = NetworkFactory(code="T", name="Tīkls T", name_en="Network T")
    other = NetworkFactory(code="U", name="Tīkls U", name_en="Network U")
    a = MunicipalityFactory(code="LVA000001", name="Aizkraukles novads", name_en="Aizkraukle Municipality")
    b = MunicipalityFactory(code="LVB000002", name="Bauskas novads", name_en="Bauska Municipality")
    c = MunicipalityFactory(code="LVC000003", name="Cēsu novads", name_en="Cēsis Municipality")
    for municipality in (a, b):
        MembershipFactory(network=network, municipality=municipality)
    MembershipFactory(network=other, municipality=c)
    users = {
        "staff_a": UserFactory(username="staff-a"),
        "staff_b": UserFactory(username="staff-b"),
        "viewer_a": UserFactory(username="viewer-a"),
        "coordinator": UserFactory(username="coordinator", first_name="Ilze", last_name="Koordinatore"),
        "outsider": UserFactory(username="outsider"),
        "admin": UserFactory(username="admin", is_superuser=True, is_staff=True),
    }
    RoleFactory(user=users["staff_a"], kind=Role.Kind.STAFF, municipality=a)
    RoleFactory(user=users["staff_b"], kind=Role.Kind.STAFF, municipality=b)
    RoleFactory(user=users["viewer_a"], kind=Role.Kind.VIEWER, municipality=a)
    RoleFactory(user=users["coordinator"], kind=Role.Kind.COORDINATOR, network=network)
    return World(network=network, other_network=other, a=a, b=b, c=c, users=users)
