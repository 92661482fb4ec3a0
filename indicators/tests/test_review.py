"""The coordinator's review: completion matrix, review page, decisions, query threads."""

from __future__ import annotations

import datetime
import re
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
    with django_assert_max_num_queries(11):
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
        reverse("indicators:round_bulk_approve", kwargs={"round_pk": round_.pk}),
        {"submissions": ["123456"], "confirmed": "1"},
    )
    assert response.status_code == 302
    assert Submission.objects.get(pk=123456).status == Submission.Status.APPROVED


# --- the review list: counts, filters, warnings; bulk approval with its confirmation -----------


@pytest.fixture
def unexplained(world, submitted):
    """Besides A's explained outlier, B's submitted outlier without an explanation."""
    submission = SubmissionFactory(round=submitted.round, municipality=world.b, status=Submission.Status.SUBMITTED)
    ValueFactory(submission=submission, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal(950))
    return submission


def _matrix(world, round_id: int, query: dict | None = None) -> str:
    url = reverse("indicators:round_matrix", kwargs={"round_pk": round_id})
    response = english(world.client("coordinator")).get(url, query or {})
    assert response.status_code == 200
    return response.content.decode()


def _shown(html: str) -> set[str]:
    return set(re.findall(r'<tr[^>]*data-municipality="([^"]+)"', html))


def test_review_list_counts_by_status_and_links_to_the_round_page(world, unexplained):
    html = _matrix(world, unexplained.round_id)
    counts = html.split('id="status-counts"')[1].split("</ul>")[0]
    # 5 others, A and B submitted; nothing else: 7 members, all submitted.
    assert "7 members" in html
    shown = dict(re.findall(r'data-status="(\w+)">.*?<strong>(\d+)</strong>', counts, re.S))
    assert shown == {"none": "0", "draft": "0", "returned": "0", "submitted": "7", "approved": "0"}
    assert re.search(r"unexplained warnings</span> <strong>1</strong>", counts)
    round_page = reverse("indicators:coordination_round", kwargs={"code": "T", "period": "2024"})
    assert f'href="{round_page}"' in html
    page = english(world.client("coordinator")).get(round_page).content.decode()
    assert f'href="{reverse("indicators:round_matrix", kwargs={"round_pk": unexplained.round_id})}"' in page


def test_review_list_shows_warnings_and_explanations(world, unexplained):
    html = _matrix(world, unexplained.round_id)
    row_a = html.split(f'data-municipality="{world.a.code}"')[1].split("</tr>")[0]
    row_b = html.split(f'data-municipality="{world.b.code}"')[1].split("</tr>")[0]
    assert "1 warning" in row_a and "Counted after the merger of two parishes." in row_a
    assert "unexplained" not in row_a
    assert "1 warning" in row_b and "1 unexplained" in row_b and "no explanation" in row_b
    assert "far from the network&#x27;s values" in row_b


def test_review_list_filters_work_without_javascript(world, unexplained):
    round_id = unexplained.round_id
    SubmissionFactory(round=unexplained.round, municipality=world.c)  # a draft of a non-member
    everyone = _shown(_matrix(world, round_id))
    assert {world.a.code, world.b.code, world.c.code} <= everyone
    assert _shown(_matrix(world, round_id, {"status": "draft"})) == {world.c.code}
    assert _shown(_matrix(world, round_id, {"unexplained": "1"})) == {world.b.code}
    assert _shown(_matrix(world, round_id, {"status": "submitted", "unexplained": "1"})) == {world.b.code}
    assert _shown(_matrix(world, round_id, {"overdue": "1"})) == set()
    Round.objects.filter(pk=round_id).update(deadline=datetime.date(2025, 3, 31))
    assert _shown(_matrix(world, round_id, {"overdue": "1"})) == {world.c.code}


@pytest.mark.parametrize(
    "query",
    [{"status": "bogus"}, {"status": "<script>"}, {"overdue": "maybe", "status": "x" * 5000}, {"unexplained": ""}],
)
def test_review_list_ignores_bad_filter_values_and_says_so(world, unexplained, query):
    html = _matrix(world, unexplained.round_id, query)
    assert {world.a.code, world.b.code} <= _shown(html) or query.get("overdue")
    if query.get("status"):
        assert "A filter value was not understood and is ignored: Status." in html
        assert "<script>" not in html.split("<main")[-1].split("</main>")[0].replace('<script src="', "")


def test_bulk_approval_lists_unexplained_warnings_and_approves_only_when_confirmed(world, unexplained, submitted):
    from indicators.models import SubmissionEvent

    round_id = submitted.round_id
    confirm = reverse("indicators:round_bulk_approve_confirm", kwargs={"round_pk": round_id})
    client = english(world.client("coordinator"))
    html = client.get(confirm, {"submissions": [submitted.pk, unexplained.pk]}).content.decode()
    assert "Approve 2 submissions?" in html
    alert = html.split('id="unexplained-warnings"')[1].split("</div>")[0]
    assert "1 of the chosen submissions has warnings without an explanation:" in alert
    assert world.b.name_en in alert and world.a.name_en not in alert
    assert "far from the network&#x27;s values" in alert
    assert not Submission.objects.filter(status=Submission.Status.APPROVED).exists()
    # The confirmation posts exactly the listed submissions.
    response = client.post(
        reverse("indicators:round_bulk_approve", kwargs={"round_pk": round_id}),
        {"submissions": [submitted.pk, unexplained.pk], "confirmed": "1"},
        follow=True,
    )
    assert "2 submissions approved." in response.content.decode()
    assert set(Submission.objects.filter(status=Submission.Status.APPROVED).values_list("pk", flat=True)) == {
        submitted.pk,
        unexplained.pk,
    }
    assert SubmissionEvent.objects.filter(submission=unexplained, to_status="approved").count() == 1


def test_select_all_without_javascript_takes_every_submitted_submission_shown(world, unexplained):
    confirm = reverse("indicators:round_bulk_approve_confirm", kwargs={"round_pk": unexplained.round_id})
    client = english(world.client("coordinator"))
    html = client.get(confirm, {"all": "1"}).content.decode()
    assert "Approve 7 submissions?" in html and html.count('name="submissions"') == 7
    # With the list filtered to unexplained warnings, "all" means all of those.
    html = client.get(confirm, {"all": "1", "unexplained": "1"}).content.decode()
    assert "Approve 1 submission?" in html
    assert f'name="submissions" value="{unexplained.pk}"' in html
    # Nothing chosen, or nonsense: a page that says so, nothing approved.
    for query in ({}, {"submissions": ["abc"]}, {"submissions": ["999999"]}):
        response = client.get(confirm, query)
        assert response.status_code == 200
        assert "Choose the submitted submissions to approve." in response.content.decode()
    assert not Submission.objects.filter(status=Submission.Status.APPROVED).exists()
    matrix = _matrix(world, unexplained.round_id)
    assert 'data-select-all="submissions"' in matrix and "js/select-all.js" in matrix


@pytest.mark.parametrize("persona", ["staff_a", "viewer_a", "outsider", "other_coordinator"])
def test_bulk_confirmation_is_for_the_networks_coordinator(world, unexplained, persona):
    if persona == "other_coordinator":
        user = UserFactory(username="other-coordinator")
        RoleFactory(user=user, kind=Role.Kind.COORDINATOR, network=world.other_network, municipality=None)
        client = world.client("anonymous")
        client.force_login(user)
    else:
        client = world.client(persona)
    confirm = reverse("indicators:round_bulk_approve_confirm", kwargs={"round_pk": unexplained.round_id})
    assert client.get(confirm, {"all": "1"}).status_code == 403
    approve = reverse("indicators:round_bulk_approve", kwargs={"round_pk": unexplained.round_id})
    assert client.post(approve, {"submissions": [unexplained.pk], "confirmed": "1"}).status_code == 403
    assert not Submission.objects.filter(status=Submission.Status.APPROVED).exists()


def test_review_list_queries_do_not_grow_with_members(world, django_assert_max_num_queries):
    from networks.tests.factories import MembershipFactory, MunicipalityFactory

    round_ = data_round(world, others=5)
    client = world.client("coordinator")
    url = reverse("indicators:round_matrix", kwargs={"round_pk": round_.pk})
    with django_assert_max_num_queries(11):
        assert client.get(url).status_code == 200
    item = DataItem.objects.get(code="DWELLINGS")
    for n in range(30):
        municipality = MunicipalityFactory(code=f"LVY{n:06d}", name=f"Pagasts {n}")
        MembershipFactory(network=world.network, municipality=municipality)
        submission = SubmissionFactory(round=round_, municipality=municipality, status=Submission.Status.SUBMITTED)
        ValueFactory(submission=submission, item=item, number=Decimal(100 + n))
    with django_assert_max_num_queries(11):
        html = client.get(url).content.decode()
    assert html.count("data-municipality=") == 2 + 5 + 30
    assert html.count("data-grid-municipality=") == 2 + 5 + 30
    confirm = reverse("indicators:round_bulk_approve_confirm", kwargs={"round_pk": round_.pk})
    with django_assert_max_num_queries(11):
        assert client.get(confirm, {"all": "1"}).status_code == 200


def test_completeness_by_item_and_member(world, unexplained, submitted):
    ValueFactory(
        submission=submitted, item=DataItem.objects.get(code="QUEUE"), number=None, is_missing=True, missing_reason="x"
    )
    html = _matrix(world, unexplained.round_id)

    def counts(code: str) -> list[str]:
        line = html.split(f'<tr data-item="{code}">')[1].split("</tr>")[0]
        return re.findall(r'<td class="text-end[^"]*">(\d+)</td>', line)

    # filled, declared missing, with a warning, not entered; 7 members
    assert counts("DWELLINGS") == ["7", "0", "2", "0"]
    assert counts("QUEUE") == ["0", "1", "0", "6"]
    items = re.findall(r"<abbr title=\"[^\"]*\">(\w+)</abbr>", html.split('id="completeness-grid"')[1])
    row_a = html.split(f'data-grid-municipality="{world.a.code}"')[1].split("</tr>")[0]
    cells = dict(zip(items, re.findall(r'data-cell="(\w+)"', row_a), strict=True))
    assert cells["DWELLINGS"] == "warning" and cells["QUEUE"] == "missing" and cells["AREA"] == "empty"
    assert "POPULATION" not in cells  # official: not the municipalities' to enter
    row_other = html.split('data-grid-municipality="LVX000000"')[1].split("</tr>")[0]
    assert dict(zip(items, re.findall(r'data-cell="(\w+)"', row_other), strict=True))["DWELLINGS"] == "filled"
