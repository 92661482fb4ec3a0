"""Network meetings and study visits, the activity page and the digest after publication."""

from __future__ import annotations

import datetime

from django.core import mail
from django.urls import reverse

from indicators.models import Round
from indicators.tests.factories import PeriodFactory, RoundFactory
from learning.models import Meeting
from learning.services import network_digest_send
from learning.tests.factories import MeetingFactory, PracticeCaseFactory


def test_coordinator_records_a_study_visit(world):
    client = world.client("coordinator")
    response = client.post(
        reverse("learning:meeting_new", kwargs={"code": "T"}),
        {
            "title": "Pieredzes apmaiņa Bauskā",
            "date": "2026-04-15",
            "place": "Bauskas novada dome",
            "host": world.b.pk,
            "agenda": "1. Sociālo dzīvokļu rinda",
            "minutes": "Nolēma apmainīties ar veidlapām.",
            "attendees": [world.users["staff_a"].pk, world.users["staff_b"].pk],
        },
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert meeting.host == world.b
    assert sorted(u.username for u in meeting.attendees.all()) == ["staff-a", "staff-b"]
    html = world.client("viewer_a").get(reverse("learning:meeting_detail", kwargs={"pk": meeting.pk})).content.decode()
    assert "Nolēma apmainīties" in html
    assert "staff-a" in html


def test_host_and_attendees_come_from_the_network(world):
    from networks.models import Role
    from networks.tests.factories import RoleFactory, UserFactory

    staff_c = UserFactory(username="staff-c")
    RoleFactory(user=staff_c, kind=Role.Kind.STAFF, municipality=world.c)
    response = world.client("coordinator").post(
        reverse("learning:meeting_new", kwargs={"code": "T"}),
        {"title": "X", "date": "2026-04-15", "host": world.c.pk, "attendees": [staff_c.pk]},
    )
    assert response.status_code == 200
    assert not Meeting.objects.exists()


def test_meetings_are_for_the_networks_people(world):
    meeting = MeetingFactory(network=world.other_network, title="U sanāksme")
    client = world.client("coordinator")
    assert client.get(reverse("learning:meeting_detail", kwargs={"pk": meeting.pk})).status_code == 403
    assert client.get(reverse("learning:meeting_edit", kwargs={"pk": meeting.pk})).status_code == 403
    assert client.get(reverse("learning:meeting_list", kwargs={"code": "U"})).status_code == 403
    assert client.post(reverse("learning:meeting_new", kwargs={"code": "U"}), {"title": "x"}).status_code == 403


def test_activity_page_shows_the_public_part_to_the_public(world):
    RoundFactory(
        network=world.network,
        period=PeriodFactory(label="2024"),
        status=Round.Status.PUBLISHED,
        published_at=datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC),
    )
    RoundFactory(network=world.network, period=PeriodFactory(label="2027"), status=Round.Status.OPEN)
    PracticeCaseFactory(municipality=world.a, network=world.network, title="Publiska prakse")
    PracticeCaseFactory(municipality=world.a, network=world.network, title="Iekšēja prakse", visibility="members")
    MeetingFactory(network=world.network, title="Rudens sanāksme")
    url = reverse("learning:network_activity", kwargs={"code": "T"})
    public = world.client("anonymous").get(url).content.decode()
    assert "2024" in public
    assert "2027" not in public
    assert "Publiska prakse" in public
    assert "Iekšēja prakse" not in public
    assert "Rudens sanāksme" not in public
    member = world.client("viewer_a").get(url).content.decode()
    assert "Iekšēja prakse" in member
    assert "Rudens sanāksme" in member


def test_digest_names_what_is_new_since_the_last_publication(world):
    old = datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC)
    RoundFactory(network=world.network, period=PeriodFactory(label="2023"), status="published", published_at=old)
    round_ = RoundFactory(
        network=world.network,
        period=PeriodFactory(label="2024"),
        status="published",
        published_at=datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC),
    )
    PracticeCaseFactory(
        municipality=world.a,
        network=world.network,
        title="Jauna prakse",
        published_at=old + datetime.timedelta(days=30),
    )
    PracticeCaseFactory(
        municipality=world.a, network=world.network, title="Veca prakse", published_at=old - datetime.timedelta(days=30)
    )
    world.users["staff_b"].is_active = False
    world.users["staff_b"].save()
    sent = network_digest_send(round_id=round_.pk)
    assert sent == 3
    assert sorted(m.to[0] for m in mail.outbox) == [
        "coordinator@example.org",
        "staff-a@example.org",
        "viewer-a@example.org",
    ]
    body = mail.outbox[0].body
    assert "Jauna prakse" in body
    assert "Veca prakse" not in body
