"""Every e-mail leads somewhere: an absolute link (PORTAL_URL) to the page it is about, which
opens for its recipient, and the text in the recipient's language (`networks.mail`).

A person's language is the language they chose to follow in (`learning.Follow`); whoever follows
nothing reads the installation's language, Latvian.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import resolve, reverse

from indicators import notifications, selectors
from indicators.models import DataItem, Round, Submission
from indicators.services.submissions import round_deadline_remind, submission_return, submission_submit
from learning.models import Follow
from learning.services import network_digest_send
from networks.models import Role
from networks.tests.factories import RoleFactory, UserFactory

from .factories import SubmissionFactory, ValueFactory, data_round

PORTAL = "https://portal.example.lv"


@pytest.fixture(autouse=True)
def _portal(settings):
    settings.PORTAL_URL = PORTAL + "/"


@pytest.fixture
def english_staff_a(world):
    """Staff of A reads English: they chose to follow their municipality in English."""
    Follow.objects.create(user=world.users["staff_a"], network=world.network, municipality=world.a, language="en")
    return world.users["staff_a"]


def links(body: str) -> list[str]:
    return re.findall(r"https?://\S+", body)


def to(address: str):
    (message,) = [m for m in mail.outbox if m.to == [address]]
    return message


def opens_for(world, persona: str, link: str, view: str, **kwargs) -> None:
    """The link is absolute under PORTAL_URL, names the page, and the page opens for the person."""
    assert link.startswith(PORTAL + "/")
    path = urlsplit(link).path
    match = resolve(path)
    assert match.view_name == view
    assert {k: str(v) for k, v in match.kwargs.items()} == {k: str(v) for k, v in kwargs.items()}
    assert world.client(persona).get(path).status_code == 200


def test_round_opened_links_each_person_to_their_own_form_in_their_language(
    world, english_staff_a, django_capture_on_commit_callbacks
):
    round_ = data_round(world, others=0)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_round_opened(round=round_, municipality_ids=selectors.round_member_ids(round=round_))
    english, latvian = to("staff-a@example.org"), to("staff-b@example.org")
    assert english.subject == "Round 2024 of T Network T is open"
    assert "The form of Aizkraukle Municipality:" in english.body
    assert latvian.subject == "Tīkla T Tīkls T atskaites kārta 2024 ir atvērta"
    assert "Bauskas novads veidlapa:" in latvian.body
    (link_a,) = links(english.body)
    (link_b,) = links(latvian.body)
    opens_for(world, "staff_a", link_a, "indicators:submission_form", round_pk=round_.pk, code=world.a.code)
    opens_for(world, "staff_b", link_b, "indicators:submission_form", round_pk=round_.pk, code=world.b.code)


def test_the_deadline_reminder_links_to_the_form(world, english_staff_a, django_capture_on_commit_callbacks):
    round_ = data_round(world, others=0)
    Round.objects.filter(pk=round_.pk).update(deadline=datetime.date(2025, 3, 31))
    round_.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert round_deadline_remind(round=round_) == 2
    english, latvian = to("staff-a@example.org"), to("staff-b@example.org")
    assert english.subject.startswith("Three days left") and "31 Mar 2025" in english.body
    assert latvian.subject.startswith("Atlikušas trīs dienas") and "31.03.2025." in latvian.body
    opens_for(
        world, "staff_a", links(english.body)[0], "indicators:submission_form", round_pk=round_.pk, code="LVA000001"
    )
    opens_for(
        world, "staff_b", links(latvian.body)[0], "indicators:submission_form", round_pk=round_.pk, code="LVB000002"
    )


def _submitted(world) -> Submission:
    round_ = data_round(world, others=0)
    submission = SubmissionFactory(round=round_, municipality=world.a)
    for code in ("DWELLINGS", "QUEUE", "AREA"):
        ValueFactory(submission=submission, item=DataItem.objects.get(code=code), number=Decimal(1))
    return submission


@pytest.mark.parametrize("language", ["en", "lv"])
def test_a_returned_submission_mails_the_message_and_the_link_to_the_form(
    world, language, django_capture_on_commit_callbacks
):
    staff = world.users["staff_a"]
    Follow.objects.create(user=staff, network=world.network, municipality=world.a, language=language)
    submission = _submitted(world)
    submission_submit(submission=submission, user=staff)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submission_return(submission=submission, user=world.users["coordinator"], message="Check QUEUE, please.")
    message = to(staff.email)
    assert "Check QUEUE, please." in message.body
    if language == "en":
        assert message.subject == "Your figures for 2024 were returned"
        assert "Please correct them and submit them again." in message.body
    else:
        assert message.subject == "Jūsu dati par periodu 2024 ir atgriezti"
        assert "Aizkraukles novads veidlapa:" in message.body
    (link,) = links(message.body)
    opens_for(world, "staff_a", link, "indicators:submission_form", round_pk=submission.round_id, code=world.a.code)
    # The form the link opens shows the coordinator's message.
    assert "Check QUEUE, please." in world.client("staff_a").get(urlsplit(link).path).content.decode()


@pytest.mark.parametrize("language", ["en", "lv"])
def test_an_arrived_submission_links_the_coordinator_to_its_review(world, language, django_capture_on_commit_callbacks):
    coordinator = world.users["coordinator"]
    Follow.objects.create(user=coordinator, network=world.network, municipality=world.a, language=language)
    submission = _submitted(world)
    with django_capture_on_commit_callbacks(execute=True):
        submission_submit(submission=submission, user=world.users["staff_a"])
    message = to(coordinator.email)
    if language == "en":
        assert message.subject == "Aizkraukle Municipality submitted its figures for 2024"
        assert "Review them:" in message.body
    else:
        assert message.subject == "Aizkraukles novads iesniedza datus par periodu 2024"
        assert "Izskatīt datus:" in message.body
    (link,) = links(message.body)
    opens_for(world, "coordinator", link, "indicators:submission_review", pk=submission.pk)


def test_the_newest_follow_decides_and_an_unknown_language_falls_back_to_latvian(world):
    from networks.mail import recipient_languages

    staff_a, staff_b = world.users["staff_a"], world.users["staff_b"]
    Follow.objects.create(user=staff_a, network=world.network, municipality=world.a, language="lv")
    Follow.objects.create(user=staff_a, network=world.network, municipality=world.b, language="en")
    Follow.objects.create(user=staff_b, network=world.network, municipality=world.a, language="xx")
    assert recipient_languages([staff_a.pk, staff_b.pk, world.users["outsider"].pk]) == {
        staff_a.pk: "en",
        staff_b.pk: "lv",
        world.users["outsider"].pk: "lv",
    }


@pytest.mark.parametrize(("language", "words"), [("en", "You are invited to join"), ("lv", "Jūs aicina pievienoties")])
def test_an_invitation_is_written_in_the_language_the_coordinator_chose(world, language, words):
    client = world.client("coordinator")
    with mock.patch("django.db.transaction.on_commit", side_effect=lambda f, *a, **k: f()):
        response = client.post(
            reverse("networks:coordination_invite", kwargs={"code": "T"}),
            {"email": "new.person@example.org", "kind": "staff", "municipality": world.a.code, "language": language},
        )
    assert response.status_code == 302
    message = to("new.person@example.org")
    assert words in message.body
    (link,) = links(message.body)
    assert link.startswith(PORTAL + "/")
    match = resolve(urlsplit(link).path)
    assert match.view_name == "networks:invitation_accept"
    assert world.client("anonymous").get(urlsplit(link).path).status_code == 200


def test_the_invitation_form_offers_the_pages_language(world):
    html = world.client("coordinator").get(
        reverse("networks:coordination_invite", kwargs={"code": "T"}), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert re.search(r'<option value="en" selected>', html.content.decode())


def test_the_publication_digest_links_to_the_results_in_each_persons_language(world, english_staff_a):
    round_ = data_round(world, others=0)
    SubmissionFactory(round=round_, municipality=world.a, status=Submission.Status.APPROVED)
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.PUBLISHED, published_at="2025-05-01T10:00:00Z")
    viewer = UserFactory(username="viewer-b")
    RoleFactory(user=viewer, kind=Role.Kind.VIEWER, municipality=world.b)
    assert network_digest_send(round_id=round_.pk) >= 3
    english, latvian = to("staff-a@example.org"), to("viewer-b@example.org")
    assert english.subject == "T: results for 2024 published"
    assert latvian.subject == "T: publicēti rezultāti par periodu 2024"
    for persona, message in (("staff_a", english), ("staff_b", latvian)):
        results = [link for link in links(message.body) if "/dashboards/" in link]
        assert results, message.body
        assert results[0] == f"{PORTAL}{reverse('comparisons:overview', kwargs={'network': 'T'})}?period=2024"
        assert resolve(urlsplit(results[0]).path).view_name == "comparisons:overview"
        assert world.client(persona).get(urlsplit(results[0]).path + "?period=2024").status_code == 200
    assert "Rezultāti:" in latvian.body and "The results:" in english.body
