"""The task panels of the landing page: the staff's forms and what waits for a coordinator.

The counts are checked against the pages they lead to, computed there independently: the form's
own check (`submission_check`) for the staff, the review list (`selectors.round_review`) for the
coordinator.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators import landing, selectors
from indicators.models import DataItem, Round, Submission
from indicators.services.submissions import submission_check, submission_return
from networks.models import Role
from networks.tests.factories import MembershipFactory, MunicipalityFactory, RoleFactory, UserFactory

from .factories import PeriodFactory, RoundFactory, SubmissionFactory, ValueFactory, data_round
from .test_workflow import english

MY_WORK = "networks:my_work"
TODAY = datetime.date(2026, 3, 10)


def item(code: str) -> DataItem:
    return DataItem.objects.get(code=code)


@pytest.fixture
def round_(world):
    """Round 2024 of T: five other members submitted DWELLINGS near 100; A has a draft with an
    unexplained outlier and one more figure, B has submitted nothing."""
    round_ = data_round(world)
    draft = SubmissionFactory(round=round_, municipality=world.a)
    ValueFactory(submission=draft, item=item("DWELLINGS"), number=Decimal(900))
    ValueFactory(submission=draft, item=item("QUEUE"), number=Decimal(12))
    return round_


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- deadlines in words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "english_words", "latvian_words"),
    [
        (1, "1 day left", "atlikusi 1 diena"),
        (3, "3 days left", "atlikušas 3 dienas"),
        (21, "21 days left", "atlikusi 21 diena"),
        (11, "11 days left", "atlikušas 11 dienas"),
        (0, "due today", "termiņš ir šodien"),
        (-1, "overdue by 1 day", "nokavēts par 1 dienu"),
        (-5, "overdue by 5 days", "nokavēts par 5 dienām"),
    ],
)
def test_the_deadline_in_words_in_both_languages(days, english_words, latvian_words):
    deadline = TODAY + datetime.timedelta(days=days)
    with translation.override("en"):
        assert landing.deadline_words(deadline, today=TODAY) == english_words
    with translation.override("lv"):
        assert landing.deadline_words(deadline, today=TODAY) == latvian_words


def test_no_deadline_words_when_the_work_is_done_or_there_is_no_deadline():
    assert landing.deadline_words(TODAY, today=TODAY, done=True) == ""
    assert landing.deadline_words(None, today=TODAY) == ""


# --- staff ---------------------------------------------------------------------------------------


def test_staff_see_their_form_with_counts_the_form_itself_gives(world, round_):
    (task,) = landing.staff_tasks(user=world.users["staff_a"])
    submission = Submission.objects.get(round=round_, municipality=world.a)
    check = submission_check(submission=submission)
    entered = [i for i in selectors.round_items(round=round_) if i.source == DataItem.Source.ENTERED]
    assert (task.municipality, task.status) == (world.a, "draft")
    assert (task.filled, task.total) == (2, len(entered)) == (2, 3)
    assert task.unexplained == len(check.unexplained) == 1
    assert task.url == reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": world.a.code})
    # Explained, the warning no longer waits.
    submission.values.filter(item__code="DWELLINGS").update(explanation="Two parishes merged.")
    (task,) = landing.staff_tasks(user=world.users["staff_a"])
    assert task.unexplained == 0


def test_a_form_not_started_yet_is_listed_with_nothing_filled(world, round_):
    (task,) = landing.staff_tasks(user=world.users["staff_b"])
    assert (task.municipality, task.status, task.filled, task.unexplained) == (world.b, "none", 0, 0)


def test_the_deadline_decides_overdue_only_while_the_form_is_open(world, round_):
    Round.objects.filter(pk=round_.pk).update(deadline=TODAY - datetime.timedelta(days=2))
    (task,) = landing.staff_tasks(user=world.users["staff_a"], today=TODAY)
    assert task.overdue and "2" in task.deadline_words
    Submission.objects.filter(round=round_, municipality=world.a).update(status=Submission.Status.SUBMITTED)
    (task,) = landing.staff_tasks(user=world.users["staff_a"], today=TODAY)
    assert not task.overdue and task.deadline_words == ""


def test_the_coordinators_latest_message_comes_with_a_returned_form(world, round_):
    submission = Submission.objects.get(round=round_, municipality=world.a)
    coordinator = world.users["coordinator"]
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED)
    submission.refresh_from_db()
    submission_return(submission=submission, user=coordinator, message="First: check QUEUE.")
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED)
    submission.refresh_from_db()
    submission_return(submission=submission, user=coordinator, message="Now DWELLINGS, please.")
    (task,) = landing.staff_tasks(user=world.users["staff_a"])
    assert (task.status, task.returned_message) == ("returned", "Now DWELLINGS, please.")


def test_a_message_is_not_shown_once_the_form_is_sent_again(world, round_):
    submission = Submission.objects.get(round=round_, municipality=world.a)
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED)
    submission.refresh_from_db()
    submission_return(submission=submission, user=world.users["coordinator"], message="Check QUEUE.")
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED)
    (task,) = landing.staff_tasks(user=world.users["staff_a"])
    assert task.returned_message == ""


def test_staff_see_only_the_municipalities_and_networks_their_roles_reach(world, round_):
    # A is also a member of U, with an open round there; staff of A scoped to U only.
    MembershipFactory(network=world.other_network, municipality=world.a)
    RoundFactory(network=world.other_network, period=PeriodFactory(label="2024"))
    scoped = UserFactory(username="staff-a-in-u")
    RoleFactory(user=scoped, kind=Role.Kind.STAFF, municipality=world.a, network=world.other_network)
    assert [(t.round.network.code, t.municipality.code) for t in landing.staff_tasks(user=scoped)] == [
        ("U", world.a.code)
    ]
    # Staff of A for every network: both; staff of B: only B's form in T.
    assert {t.round.network.code for t in landing.staff_tasks(user=world.users["staff_a"])} == {"T", "U"}
    assert [t.municipality for t in landing.staff_tasks(user=world.users["staff_b"])] == [world.b]


@pytest.mark.parametrize("persona", ["viewer_a", "coordinator", "outsider", "admin"])
def test_no_forms_panel_without_a_staff_role(world, round_, persona):
    html = world.client(persona).get(reverse(MY_WORK)).content.decode()
    assert 'data-panel="forms"' not in html


def test_closed_rounds_are_no_task(world, round_):
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.CLOSED)
    assert landing.staff_tasks(user=world.users["staff_a"]) == []
    html = english(world.client("staff_a")).get(reverse(MY_WORK)).content.decode()
    assert "No reporting round is open for your municipality now." in html


# --- coordinators --------------------------------------------------------------------------------


def test_the_coordinators_counts_are_the_review_lists(world, round_):
    Round.objects.filter(pk=round_.pk).update(deadline=datetime.date(2025, 3, 31))
    round_.refresh_from_db()
    # Another member's figure beyond the item's usual maximum, without explanation.
    DataItem.objects.filter(code="QUEUE").update(usual_max=Decimal(50))
    other = Submission.objects.filter(round=round_, status=Submission.Status.SUBMITTED).first()
    ValueFactory(submission=other, item=item("QUEUE"), number=Decimal(80))
    (network,) = landing.coordinator_tasks(user=world.users["coordinator"])
    (tasks,) = network.rounds
    review = selectors.round_review(round=round_)
    assert network.network == world.network
    assert tasks.to_review == review.count(Submission.Status.SUBMITTED) == 5
    assert tasks.overdue == review.overdue == 2  # A in draft, B not started
    assert tasks.warned == review.with_unexplained == 2  # A's 900 and the other's 80
    assert tasks.members == review.total == 7
    assert not tasks.ready_to_close and not tasks.ready_to_publish


def test_a_round_whose_members_are_all_approved_can_be_closed_and_a_closed_one_published(world):
    round_ = data_round(world, others=0)
    for municipality in (world.a, world.b):
        SubmissionFactory(round=round_, municipality=municipality, status=Submission.Status.APPROVED)
    (tasks,) = landing.coordinator_tasks(user=world.users["coordinator"])[0].rounds
    assert tasks.ready_to_close and not tasks.ready_to_publish and tasks.waits
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.CLOSED)
    (tasks,) = landing.coordinator_tasks(user=world.users["coordinator"])[0].rounds
    assert tasks.ready_to_publish and not tasks.ready_to_close
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.PUBLISHED)
    assert landing.coordinator_tasks(user=world.users["coordinator"])[0].rounds == []


def test_the_coordinator_panel_links_to_the_filters_that_show_the_same_rows(world, round_):
    Round.objects.filter(pk=round_.pk).update(deadline=datetime.date(2025, 3, 31))
    client = english(world.client("coordinator"))
    html = client.get(reverse(MY_WORK)).content.decode()
    matrix = reverse("indicators:round_matrix", kwargs={"round_pk": round_.pk})
    text = text_of(html)
    assert "5 submissions to review" in text
    assert "2 members overdue" in text
    assert "1 submission with unexplained warnings" in text
    for query, count in (("status=submitted", 5), ("overdue=1", 2), ("unexplained=1", 1)):
        assert f'href="{matrix}?{query}"' in html
        listed = client.get(f"{matrix}?{query}").content.decode()
        assert listed.count('href="/submissions/') + listed.count("not started") >= count
    round_page = reverse("indicators:coordination_round", kwargs={"code": "T", "period": "2024"})
    assert f'href="{round_page}"' in html


def test_a_coordinator_sees_only_the_networks_of_their_own_role(world, round_):
    other = UserFactory(username="coordinator-u")
    RoleFactory(user=other, kind=Role.Kind.COORDINATOR, network=world.other_network)
    (network,) = landing.coordinator_tasks(user=other)
    assert network.network == world.other_network and network.rounds == []
    # An administrator holds no coordinator role: no panel of every network's work.
    assert landing.coordinator_tasks(user=world.users["admin"]) == []
    html = world.client("admin").get(reverse(MY_WORK)).content.decode()
    assert 'data-panel="reviews"' not in html


# --- the landing page ----------------------------------------------------------------------------


def test_staff_land_on_their_tasks_first_in_latvian(world, round_):
    html = world.client("staff_a").get(reverse(MY_WORK), HTTP_ACCEPT_LANGUAGE="lv").content.decode()
    assert html.index('data-panel="forms"') < html.index('data-panel="standing"')
    text = text_of(html)
    assert "Aizpildāmās veidlapas" in text
    assert "Aizpildītas 2 no 3 vērtībām" in text
    assert "1 brīdinājums jāpaskaidro" in text
    assert "Bauskas novads" not in text


def test_staff_see_the_returned_message_on_the_landing_page(world, round_):
    submission = Submission.objects.get(round=round_, municipality=world.a)
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED)
    submission.refresh_from_db()
    submission_return(submission=submission, user=world.users["coordinator"], message="Pārbaudiet <rindu>.")
    html = english(world.client("staff_a")).get(reverse(MY_WORK)).content.decode()
    assert "Returned by the coordinator" in html
    assert "Pārbaudiet &lt;rindu&gt;." in html  # escaped, never markup
    assert "Continue the form" in html
    # Staff of B see nothing of A's return.
    assert "Pārbaudiet" not in world.client("staff_b").get(reverse(MY_WORK)).content.decode()


def _grow(world, round_, members: int, label: str) -> None:
    """More members with submitted figures, one more open round: the panels' query count must not
    move."""
    for n in range(members):
        municipality = MunicipalityFactory(code=f"LV{label}{n:05d}", name=f"Pagasts {label} {n}")
        MembershipFactory(network=world.network, municipality=municipality)
        submission = SubmissionFactory(round=round_, municipality=municipality, status=Submission.Status.SUBMITTED)
        ValueFactory(submission=submission, item=item("DWELLINGS"), number=Decimal(100 + n))
        ValueFactory(submission=submission, item=item("QUEUE"), number=Decimal(10 + n))
    RoundFactory(network=world.network, period=PeriodFactory(label=label))


def _count(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse(MY_WORK)).status_code == 200
    return len(queries)


# The landing page without the task panels (roles, member networks, session, user) and the
# comparisons' panel, and what each task panel adds: a constant.
STAFF_PANEL_QUERIES = 5
COORDINATOR_PANEL_QUERIES = 6


@pytest.mark.parametrize(("persona", "panel"), [("staff_a", "forms"), ("coordinator", "reviews")])
def test_the_panels_cost_a_fixed_number_of_queries(world, round_, persona, panel, monkeypatch):
    from networks import sections

    client = world.client(persona)
    _grow(world, round_, 1, "2025")
    small = _count(client)
    _grow(world, round_, 12, "2026")
    grown = _count(client)
    assert small == grown
    without = dict(sections._workspace_panels)
    without.pop(panel)
    monkeypatch.setattr(sections, "_workspace_panels", without)
    added = grown - _count(client)
    assert added == {"forms": STAFF_PANEL_QUERIES, "reviews": COORDINATOR_PANEL_QUERIES}[panel]


# The whole landing page, with stored results (the comparisons' standing) and an open round with a
# draft of A: the page's own reads and the comparisons' panel, plus the constants above.
LANDING_QUERIES = {
    "staff_a": 17,
    "staff_b": 17,
    "viewer_a": 12,
    "coordinator": 9,
    "outsider": 3,
    "admin": 3,
}


@pytest.mark.parametrize("persona", sorted(LANDING_QUERIES))
def test_the_landing_page_query_count_for_each_persona(world, persona, django_assert_max_num_queries):
    from comparisons.tests.dashboard_fixtures import dashboard_data

    dashboard_data(world)
    open_round = data_round(world, label="2026", others=0)
    draft = SubmissionFactory(round=open_round, municipality=world.a)
    ValueFactory(submission=draft, item=item("DWELLINGS"), number=Decimal(12))
    client = world.client(persona)
    with django_assert_max_num_queries(LANDING_QUERIES[persona]):
        html = client.get(reverse(MY_WORK)).content.decode()
    assert ('data-panel="forms"' in html) is persona.startswith("staff")
    assert ('data-panel="reviews"' in html) is (persona == "coordinator")
