"""The staff form: who may see and change it, what it shows, hard errors, concurrent edits."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import PERSONAS
from indicators.models import DataItem, Round, Submission, Value

from .factories import PeriodFactory, RoundFactory, SubmissionFactory, ValueFactory, data_round
from .test_workflow import english, form_data


def _url(round_, municipality) -> str:
    return reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": municipality.code})


@pytest.fixture
def draft(world):
    """A's draft with DWELLINGS = 12 in a round of the world's network."""
    round_ = data_round(world, others=0)
    submission = SubmissionFactory(round=round_, municipality=world.a)
    ValueFactory(submission=submission, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal(12))
    return submission


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("staff_a", 200),
        ("coordinator", 200),
        ("staff_b", 403),
        ("viewer_a", 403),  # drafts are for the own staff and the coordinators only
        ("outsider", 403),
        ("anonymous", 302),
    ],
)
def test_who_sees_a_draft(world, draft, persona, expected):
    response = world.client(persona).get(_url(draft.round, world.a))
    assert response.status_code == expected
    if expected == 200:
        assert "12" in response.content.decode()


def test_personas_list_is_complete():
    assert set(PERSONAS) == {"staff_a", "staff_b", "viewer_a", "coordinator", "outsider", "anonymous"}


@pytest.mark.parametrize("persona", ["staff_b", "viewer_a", "coordinator", "outsider", "anonymous"])
def test_nobody_but_own_staff_changes_a_draft_by_post(world, draft, persona):
    data = form_data(draft.version, DWELLINGS="999")
    response = world.client(persona).post(_url(draft.round, world.a), data)
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert "login" in response["Location"]
    assert Value.objects.get(submission=draft, item__code="DWELLINGS").number == Decimal(12)
    draft.refresh_from_db()
    assert draft.version == 0


def test_other_municipalitys_form_is_not_created_for_staff_of_b(world):
    round_ = data_round(world, others=0)
    assert world.client("staff_b").get(_url(round_, world.a)).status_code == 404
    assert world.client("staff_b").post(_url(round_, world.a), {"version": 0}).status_code == 404
    assert not Submission.objects.filter(municipality=world.a).exists()
    # Own staff get their form (created on first visit); a non-member municipality has none.
    assert world.client("staff_b").get(_url(round_, world.b)).status_code == 200
    assert world.client("coordinator").get(_url(round_, world.c)).status_code == 404


def test_round_of_another_network_is_not_reachable(world):
    round_ = RoundFactory(network=world.other_network, period=PeriodFactory(label="2024"))
    assert world.client("staff_a").get(_url(round_, world.a)).status_code == 404
    assert world.client("coordinator").get(_url(round_, world.c)).status_code == 404


def test_form_shows_units_instructions_and_last_period(world):
    previous_round = data_round(world, label="2023", others=0)
    last = SubmissionFactory(round=previous_round, municipality=world.a, status=Submission.Status.APPROVED)
    ValueFactory(submission=last, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal(80))
    unapproved = SubmissionFactory(round=previous_round, municipality=world.b, status=Submission.Status.SUBMITTED)
    ValueFactory(submission=unapproved, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal(777))
    round_ = RoundFactory(network=world.network, period=PeriodFactory(label="2024"))
    html = english(world.client("staff_a")).get(_url(round_, world.a)).content.decode()
    assert 'Social dwellings<span class="visually-hidden"> (dwellings)</span></label>' in html
    assert "Number at the end of the year." in html
    assert "Last period (2023):</span> 80</div>" in html
    # B's last period was never approved: nothing is shown as its last value.
    html_b = english(world.client("staff_b")).get(_url(round_, world.b)).content.decode()
    assert "777" not in html_b
    assert 'name="viewport"' in html  # the layout adapts to phones


def test_change_against_last_period_needs_explanation(world):
    previous_round = data_round(world, label="2023", others=0)
    last = SubmissionFactory(round=previous_round, municipality=world.a, status=Submission.Status.APPROVED)
    ValueFactory(submission=last, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal(80))
    round_ = RoundFactory(network=world.network, period=PeriodFactory(label="2024"))
    client = english(world.client("staff_a"))
    url = _url(round_, world.a)
    client.get(url)
    response = client.post(url, form_data(0, "submit", DWELLINGS="200", QUEUE="1", AREA="3"))
    html = response.content.decode()
    assert "150 % change against the previous period" in html
    assert Submission.objects.get(round=round_, municipality=world.a).status == Submission.Status.DRAFT


def test_latvian_numbers_and_hard_errors(world, draft):
    client = world.client("staff_a")
    url = _url(draft.round, world.a)
    response = client.post(url, form_data(0, DWELLINGS="1 234", QUEUE=("missing", "Nav datu"), AREA="1 234,5"))
    assert response.status_code == 302
    assert Value.objects.get(submission=draft, item__code="DWELLINGS").number == Decimal("1234")
    assert Value.objects.get(submission=draft, item__code="AREA").number == Decimal("1234.5")
    queue = Value.objects.get(submission=draft, item__code="QUEUE")
    assert queue.is_missing and queue.missing_reason == "Nav datu"
    english(client)
    # Not a number, below the allowed minimum, number and "missing" together, missing without a reason.
    for data, shown in [
        (form_data(1, DWELLINGS="a lot"), "is not a number"),
        (form_data(1, DWELLINGS="-3"), "below the allowed minimum"),
        (form_data(1, DWELLINGS="5", QUEUE=("missing", "x")) | {f"value_{queue.item_id}": "4"}, "not both"),
        (form_data(1, AREA=("missing", "")), "Say why the value is missing."),
    ]:
        response = client.post(url, data)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Nothing was saved" in html and shown in html
    assert Value.objects.get(submission=draft, item__code="DWELLINGS").number == Decimal("1234")
    draft.refresh_from_db()
    assert draft.version == 1


def test_concurrent_edits_second_is_refused_nothing_lost(world, draft):
    url = _url(draft.round, world.a)
    first = english(world.client("staff_a"))
    second = english(world.client("staff_a"))
    # Both opened the page at version 0.
    assert 'name="version" value="0"' in first.get(url).content.decode()
    assert 'name="version" value="0"' in second.get(url).content.decode()
    assert first.post(url, form_data(0, DWELLINGS="20", QUEUE="7")).status_code == 302
    response = second.post(url, form_data(0, DWELLINGS="30", QUEUE="9"))
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this submission after you opened it." in html
    # The page now shows what is stored (the first edit) at the current version.
    assert 'value="20"' in html and 'name="version" value="1"' in html
    stored = {v.item.code: v.number for v in Value.objects.filter(submission=draft).select_related("item")}
    assert stored == {"DWELLINGS": Decimal(20), "QUEUE": Decimal(7)}
    assert Value.history.filter(submission_id=draft.pk, number=Decimal(30)).count() == 0


def test_history_shows_who_changed_what(world, draft):
    client = english(world.client("staff_a"))
    url = _url(draft.round, world.a)
    client.post(url, form_data(0, DWELLINGS="14000", QUEUE=("missing", "Not counted")))
    client.post(url, form_data(1, DWELLINGS="", QUEUE=("missing", "Not counted")))
    html = client.get(url).content.decode()
    history = html.split("History of every value")[1]
    rows = [row.split("</tr>")[0] for row in history.split("<tr>")[2:]]
    cells = [[cell.split("</td>")[0].strip() for cell in row.split("<td>")[1:]] for row in rows]
    # Newest first: who, item, from what, to what, why.
    assert [c[1:] for c in cells] == [
        ["staff-a", "DWELLINGS", "14,000", "cleared", ""],
        ["staff-a", "QUEUE", "—", "missing", "Not counted"],
        ["staff-a", "DWELLINGS", "12", "14,000", ""],
        ["—", "DWELLINGS", "—", "12", ""],
    ]


def test_closed_round_is_read_only(world, draft):
    Round.objects.filter(pk=draft.round_id).update(status=Round.Status.CLOSED, deadline=datetime.date(2020, 1, 1))
    client = world.client("staff_a")
    html = client.get(_url(draft.round, world.a)).content.decode()
    assert 'name="action"' not in html
    assert client.post(_url(draft.round, world.a), form_data(0, DWELLINGS="1")).status_code == 403


def test_form_query_count_is_constant(world, draft, django_assert_max_num_queries):
    client = world.client("staff_a")
    url = _url(draft.round, world.a)
    client.get(url)
    with django_assert_max_num_queries(15):
        client.get(url)
    for code in ("QUEUE", "AREA"):
        ValueFactory(submission=draft, item=DataItem.objects.get(code=code), number=Decimal(3))
    with django_assert_max_num_queries(15):
        client.get(url)


def test_my_work_links_to_my_submissions(world):
    html = world.client("staff_a").get(reverse("networks:my_work")).content.decode()
    assert reverse("indicators:my_rounds") in html


@pytest.mark.parametrize("persona", ["staff_b", "viewer_a", "coordinator", "outsider"])
def test_my_submissions_lists_only_own_municipalitys_rounds(world, persona):
    round_ = data_round(world, others=0)
    html = world.client(persona).get(reverse("indicators:my_rounds")).content.decode()
    assert (_url(round_, world.a) in html) is False
    assert (_url(round_, world.b) in html) is (persona == "staff_b")


def test_soft_checks():
    from indicators.validation import check_value_soft

    item = DataItem(code="X", max_change_pct=Decimal(20), usual_min=Decimal(10), usual_max=Decimal(1000))
    assert check_value_soft(item, Decimal(100), previous=Decimal(90), others=[Decimal(v) for v in (95, 100, 105)]) == []
    assert len(check_value_soft(item, Decimal(130), previous=Decimal(100))) == 1  # +30 % > 20 %
    assert check_value_soft(item, Decimal(130), previous=Decimal(0)) == []  # no change from zero
    assert len(check_value_soft(item, Decimal(5))) == 1  # below the usual band
    assert len(check_value_soft(item, Decimal(5000))) == 1  # above it
    others = [Decimal(v) for v in (100, 101, 99, 102, 98)]
    assert check_value_soft(item, Decimal(104), others=others) == []  # within median ± 3 * 1.4826 * MAD (4.45)
    assert len(check_value_soft(item, Decimal(105), others=others)) == 1
    assert check_value_soft(item, Decimal(900), others=others[:4]) == []  # fewer than five values: no check
    assert check_value_soft(item, Decimal(900), others=[Decimal(100)] * 6) == []  # MAD zero: no spread to judge
    item.max_change_pct = None
    assert check_value_soft(item, Decimal(990), previous=Decimal(100)) == []


def test_editable_form_links_to_the_excel_round_trip(world, draft):
    html = world.client("staff_a").get(_url(draft.round, world.a)).content.decode()
    assert reverse("indicators:excel_template", kwargs={"round_pk": draft.round_id, "code": world.a.code}) in html
    assert reverse("indicators:excel_upload", kwargs={"round_pk": draft.round_id, "code": world.a.code}) in html
    html = world.client("coordinator").get(_url(draft.round, world.a)).content.decode()
    assert "excel/upload" not in html
