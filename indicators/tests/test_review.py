"""The coordinator's review: completion matrix, review page, decisions, query threads."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from indicators.models import DataItem, Round, Submission, ValueQuery
from networks.models import Role
from networks.tests.factories import RoleFactory, UserFactory

from .factories import SubmissionFactory, ValueFactory, data_round
from .test_workflow import english


@pytest.fixture
def submitted(world):
    """A's submission, submitted, with an explained outlier, in a round with five other submissions."""
    round_ = data_round(world)
    submission = SubmissionFactory(round=round_, municipality=world.a, status=Submission.Status.SUBMITTED)
    ValueFactory(
        submission=submission,
        item=DataItem.objects.get(code="DWELLINGS"),
        number=Decimal(900),
        explanation="Counted after the merger of two parishes.",
    )
    return submission


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("coordinator", 200), ("staff_a", 403), ("staff_b", 403), ("viewer_a", 403), ("outsider", 403)],
)
def test_review_pages_are_for_the_networks_coordinator(world, submitted, persona, expected):
    client = world.client(persona)
    matrix = reverse("indicators:round_matrix", kwargs={"round_pk": submitted.round_id})
    review = reverse("indicators:submission_review", kwargs={"pk": submitted.pk})
    assert client.get(matrix).status_code == expected
    assert client.get(review).status_code == expected
    if expected != 200:
        assert client.post(review, {"decision": "approve"}).status_code == 403
        submitted.refresh_from_db()
        assert submitted.status == Submission.Status.SUBMITTED


def test_coordinator_of_another_network_cannot_review(world, submitted):
    other = UserFactory(username="other-coordinator")
    RoleFactory(user=other, kind=Role.Kind.COORDINATOR, network=world.other_network, municipality=None)
    client = world.client("anonymous")
    client.force_login(other)
    assert client.get(reverse("indicators:submission_review", kwargs={"pk": submitted.pk})).status_code == 403
    response = client.post(
        reverse("indicators:submission_review", kwargs={"pk": submitted.pk}), {"decision": "approve"}
    )
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == Submission.Status.SUBMITTED
    assert (
        world.client("coordinator").get(reverse("indicators:submission_review", kwargs={"pk": 99999})).status_code
        == 404
    )


def test_anonymous_is_sent_to_login(world, submitted):
    response = world.client("anonymous").get(
        reverse("indicators:round_matrix", kwargs={"round_pk": submitted.round_id})
    )
    assert response.status_code == 302 and "login" in response["Location"]


def test_matrix_shows_status_and_highlights_overdue(world, submitted):
    Round.objects.filter(pk=submitted.round_id).update(deadline=datetime.date(2025, 3, 31))
    html = (
        english(world.client("coordinator"))
        .get(reverse("indicators:round_matrix", kwargs={"round_pk": submitted.round_id}))
        .content.decode()
    )
    # A submitted, B has not started: B is overdue, A is not.
    row_b = html.split(world.b.name_en)[0].rsplit("<tr", 1)[1]
    row_a = html.split(world.a.name_en)[0].rsplit("<tr", 1)[1]
    assert "table-danger" in row_b
    assert "table-danger" not in row_a
    assert "overdue" in html and "not started" in html and "submitted" in html


def test_review_shows_warnings_and_explanations(world, submitted):
    html = (
        english(world.client("coordinator"))
        .get(reverse("indicators:submission_review", kwargs={"pk": submitted.pk}))
        .content.decode()
    )
    assert "1 warning" in html
    assert "far from the network&#x27;s values" in html
    assert "Counted after the merger of two parishes." in html


def test_query_thread_between_coordinator_and_staff(world, submitted):
    item = DataItem.objects.get(code="DWELLINGS")
    url = reverse("indicators:value_query_post", kwargs={"pk": submitted.pk, "item_pk": item.pk})
    coordinator = english(world.client("coordinator"))
    response = coordinator.post(url, {"text": "Is 900 before or after the merger?"}, follow=True)
    assert "Is 900 before or after the merger?" in response.content.decode()
    staff = english(world.client("staff_a"))
    form_url = reverse("indicators:submission_form", kwargs={"round_pk": submitted.round_id, "code": world.a.code})
    assert "Is 900 before or after the merger?" in staff.get(form_url).content.decode()
    response = staff.post(url, {"text": "After: both parishes."}, follow=True)
    assert response.redirect_chain[-1][0].startswith(form_url)
    html = coordinator.get(reverse("indicators:submission_review", kwargs={"pk": submitted.pk})).content.decode()
    assert html.index("Is 900 before or after the merger?") < html.index("After: both parishes.")
    assert list(ValueQuery.objects.values_list("author__username", flat=True)) == ["coordinator", "staff-a"]


@pytest.mark.parametrize("persona", ["staff_b", "viewer_a", "outsider"])
def test_others_cannot_join_the_thread(world, submitted, persona):
    item = DataItem.objects.get(code="DWELLINGS")
    url = reverse("indicators:value_query_post", kwargs={"pk": submitted.pk, "item_pk": item.pk})
    assert world.client(persona).post(url, {"text": "Hello"}).status_code == 403
    assert world.client("anonymous").post(url, {"text": "Hello"}).status_code == 302
    assert world.client(persona).get(url).status_code == 405
    assert not ValueQuery.objects.exists()


def test_review_and_matrix_query_counts(world, submitted, django_assert_max_num_queries):
    client = world.client("coordinator")
    matrix = reverse("indicators:round_matrix", kwargs={"round_pk": submitted.round_id})
    review = reverse("indicators:submission_review", kwargs={"pk": submitted.pk})
    with django_assert_max_num_queries(10):
        client.get(matrix)
    with django_assert_max_num_queries(18):
        client.get(review)


@pytest.mark.parametrize(
    ("persona", "view_draft", "view_approved", "edit", "review", "discuss"),
    [
        ("staff_a", True, True, True, False, True),
        ("staff_b", False, True, False, False, False),
        ("viewer_a", False, True, False, False, False),
        ("coordinator", True, True, False, True, True),
        ("outsider", False, False, False, False, False),
        ("anonymous", False, False, False, False, False),
        ("admin", True, True, False, True, True),
    ],
)
def test_submission_predicates(world, persona, view_draft, view_approved, edit, review, discuss):
    from django.contrib.auth.models import AnonymousUser

    from networks import permissions

    user = world.users.get(persona) or AnonymousUser()
    members = {world.a.pk, world.b.pk}
    assert permissions.can_view_submission(user, world.network, world.a, "draft", members) is view_draft
    assert permissions.can_view_submission(user, world.network, world.a, "submitted", members) is view_draft
    assert permissions.can_view_submission(user, world.network, world.a, "approved", members) is view_approved
    assert permissions.can_edit_submission(user, world.a, world.network, "draft", True) is edit
    assert permissions.can_edit_submission(user, world.a, world.network, "returned", True) is edit
    assert permissions.can_edit_submission(user, world.a, world.network, "submitted", True) is False
    assert permissions.can_edit_submission(user, world.a, world.network, "draft", False) is False
    assert permissions.can_review_submissions(user, world.network) is review
    assert permissions.can_review_submissions(user, world.other_network) is (persona == "admin")
    assert permissions.can_discuss_value(user, world.network, world.a) is discuss


def test_coordinator_finds_the_round_to_review(world, submitted):
    html = english(world.client("coordinator")).get(reverse("indicators:my_rounds")).content.decode()
    assert reverse("indicators:round_matrix", kwargs={"round_pk": submitted.round_id}) in html
    assert "6 submissions wait for review" in html
    html = world.client("staff_a").get(reverse("indicators:my_rounds")).content.decode()
    assert reverse("indicators:round_matrix", kwargs={"round_pk": submitted.round_id}) not in html


def test_ids_in_pages_are_plain_numbers_even_above_a_thousand(world):
    """Latvian number formatting put a space into `{{ pk }}` (1 234): the bulk-approve checkbox
    and the form's anchors broke as soon as ids passed 999, as they do on PostgreSQL."""
    import re

    from django.urls import reverse

    round_ = data_round(world)
    submission = SubmissionFactory(pk=123456, round=round_, municipality=world.a, status=Submission.Status.SUBMITTED)
    item = DataItem.objects.create(pk=98765, code="BIG_ID", name="Liels id", unit="gab.")
    item.networks.add(world.network)
    ValueFactory(submission=submission, item=item, number=Decimal(900), explanation="Merged parishes.")
    client = world.client("coordinator")
    matrix = client.get(reverse("indicators:round_matrix", kwargs={"round_pk": round_.pk})).content.decode()
    assert 'value="123456"' in matrix
    review = client.get(reverse("indicators:submission_review", kwargs={"pk": submission.pk})).content.decode()
    assert 'id="item-98765"' in review
    assert not re.search(r'(id|value|href)="[^"]*\d[\u00a0 ,]\d{3}', review + matrix)
    response = client.post(
        reverse("indicators:round_bulk_approve", kwargs={"round_pk": round_.pk}), {"submissions": ["123456"]}
    )
    assert response.status_code == 302
    assert Submission.objects.get(pk=123456).status == Submission.Status.APPROVED
