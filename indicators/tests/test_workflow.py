"""The submission workflow, told through the web pages, asserting at every step what the user sees."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from indicators.models import DataItem, Submission, SubmissionEvent, Value
from indicators.services.submissions import (
    IMPORT_MOVES,
    WorkflowError,
    submission_approve,
    submission_return,
    submission_submit,
    submissions_bulk_approve,
    submissions_bulk_transition,
)

from .factories import SubmissionFactory, ValueFactory, data_round


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def form_data(version: int, action: str = "save", **by_code) -> dict:
    """Form fields by item code: a number (str), ("missing", reason) or (number, explanation)."""
    data = {"version": version, "action": action}
    for code, given in by_code.items():
        pk = DataItem.objects.get(code=code).pk
        if isinstance(given, tuple) and given[0] == "missing":
            data[f"missing_{pk}"] = "on"
            data[f"reason_{pk}"] = given[1]
        elif isinstance(given, tuple):
            data[f"value_{pk}"], data[f"explanation_{pk}"] = given
        else:
            data[f"value_{pk}"] = given
    return data


@pytest.fixture
def stale(monkeypatch):
    """The payloads of the values-changed events published (not delivered: these tests do not
    recompute)."""
    from networks import events

    calls = []

    def record(event: str, **payload) -> None:
        if event == events.VALUES_CHANGED:
            calls.append(payload)

    monkeypatch.setattr(events, "publish", record)
    return calls


def test_staff_submits_coordinator_returns_staff_fixes_coordinator_approves(
    world, stale, django_capture_on_commit_callbacks
):
    round_ = data_round(world)
    round_.is_demo = True
    round_.save()
    staff = english(world.client("staff_a"))
    coordinator = english(world.client("coordinator"))
    form_url = reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": world.a.code})

    # The staff member finds the round among their submissions.
    html = staff.get(reverse("indicators:my_rounds")).content.decode()
    assert form_url in html
    assert "demo data" in html

    # The form: grouped by theme, with units, instructions; official figures are not editable.
    response = staff.get(form_url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Housing" in html and "Context" in html
    assert 'Social dwellings<span class="visually-hidden"> (dwellings)</span></label>' in html
    assert "Number at the end of the year." in html
    assert "Population" in html and "official statistics" in html
    population = DataItem.objects.get(code="POPULATION")
    assert f'name="value_{population.pk}"' not in html
    assert "demo data" in html
    submission = Submission.objects.get(round=round_, municipality=world.a)
    assert submission.status == Submission.Status.DRAFT

    # Save a draft with a value far from the network's distribution (others: 98 to 102).
    response = staff.post(form_url, form_data(submission.version, DWELLINGS="5 000", QUEUE="40"), follow=True)
    html = response.content.decode()
    assert "Saved as a draft." in html
    assert "far from the network&#x27;s values" in html
    assert Value.objects.get(submission=submission, item__code="DWELLINGS").number == Decimal(5000)
    assert "staff-a" in html  # the history names who changed what

    # Submit: AREA is empty (a hard error) and the outlier is unexplained — refused.
    submission.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(form_url, form_data(submission.version, "submit", DWELLINGS="5000", QUEUE="40"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "The submission cannot be sent yet" in html
    assert "enter the value or declare it missing" in html
    assert "Explain this value before submitting." in html
    problems = html.split("These values stop the submission:")[1].split("</ul>")[0]
    assert "Social dwellings" in problems and "Area" in problems and "Waiting list" not in problems
    submission.refresh_from_db()
    assert submission.status == Submission.Status.DRAFT

    # AREA declared missing with a reason; the outlier still unexplained — still refused.
    response = staff.post(
        form_url,
        form_data(submission.version, "submit", DWELLINGS="5000", QUEUE="40", AREA=("missing", "Not measured yet")),
    )
    assert "Explain this value before submitting." in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.DRAFT
    assert not mail.outbox

    # Explained: it goes through, and the coordinator gets an e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            form_url,
            form_data(
                submission.version,
                "submit",
                DWELLINGS=("5000", "A new social housing block opened."),
                QUEUE="40",
                AREA=("missing", "Not measured yet"),
            ),
            follow=True,
        )
    html = response.content.decode()
    assert "Submitted. The coordinator will review your figures." in html
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    assert [m.to for m in mail.outbox] == [["coordinator@example.org"]]
    assert world.a.name in mail.outbox[0].subject and "2024" in mail.outbox[0].subject
    # A submitted submission is no longer editable: no fields, and a post is refused.
    assert 'name="action"' not in html
    assert staff.post(form_url, form_data(submission.version, DWELLINGS="1")).status_code == 403

    # The coordinator sees the round's matrix and the warning with its explanation.
    html = coordinator.get(reverse("indicators:round_matrix", kwargs={"round_pk": round_.pk})).content.decode()
    assert world.a.name_en in html and world.b.name_en in html
    review_url = reverse("indicators:submission_review", kwargs={"pk": submission.pk})
    html = coordinator.get(review_url).content.decode()
    assert "far from the network&#x27;s values" in html
    assert "A new social housing block opened." in html
    assert "Not measured yet" in html

    # Returning needs a message.
    response = coordinator.post(review_url, {"decision": "return", "message": ""})
    assert "Say what needs to be corrected." in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(
            review_url, {"decision": "return", "message": "5000 counts flats, not dwellings."}, follow=True
        )
    assert "Returned to the municipality with your message." in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.RETURNED
    assert [m.to for m in mail.outbox] == [["staff-a@example.org"]]
    assert "5000 counts flats, not dwellings." in mail.outbox[0].body

    # The staff member sees why, fixes and resubmits.
    html = staff.get(form_url).content.decode()
    assert "5000 counts flats, not dwellings." in html
    assert 'value="5000"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            form_url,
            form_data(
                submission.version,
                "submit",
                DWELLINGS=("101", ""),
                QUEUE="40",
                AREA=("missing", "Not measured yet"),
            ),
            follow=True,
        )
    assert "Submitted." in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED

    # The coordinator approves; the results are told to recompute.
    html = coordinator.get(review_url).content.decode()
    assert "far from the network" not in html
    response = coordinator.post(review_url, {"decision": "approve", "message": ""}, follow=True)
    assert "Approved." in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.APPROVED
    assert stale and stale[-1]["round_id"] == round_.pk
    assert [e.to_status for e in submission.events.all()] == ["submitted", "returned", "submitted", "approved"]
    assert submission.events.get(to_status="returned").user == world.users["coordinator"]

    # Approved figures are visible to the network's members, read-only, with their history.
    html = english(world.client("viewer_a")).get(form_url).content.decode()
    assert "101" in html and 'name="action"' not in html
    assert "History of every value" in html
    assert english(world.client("outsider")).get(form_url).status_code == 403


def test_transitions_are_refused_from_the_wrong_status(world, stale):
    round_ = data_round(world, others=0)
    submission = SubmissionFactory(round=round_, municipality=world.a)
    coordinator = world.users["coordinator"]
    with pytest.raises(WorkflowError):
        submission_approve(submission=submission, user=coordinator)
    with pytest.raises(WorkflowError):
        submission_return(submission=submission, user=coordinator, message="no")
    for code in ("DWELLINGS", "QUEUE", "AREA"):
        ValueFactory(submission=submission, item=DataItem.objects.get(code=code), number=Decimal(5))
    submission_submit(submission=submission, user=world.users["staff_a"])
    with pytest.raises(WorkflowError):
        submission_submit(submission=submission, user=world.users["staff_a"])
    with pytest.raises(WorkflowError):
        submission_return(submission=submission, user=coordinator, message="   ")
    assert SubmissionEvent.objects.filter(submission=submission).count() == 1


def test_bulk_approve_approves_only_submitted(world, stale):
    round_ = data_round(world)
    draft = SubmissionFactory(round=round_, municipality=world.a)
    submitted = list(Submission.objects.filter(round=round_, status=Submission.Status.SUBMITTED))
    client = english(world.client("coordinator"))
    url = reverse("indicators:round_bulk_approve", kwargs={"round_pk": round_.pk})
    # Not confirmed: sent to the confirmation page with the choice, nothing approved.
    response = client.post(url, {"submissions": [s.pk for s in submitted[:3]]})
    assert response.status_code == 302 and "/approve/confirm/" in response["Location"]
    assert not Submission.objects.filter(round=round_, status=Submission.Status.APPROVED).exists()
    response = client.post(url, {"submissions": [s.pk for s in submitted[:3]], "confirmed": "1"}, follow=True)
    assert "3 submissions approved." in response.content.decode()
    assert Submission.objects.filter(round=round_, status=Submission.Status.APPROVED).count() == 3
    draft.refresh_from_db()
    assert draft.status == Submission.Status.DRAFT
    assert stale == [{"round_id": round_.pk, "item_ids": None}]
    # A draft cannot be slipped into the bulk approval.
    assert submissions_bulk_approve(round=round_, user=world.users["coordinator"], submission_ids=[draft.pk]) == 0
    # Staff cannot bulk approve.
    assert world.client("staff_a").post(url, {"submissions": [submitted[4].pk], "confirmed": "1"}).status_code == 403
    submitted[4].refresh_from_db()
    assert submitted[4].status == Submission.Status.SUBMITTED


def test_returning_an_approved_submission_makes_results_stale(world, stale):
    round_ = data_round(world, others=1)
    submission = Submission.objects.get(round=round_, status=Submission.Status.SUBMITTED)
    submission_approve(submission=submission, user=world.users["coordinator"])
    submission_return(submission=submission, user=world.users["coordinator"], message="Wrong year")
    assert len(stale) == 2
    assert stale[1]["round_id"] == round_.pk and stale[1]["item_ids"]


def test_a_bulk_transition_follows_the_rules_of_the_single_ones(world, stale):
    round_ = data_round(world, others=0)
    draft = SubmissionFactory(round=round_, municipality=world.a)
    submitted = SubmissionFactory(round=round_, municipality=world.b, status=Submission.Status.SUBMITTED)
    coordinator = world.users["coordinator"]
    before = {s.pk: s.updated_at for s in (draft, submitted)}
    # The staff's workflow has no draft → approved: nothing moves, not even the allowed one.
    with pytest.raises(WorkflowError):
        submissions_bulk_transition(submissions=[submitted, draft], to_status=Submission.Status.APPROVED, user=None)
    assert set(Submission.objects.filter(pk__in=before).values_list("status", flat=True)) == {"draft", "submitted"}
    assert not SubmissionEvent.objects.exists()

    moved = submissions_bulk_transition(
        submissions=[submitted, draft],
        to_status=Submission.Status.APPROVED,
        user=coordinator,
        message=" ok ",
        moves=IMPORT_MOVES,
    )
    assert {s.pk for s in moved} == {draft.pk, submitted.pk}
    assert set(Submission.objects.filter(pk__in=before).values_list("status", flat=True)) == {"approved"}
    assert set(SubmissionEvent.objects.values_list("submission_id", "from_status", "to_status", "user", "message")) == {
        (draft.pk, "draft", "approved", coordinator.pk, "ok"),
        (submitted.pk, "submitted", "approved", coordinator.pk, "ok"),
    }
    for submission in Submission.objects.filter(pk__in=before):
        assert submission.updated_at > before[submission.pk]
    # Already there: no move, no event.
    assert submissions_bulk_transition(submissions=[draft], to_status=Submission.Status.APPROVED, user=None) == []
    assert SubmissionEvent.objects.count() == 2


def test_a_bulk_transition_refuses_a_submission_changed_meanwhile(world, stale):
    round_ = data_round(world, others=0)
    submission = SubmissionFactory(round=round_, municipality=world.a, status=Submission.Status.SUBMITTED)
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.RETURNED)  # another request
    with pytest.raises(WorkflowError):
        submissions_bulk_transition(submissions=[submission], to_status=Submission.Status.APPROVED, user=None)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.RETURNED
    assert not SubmissionEvent.objects.exists()
