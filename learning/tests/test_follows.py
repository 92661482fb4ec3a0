"""Following a municipality or an indicator: who may, the toggle, the one e-mail on publication
in the follower's language with the sentences, and the one-click way out."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from comparisons.tests.dashboard_fixtures import dashboard_data
from conftest import PERSONAS
from indicators.services.rounds import round_publish
from learning import follows
from learning.models import Follow
from networks.models import Network

MEMBERS = {"staff_a", "staff_b", "viewer_a", "coordinator"}


@pytest.fixture
def data(world):
    return dashboard_data(world)


def publish(round_, capture) -> None:
    """Publish as the coordinator does: the e-mails go after the commit."""
    with capture(execute=True):
        round_publish(round=round_)


def follow_url(network="T", kind="municipality", code="LVA000001"):
    return reverse("learning:follow", kwargs={"network": network, "kind": kind, "code": code})


def test_a_viewer_follows_and_stops_following_a_municipality(world, data):
    client = world.client("viewer_a")
    url = follow_url(code=world.a.code)
    profile = reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})
    html = client.get(profile, {"period": "2024"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Follow: e-mail me new results" in html and f'action="{url}"' in html
    response = client.post(url, {"next": profile, "action": "follow"}, HTTP_ACCEPT_LANGUAGE="lv")
    assert response.status_code == 302 and response["Location"] == profile
    client.post(url, {"action": "follow"})  # twice: still one
    follow = Follow.objects.get(user=world.users["viewer_a"])
    assert follow.municipality == world.a and follow.language == "lv"
    listing = client.get(reverse("learning:follows"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert world.a.display_name in listing and "Stop following" in listing
    client.post(url, {"action": "stop"})
    assert not Follow.objects.exists()
    assert (
        "You follow nothing yet" in client.get(reverse("learning:follows"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def test_the_list_of_follows_is_the_persons_own(world, data):
    Follow.objects.create(user=world.users["staff_b"], network=world.network, municipality=world.b)
    html = world.client("viewer_a").get(reverse("learning:follows")).content.decode()
    assert world.b.display_name not in html
    assert world.client("anonymous").get(reverse("learning:follows")).status_code == 302


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_follow_in_a_members_only_network(world, data, persona):
    Network.objects.filter(pk=world.network.pk).update(policy=Network.Policy.MEMBERS)
    response = world.client(persona).post(follow_url(kind="indicator", code="SOC"))
    if persona == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif persona in MEMBERS:
        assert response.status_code == 302
        assert Follow.objects.filter(indicator=data.soc).count() == 1
    else:
        assert response.status_code == 403
        assert not Follow.objects.exists()


def test_following_needs_a_post_a_known_subject_and_a_safe_return(world, data):
    client = world.client("viewer_a")
    assert client.get(follow_url(code=world.a.code)).status_code == 405
    assert client.post(follow_url(kind="plan", code="x")).status_code == 404
    assert client.post(follow_url(kind="indicator", code="NOPE")).status_code == 404
    assert client.post(follow_url(network="NOPE", code=world.a.code)).status_code == 404
    response = client.post(follow_url(code=world.a.code), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("learning:follows")


def test_publication_sends_one_mail_per_person_with_the_sentences_in_their_language(
    world, data, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    viewer = world.users["viewer_a"]
    world.client("viewer_a").post(follow_url(code=world.a.code), HTTP_ACCEPT_LANGUAGE="en")
    world.client("viewer_a").post(follow_url(kind="indicator", code="SOC"), HTTP_ACCEPT_LANGUAGE="en")
    mail.outbox.clear()
    publish(data.rounds["2025"], capture)
    to_viewer = [m for m in mail.outbox if m.to == [viewer.email]]
    assert len(to_viewer) == 1
    body = to_viewer[0].body
    assert "What you follow:" in body
    # 2025: A's SOC is 777 against a median near 21: said as unusual, with the figures.
    assert "unusually far from the peer median" in body
    assert "/comparisons/dashboards/T/municipalities/" in body and body.count("http") >= 3
    token_link = next(line for line in body.splitlines() if "/follows/stop/" in line)
    # Everyone else of the network still gets the news, once.
    others = [m for m in mail.outbox if m.to != [viewer.email]]
    assert len({tuple(m.to) for m in others}) == len(others)
    assert all("What you follow:" not in m.body for m in others)
    # One click: every follow stops.
    path = token_link.split(" ")[-1].split("127.0.0.1:8000", 1)[-1]
    response = world.client("anonymous").get(path)
    assert response.status_code == 200
    assert not Follow.objects.filter(user=viewer).exists()


def test_the_mail_is_in_latvian_for_whoever_followed_in_latvian(world, data, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    world.client("viewer_a").post(follow_url(code=world.a.code), HTTP_ACCEPT_LANGUAGE="lv")
    mail.outbox.clear()
    publish(data.rounds["2025"], capture)
    body = next(m.body for m in mail.outbox if m.to == [world.users["viewer_a"].email])
    assert "Tas, kam sekojat:" in body
    assert "salīdzināmo pašvaldību mediān" in body


def test_a_follower_who_may_not_see_the_round_gets_nothing(world, data, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    outsider = world.users["outsider"]
    Follow.objects.create(user=outsider, network=world.network, municipality=world.a, language="en")
    Network.objects.filter(pk=world.network.pk).update(policy=Network.Policy.MEMBERS)
    world.network.refresh_from_db()
    mail.outbox.clear()
    publish(data.rounds["2025"], capture)
    assert not [m for m in mail.outbox if m.to == [outsider.email]]


def test_a_bad_unsubscribe_token_is_refused_clearly(world, data):
    Follow.objects.create(user=world.users["viewer_a"], network=world.network, municipality=world.a)
    response = world.client("anonymous").get(reverse("learning:unsubscribe", kwargs={"token": "forged:token"}))
    assert response.status_code == 400
    assert Follow.objects.count() == 1
    token = follows.unsubscribe_token(world.users["staff_b"])
    world.client("anonymous").get(reverse("learning:unsubscribe", kwargs={"token": token}))
    assert Follow.objects.count() == 1  # another person's token stops only their own
