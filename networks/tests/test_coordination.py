"""The coordinator workspace end to end, through the test client."""

from __future__ import annotations

import datetime
import re
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from indicators.models import Indicator, NetworkIndicator, Round
from indicators.tests.factories import DataItemFactory, IndicatorFactory, PeriodFactory, RoundFactory
from networks import permissions
from networks.models import Invitation, Membership, Network, Role
from networks.tests.factories import MunicipalityFactory, RoleFactory, UserFactory

FUTURE = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()


def _invite(world, email="new.person@example.org", kind="staff", municipality=None) -> str:
    """The coordinator invites through the page; returns the link from the e-mail."""
    client = world.client("coordinator")
    with mock.patch("django.db.transaction.on_commit", side_effect=lambda f, *a, **k: f()):
        response = client.post(
            reverse("networks:coordination_invite", kwargs={"code": "T"}),
            {"email": email, "kind": kind, "municipality": (municipality or world.a).code},
        )
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.to == [email]
    return re.search(r"https?://\S+", message.body).group(0)


def test_invited_staff_member_accepts_and_can_fill_the_round(world, client):
    round_ = RoundFactory(network=world.network, period=PeriodFactory(label="2024"))
    link = _invite(world)
    path = urlsplit(link).path
    assert "Aizkraukles novads" in client.get(path).content.decode()
    response = client.post(
        path,
        {
            "username": "jauna-darbiniece",
            "first_name": "Anna",
            "last_name": "Bērziņa",
            "password1": "a-long-Secret-42",
            "password2": "a-long-Secret-42",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="jauna-darbiniece")
    assert user.email == "new.person@example.org"
    # The role reaches Aizkraukle within T, the inviting network, and nowhere else.
    assert Role.objects.filter(user=user, kind=Role.Kind.STAFF, municipality=world.a, network=world.network).exists()
    permissions.forget_roles(user)
    assert permissions.can_enter_data(user, world.a, world.network)
    assert not permissions.can_enter_data(user, world.a, world.other_network)
    assert not permissions.can_enter_data(user, world.b, world.network)
    # Signed in by the acceptance, the new staff member opens the round's form.
    form_url = reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": world.a.code})
    assert client.get(form_url).status_code == 200
    # The link works once.
    other = world.client("anonymous")
    assert other.get(path).status_code == 404
    assert "not valid" in other.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert other.post(path, {"username": "second", "password1": "x", "password2": "x"}).status_code == 404
    assert not get_user_model().objects.filter(username="second").exists()


def test_signed_in_person_accepts_a_viewer_invitation(world):
    link = _invite(world, email="outsider@example.org", kind="viewer", municipality=world.b)
    client = world.client("outsider")
    response = client.post(urlsplit(link).path)
    assert response.status_code == 302
    assert Role.objects.filter(user=world.users["outsider"], kind=Role.Kind.VIEWER, municipality=world.b).exists()
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == world.users["outsider"]
    assert invitation.accepted_at is not None


def test_expired_invitation_is_refused(world):
    link = _invite(world)
    Invitation.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = world.client("outsider").post(urlsplit(link).path)
    assert response.status_code == 404
    assert not Role.objects.filter(user=world.users["outsider"]).exists()


def test_only_a_hash_of_the_token_is_stored(world):
    link = _invite(world)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert not Invitation.objects.filter(token_hash__contains=token).exists()


def test_invitation_only_into_a_member_municipality(world):
    response = world.client("coordinator").post(
        reverse("networks:coordination_invite", kwargs={"code": "T"}),
        {"email": "x@example.org", "kind": "staff", "municipality": world.c.code},
    )
    assert response.status_code == 200
    assert not Invitation.objects.exists()


def test_round_open_close_publish_and_public_visibility(world, django_capture_on_commit_callbacks, published_events):
    indicator = IndicatorFactory(code="SHARE")
    NetworkIndicator.objects.create(network=world.network, indicator=indicator)
    client = world.client("coordinator")
    anonymous = world.client("anonymous")
    activity = reverse("learning:network_activity", kwargs={"code": "T"})

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("indicators:coordination_round_open", kwargs={"code": "T"}),
            {"period": "2025", "deadline": FUTURE, "indicators": [indicator.pk]},
        )
    assert response.status_code == 302
    round_ = Round.objects.get(network=world.network, period__label="2025")
    assert round_.status == Round.Status.OPEN
    assert list(round_.indicators.all()) == [indicator]
    # The staff of the members are told (the notifications module of the data-entry issue).
    assert any("staff-a@example.org" in m.to for m in mail.outbox)

    def act(action: str, data: dict | None = None):
        url = reverse("indicators:coordination_round_action", kwargs={"code": "T", "period": "2025", "action": action})
        return client.post(url, {"confirmed": "1", **(data or {})})

    later = (timezone.localdate() + datetime.timedelta(days=60)).isoformat()
    assert act("deadline", {"deadline": later}).status_code == 302
    round_.refresh_from_db()
    assert round_.deadline.isoformat() == later

    act("publish")  # refused: the round is still open
    round_.refresh_from_db()
    assert round_.status == Round.Status.OPEN

    act("close")
    round_.refresh_from_db()
    assert round_.status == Round.Status.CLOSED
    assert "2025" not in anonymous.get(activity).content.decode()
    members = {world.a.pk, world.b.pk}
    assert permissions.results_visibility(world.users["outsider"], world.network, round_, members) == "none"

    mail.outbox.clear()
    published_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act("publish")
    assert published_events == [
        ("values_changed", {"round_id": round_.pk, "item_ids": None}),
        ("round_published", {"round_id": round_.pk}),
    ]
    round_.refresh_from_db()
    assert round_.status == Round.Status.PUBLISHED
    assert round_.published_at is not None
    assert "2025" in anonymous.get(activity).content.decode()
    assert permissions.results_visibility(world.users["outsider"], world.network, round_, members) == "published"
    # The digest goes to every person of the network, one message each.
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == [
        "coordinator@example.org",
        "staff-a@example.org",
        "staff-b@example.org",
        "viewer-a@example.org",
    ]
    assert "2025" in mail.outbox[0].subject

    assert act("unpublish", {"reason": ""}).status_code == 302  # a reason is required
    round_.refresh_from_db()
    assert round_.status == Round.Status.PUBLISHED
    published_events.clear()
    act("unpublish", {"reason": "Kļūda Bauskas datos"})
    assert published_events == [("values_changed", {"round_id": round_.pk, "item_ids": None})]
    round_.refresh_from_db()
    assert round_.status == Round.Status.CLOSED
    assert "2025" not in anonymous.get(activity).content.decode()
    latest = round_.history.latest()
    assert latest.history_user == world.users["coordinator"]
    assert "Kļūda Bauskas datos" in latest.history_change_reason
    page = client.get(reverse("indicators:coordination_round", kwargs={"code": "T", "period": "2025"}))
    assert "Kļūda Bauskas datos" in page.content.decode()


def test_members_only_network_publication_stays_with_members(world):
    world.network.policy = Network.Policy.MEMBERS
    world.network.save()
    round_ = RoundFactory(network=world.network, period=PeriodFactory(label="2024"), status=Round.Status.PUBLISHED)
    member_ids = {world.a.pk, world.b.pk}
    assert permissions.results_visibility(world.users["outsider"], world.network, round_, member_ids) == "none"
    assert permissions.results_visibility(world.users["viewer_a"], world.network, round_, member_ids) == "published"


def test_round_open_refuses_bad_input(world):
    client = world.client("coordinator")
    url = reverse("indicators:coordination_round_open", kwargs={"code": "T"})
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert "past" in client.post(url, {"period": "2025", "deadline": past}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert client.post(url, {"period": "twenty", "deadline": FUTURE}).status_code == 200
    RoundFactory(network=world.network, period=PeriodFactory(label="2025"))
    response = client.post(url, {"period": "2025", "deadline": FUTURE}, HTTP_ACCEPT_LANGUAGE="en")
    assert "already exists" in response.content.decode()
    assert Round.objects.filter(network=world.network).count() == 1


def test_administrator_creates_a_network_and_its_coordinator_edits_it(world):
    response = world.client("admin").post(
        reverse("networks:coordination_network_create"),
        {"code": "T5", "name": "Izglītība", "name_en": "Education", "policy": "members"},
    )
    assert response.status_code == 302
    network = Network.objects.get(code="T5")
    RoleFactory(user=world.users["coordinator"], kind=Role.Kind.COORDINATOR, network=network)
    client = world.client("coordinator")
    client.post(
        reverse("networks:coordination_network_edit", kwargs={"code": "T5"}),
        {"code": "T5", "name": "Izglītība un kultūra", "policy": "public"},
    )
    network.refresh_from_db()
    assert network.name == "Izglītība un kultūra"
    assert network.is_public


@pytest.mark.parametrize("persona", ["staff_a", "coordinator"])
def test_only_administrators_create_networks(world, persona):
    # A coordinator who could create a network could add any municipality to it and invite
    # themselves as its staff.
    response = world.client(persona).post(reverse("networks:coordination_network_create"), {"code": "X", "name": "X"})
    assert response.status_code == 403
    assert not Network.objects.filter(code="X").exists()


def test_coordinator_adds_and_ends_memberships(world):
    client = world.client("coordinator")
    newcomer = MunicipalityFactory(code="LVD000004", name="Dobeles novads")
    client.post(
        reverse("networks:coordination_member_add", kwargs={"code": "T"}),
        {"municipality": newcomer.code, "joined": "2025-01-01"},
    )
    membership = Membership.objects.get(network=world.network, municipality=newcomer)
    assert membership.joined == datetime.date(2025, 1, 1)
    client.post(
        reverse("networks:coordination_member_end", kwargs={"code": "T", "pk": membership.pk}),
        {"left": "2025-12-31"},
    )
    membership.refresh_from_db()
    assert membership.left == datetime.date(2025, 12, 31)
    # A last day before joining is refused with a message.
    other = Membership.objects.get(network=world.network, municipality=world.b)
    response = client.post(
        reverse("networks:coordination_member_end", kwargs={"code": "T", "pk": other.pk}), {"left": "2000-01-01"}
    )
    assert response.status_code == 200
    other.refresh_from_db()
    assert other.left is None


def test_coordinator_deactivates_an_account_the_network_gave(world):
    client = world.client("coordinator")
    invited = UserFactory(username="invited-b")
    RoleFactory(user=invited, kind=Role.Kind.STAFF, municipality=world.b, network=world.network)
    url = reverse("networks:coordination_deactivate", kwargs={"code": "T", "user_id": invited.pk})
    assert client.post(url).status_code == 302
    invited.refresh_from_db()
    assert not invited.is_active
    assert not world.client("anonymous").login(username="invited-b", password="correct-horse-battery")


def test_no_deactivation_of_a_role_an_administrator_gave_for_every_network(world):
    staff_b = world.users["staff_b"]  # staff of B in every network B belongs to
    url = reverse("networks:coordination_deactivate", kwargs={"code": "T", "user_id": staff_b.pk})
    assert world.client("coordinator").post(url).status_code in (403, 404)
    staff_b.refresh_from_db()
    assert staff_b.is_active


def test_no_deactivation_of_someone_with_a_role_elsewhere(world):
    both = UserFactory(username="both")
    RoleFactory(user=both, kind=Role.Kind.STAFF, municipality=world.a, network=world.network)
    RoleFactory(user=both, kind=Role.Kind.STAFF, municipality=world.c, network=world.other_network)
    url = reverse("networks:coordination_deactivate", kwargs={"code": "T", "user_id": both.pk})
    assert world.client("coordinator").post(url).status_code == 403
    both.refresh_from_db()
    assert both.is_active


def test_indicator_set_and_editing(world, published_events):
    DataItemFactory(code="DWELLINGS")
    DataItemFactory(code="POPULATION")
    first = IndicatorFactory(code="A1", formula="DWELLINGS")
    second = IndicatorFactory(code="A2", formula="POPULATION")
    client = world.client("coordinator")
    url = reverse("indicators:coordination_indicators", kwargs={"code": "T"})
    client.post(url, {"indicators": [first.pk, second.pk]})
    assert list(Indicator.objects.filter(network_links__network=world.network).order_by("code")) == [first, second]
    published_events.clear()
    client.post(url, {"indicators": [second.pk]})
    assert list(Indicator.objects.filter(network_links__network=world.network)) == [second]
    changed = {"network_id": world.network.pk, "period_id": None, "reason": "indicator set changed"}
    assert published_events == [("network_changed", changed)]

    edit = reverse("indicators:coordination_indicator_edit", kwargs={"code": "T", "indicator_code": "A2"})
    data = {"name": "Jauns", "decimals": 1, "polarity": "higher", "formula": "1000 * DWELLINGS / NOPE", "weight": 1}
    response = client.post(edit, data)
    assert response.status_code == 200
    assert "NOPE" in response.content.decode()
    second.refresh_from_db()
    assert second.formula == "POPULATION"
    data["formula"] = "1000 * DWELLINGS / POPULATION"
    published_events.clear()
    assert client.post(edit, data).status_code == 302
    changed = {"network_id": world.network.pk, "period_id": None, "reason": "indicator A2 changed"}
    assert published_events == [("network_changed", changed)]
    second.refresh_from_db()
    assert second.polarity == "higher"
    assert sorted(second.items.values_list("code", flat=True)) == ["DWELLINGS", "POPULATION"]


def test_a_shared_indicator_is_not_edited_by_one_networks_coordinator(world):
    shared = IndicatorFactory(code="SHARED")
    NetworkIndicator.objects.create(network=world.network, indicator=shared)
    NetworkIndicator.objects.create(network=world.other_network, indicator=shared)
    url = reverse("indicators:coordination_indicator_edit", kwargs={"code": "T", "indicator_code": "SHARED"})
    assert world.client("coordinator").get(url).status_code == 403
    assert world.client("admin").get(url).status_code == 200


# --- the coordinator of T against network U and its objects ---------------------------------


def _u_objects(world) -> dict:
    indicator = IndicatorFactory(code="U_ONLY")
    NetworkIndicator.objects.create(network=world.other_network, indicator=indicator)
    round_ = RoundFactory(network=world.other_network, period=PeriodFactory(label="2022"), status=Round.Status.CLOSED)
    staff_c = UserFactory(username="staff-c")
    RoleFactory(user=staff_c, kind=Role.Kind.STAFF, municipality=world.c, network=world.other_network)
    membership = Membership.objects.get(network=world.other_network, municipality=world.c)
    return {"indicator": indicator, "round": round_, "staff_c": staff_c, "membership": membership}


# (url name, kwargs from U's objects, method)
COORDINATOR_PAGES = [
    ("networks:coordination_network", lambda o: {}, "get"),
    ("networks:coordination_network_edit", lambda o: {}, "post"),
    ("networks:coordination_member_add", lambda o: {}, "post"),
    ("networks:coordination_member_end", lambda o: {"pk": o["membership"].pk}, "post"),
    ("networks:coordination_invite", lambda o: {}, "post"),
    ("networks:coordination_people", lambda o: {}, "get"),
    ("networks:coordination_deactivate", lambda o: {"user_id": o["staff_c"].pk}, "post"),
    ("indicators:coordination_indicators", lambda o: {}, "post"),
    ("indicators:coordination_indicator_edit", lambda o: {"indicator_code": "U_ONLY"}, "post"),
    ("indicators:coordination_round_open", lambda o: {}, "post"),
    ("indicators:coordination_round", lambda o: {"period": "2022"}, "get"),
    ("indicators:coordination_round_action", lambda o: {"period": "2022", "action": "publish"}, "post"),
    ("indicators:coordination_round_confirm", lambda o: {"period": "2022", "action": "publish"}, "get"),
]


def _snapshot(world) -> tuple:
    network = Network.objects.get(pk=world.other_network.pk)
    return (
        network.name,
        network.policy,
        sorted(Membership.objects.filter(network=network).values_list("municipality_id", "left")),
        sorted(NetworkIndicator.objects.filter(network=network).values_list("indicator_id", flat=True)),
        sorted(Round.objects.filter(network=network).values_list("period__label", "status")),
        get_user_model().objects.get(username="staff-c").is_active,
        Invitation.objects.count(),
    )


@pytest.mark.parametrize(("name", "kwargs_for", "method"), COORDINATOR_PAGES)
def test_coordinator_of_t_cannot_touch_network_u(world, name, kwargs_for, method):
    objects = _u_objects(world)
    client = world.client("coordinator")
    before = _snapshot(world)
    payload = {
        "code": "U",
        "name": "Pārņemts",
        "policy": "members",
        "municipality": world.a.code,
        "joined": "2025-01-01",
        "left": "2025-01-01",
        "email": "x@example.org",
        "kind": "staff",
        "indicators": [objects["indicator"].pk],
        "period": "2030",
        "deadline": FUTURE,
        "formula": "1",
        "decimals": 1,
        "weight": 1,
    }
    # U's own pages: forbidden.
    url = reverse(name, kwargs={"code": "U", **kwargs_for(objects)})
    response = getattr(client, method)(url, payload if method == "post" else None)
    assert response.status_code == 403, url
    # U's objects reached through T's pages: not found.
    if kwargs_for(objects):
        url = reverse(name, kwargs={"code": "T", **kwargs_for(objects)})
        response = getattr(client, method)(url, payload if method == "post" else None)
        assert response.status_code == 404, url
    assert _snapshot(world) == before
    # And U's coordinator may.
    u_coordinator = UserFactory(username="coordinator-u")
    RoleFactory(user=u_coordinator, kind=Role.Kind.COORDINATOR, network=world.other_network)
    if method == "get":
        other = world.client("anonymous")
        other.force_login(u_coordinator)
        assert other.get(reverse(name, kwargs={"code": "U", **kwargs_for(objects)})).status_code == 200


def test_coordination_pages_query_counts(world, django_assert_max_num_queries):
    RoundFactory(network=world.network, period=PeriodFactory(label="2024"))
    client = world.client("coordinator")
    for name in ("networks:coordination_network", "networks:coordination_people", "indicators:coordination_round"):
        kwargs = {"code": "T", "period": "2024"} if name.endswith("_round") else {"code": "T"}
        with django_assert_max_num_queries(12):
            assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_the_public_sees_the_results_only_after_publication(world, django_capture_on_commit_callbacks):
    """Open → figures approved → close → publish through the coordinator's pages; the recompute
    runs through the engine (in process) and the public dashboard shows the figures only then."""
    from comparisons.tests.factories import indicator_create, submissions_create

    indicator_create(code="SOC", formula="SOCIAL", polarity="higher", networks=[world.network])
    client = world.client("coordinator")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("indicators:coordination_round_open", kwargs={"code": "T"}), {"period": "2025", "deadline": FUTURE}
        )
    with django_capture_on_commit_callbacks(execute=True):
        submissions_create(
            network=world.network, period="2025", values={world.a: {"SOCIAL": 777}, world.b: {"SOCIAL": 11}}
        )

    def action(name: str) -> str:
        return reverse("indicators:coordination_round_action", kwargs={"code": "T", "period": "2025", "action": name})

    with django_capture_on_commit_callbacks(execute=True):
        client.post(action("close"), {"confirmed": "1"})
    dashboard = reverse("comparisons:overview", kwargs={"network": "T"})
    anonymous = world.client("anonymous")
    assert "777" not in anonymous.get(dashboard, {"period": "2025"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(action("publish"), {"confirmed": "1"})
    assert Round.objects.get(network=world.network, period__label="2025").status == Round.Status.PUBLISHED
    assert "777" in anonymous.get(dashboard, {"period": "2025"}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(action("unpublish"), {"reason": "Kļūda"})
    assert "777" not in anonymous.get(dashboard, {"period": "2025"}).content.decode()


def test_a_mail_failure_does_not_undo_the_publication(world, django_capture_on_commit_callbacks):
    round_ = RoundFactory(network=world.network, period=PeriodFactory(label="2024"), status=Round.Status.CLOSED)
    url = reverse("indicators:coordination_round_action", kwargs={"code": "T", "period": "2024", "action": "publish"})
    with (
        mock.patch("learning.services.network_digest_send", side_effect=OSError("mail server down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = world.client("coordinator").post(url, {"confirmed": "1"})
    assert response.status_code == 302
    round_.refresh_from_db()
    assert round_.status == Round.Status.PUBLISHED


# --- closing and publishing are confirmed with the round's counts --------------------------------


def _confirm_url(action: str, period: str = "2025") -> str:
    return reverse("indicators:coordination_round_confirm", kwargs={"code": "T", "period": period, "action": action})


@pytest.fixture
def half_done_round(world):
    """T's 2025 round, open: A in draft, B submitted, C (a member too) approved, D not started."""
    from indicators.models import Submission
    from indicators.tests.factories import SubmissionFactory
    from networks.tests.factories import MembershipFactory, MunicipalityFactory

    round_ = RoundFactory(network=world.network, period=PeriodFactory(label="2025"))
    MembershipFactory(network=world.network, municipality=world.c)
    MembershipFactory(network=world.network, municipality=MunicipalityFactory(code="LVD000004", name="Dobeles novads"))
    SubmissionFactory(round=round_, municipality=world.a, status=Submission.Status.DRAFT)
    SubmissionFactory(round=round_, municipality=world.b, status=Submission.Status.SUBMITTED)
    SubmissionFactory(round=round_, municipality=world.c, status=Submission.Status.APPROVED)
    return round_


def test_closing_and_publishing_are_confirmed_with_counts(world, half_done_round):
    client = world.client("coordinator")
    close = reverse("indicators:coordination_round_action", kwargs={"code": "T", "period": "2025", "action": "close"})
    # The round page leads to the confirmation, not straight to the action.
    page = client.get(reverse("indicators:coordination_round", kwargs={"code": "T", "period": "2025"}))
    assert _confirm_url("close") in page.content.decode()
    # An unconfirmed post changes nothing and is sent to the confirmation.
    response = client.post(close)
    assert response.status_code == 302 and response["Location"] == _confirm_url("close")
    half_done_round.refresh_from_db()
    assert half_done_round.status == Round.Status.OPEN

    english = client.get(_confirm_url("close"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for sentence in (
        "Close anyway?",
        "1 of 4 members has not started.",
        "1 of 4 members is still in draft.",
        "1 submitted but not reviewed.",
        "1 of 4 members approved.",
    ):
        assert sentence in english, sentence
    latvian = client.get(_confirm_url("close")).content.decode()
    assert "Slēgt tik un tā?" in latvian
    assert "1 pašvaldībai no 4 iesniegums vēl ir melnrakstā." in latvian
    assert half_done_round.status == Round.Status.OPEN

    # Publishing an open round: not offered.
    response = client.get(_confirm_url("publish"), HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "Only a closed round can be published; close it first." in response.content.decode()
    assert client.get(_confirm_url("reopen")).status_code == 404

    assert client.post(close, {"confirmed": "1"}).status_code == 302
    half_done_round.refresh_from_db()
    assert half_done_round.status == Round.Status.CLOSED
    publish = reverse(
        "indicators:coordination_round_action", kwargs={"code": "T", "period": "2025", "action": "publish"}
    )
    assert client.post(publish)["Location"] == _confirm_url("publish")
    half_done_round.refresh_from_db()
    assert half_done_round.status == Round.Status.CLOSED
    english = client.get(_confirm_url("publish"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Publish anyway?" in english and "1 of 4 members is still in draft." in english
    client.post(publish, {"confirmed": "1"})
    half_done_round.refresh_from_db()
    assert half_done_round.status == Round.Status.PUBLISHED


@pytest.mark.parametrize(
    ("drafts", "approved", "expected"),
    [
        (1, 2, ["1 pašvaldībai no 3 iesniegums vēl ir melnrakstā.", "Apstiprināti 2 no 3 pašvaldību iesniegumiem."]),
        (2, 1, ["2 pašvaldībām no 3 iesniegums vēl ir melnrakstā.", "Apstiprināts 1 no 3 pašvaldību iesniegumiem."]),
        (
            11,
            0,
            ["11 pašvaldībām no 11 iesniegums vēl ir melnrakstā.", "Apstiprināti 0 no 11 pašvaldību iesniegumiem."],
        ),
        (
            21,
            0,
            ["21 pašvaldībai no 21 iesniegums vēl ir melnrakstā.", "Apstiprināti 0 no 21 pašvaldību iesniegumiem."],
        ),
        (0, 2, ["Apstiprināti 2 no 2 pašvaldību iesniegumiem."]),
    ],
)
def test_round_counts_use_latvian_plural_forms(world, drafts, approved, expected):
    from django.utils import translation

    from indicators.selectors import MatrixRow
    from indicators.views.coordination import round_state_sentences

    rows = [MatrixRow(municipality=world.a, submission=None, status="draft", overdue=False)] * drafts
    rows += [MatrixRow(municipality=world.a, submission=None, status="approved", overdue=False)] * approved
    with translation.override("lv"):
        assert round_state_sentences(rows) == expected
