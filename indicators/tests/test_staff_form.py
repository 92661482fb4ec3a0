"""The staff form that fits the work (docs/architecture.md, "The staff form"): decimals refused,
usual ranges clipped, the field check on leaving a field, the sticky bar's count, "missing" with a
statistical mark, official values read-only with their source, and withdrawing a submission before
its review."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from indicators.models import DataItem, MissingStatus, Submission, SubmissionEvent, Value, ValueQuery
from indicators.validation import check_value_entered, check_value_soft, decimal_places, decimals_error
from indicators.views.submissions import progress_sentence

from .factories import DataItemFactory, PeriodFactory, RoundFactory, SubmissionFactory, ValueFactory, data_round
from .test_form_rendering import Page
from .test_workflow import english, form_data

ALL = ("staff_a", "staff_b", "viewer_a", "coordinator", "outsider", "anonymous", "admin")


def _url(submission, name: str = "submission_form") -> str:
    return reverse(f"indicators:{name}", kwargs={"round_pk": submission.round_id, "code": submission.municipality.code})


@pytest.fixture
def draft(world):
    """A's draft in a round where five other members submitted DWELLINGS (98 to 102)."""
    round_ = data_round(world)
    return SubmissionFactory(round=round_, municipality=world.a)


def _pk(code: str) -> int:
    return DataItem.objects.get(code=code).pk


# --- decimals: the stored number is the number shown ----------------------------------------------


def test_decimal_places_and_the_error():
    assert [decimal_places(Decimal(text)) for text in ("603", "603.5", "603.50", "1E+3", "0.001", "-2.10")] == [
        0,
        1,
        1,
        0,
        3,
        1,
    ]
    whole, one = DataItem(code="W", decimals=0), DataItem(code="O", decimals=1)
    assert decimals_error(whole, Decimal("603")) is None
    assert decimals_error(one, Decimal("603.50")) is None  # trailing zeros change nothing shown
    with translation.override("en"):
        assert decimals_error(whole, Decimal("603.5")) == "Enter a whole number (no decimal places)."
        assert decimals_error(one, Decimal("603.25")) == "Enter at most 1 decimal place."
        assert decimals_error(DataItem(decimals=2), Decimal("1.125")) == "Enter at most 2 decimal places."
    with translation.override("lv"):
        assert decimals_error(whole, Decimal("603.5")) == "Ievadiet veselu skaitli (bez decimāldaļas)."
        assert decimals_error(one, Decimal("603.25")) == "Ievadiet ne vairāk kā 1 ciparu aiz komata."
        assert decimals_error(DataItem(decimals=2), Decimal("1.125")) == "Ievadiet ne vairāk kā 2 ciparus aiz komata."
    # The range is checked first; the Latvian decimal comma and spaces as thousands separators read.
    assert check_value_entered(whole, "1 234").number == Decimal(1234)
    assert check_value_entered(one, "1\u00a0234,5").number == Decimal("1234.5")
    assert check_value_entered(whole, "603,5").error


def test_the_rows_built_in_python_escape_every_text(world, draft):
    """The rows are markup built in Python and marked safe (`views._rows.StaffRow`): a name, unit,
    instruction, reason, explanation or footnote carrying markup is shown as text, in the editable
    row and in the read-only one."""
    hostile = "<script>alert(1)</script>"
    DataItem.objects.filter(code="DWELLINGS").update(
        name=f"Dzīvokļi {hostile}", unit=f"dz. {hostile}", instructions=f"Skaits {hostile}"
    )
    ValueFactory(
        submission=draft,
        item=DataItem.objects.get(code="QUEUE"),
        number=None,
        is_missing=True,
        missing_reason=f"nav {hostile}",
        explanation=f"jo {hostile}",
        footnote=f"piezīme {hostile}",
    )
    for submission_status in (Submission.Status.DRAFT, Submission.Status.SUBMITTED):
        Submission.objects.filter(pk=draft.pk).update(status=submission_status)
        html = world.client("staff_a").get(_url(draft)).content.decode()
        assert hostile not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Enter a whole number (no decimal places)."), ("lv", "Ievadiet veselu skaitli (bez decimāldaļas).")],
)
def test_the_form_refuses_more_decimals_than_the_item_shows(world, draft, language, message):
    client = world.client("staff_a")
    if language == "en":
        english(client)
    response = client.post(_url(draft), form_data(0, DWELLINGS="603,5", AREA="12,5"))
    assert response.status_code == 200
    page = Page(response.content.decode())
    dwellings = _pk("DWELLINGS")
    assert page.by_id[f"id_value_{dwellings}_error"] == message
    assert page.control(f"value_{dwellings}")["aria-invalid"] == "true"
    assert page.control(f"value_{dwellings}")["value"] == "603,5"  # as typed, to correct
    assert not Value.objects.filter(submission=draft).exists()  # nothing saved
    # One decimal for AREA (km², 1 decimal) is fine, two are not.
    english(client)
    response = client.post(_url(draft), form_data(0, DWELLINGS="603", AREA="12,55"))
    assert "Enter at most 1 decimal place." in Page(response.content.decode()).by_id[f"id_value_{_pk('AREA')}_error"]
    assert client.post(_url(draft), form_data(0, DWELLINGS="603", AREA="1 212,5")).status_code == 302
    stored = {value.item.code: value.number for value in Value.objects.filter(submission=draft)}
    assert stored == {"DWELLINGS": Decimal(603), "AREA": Decimal("1212.5")}


def test_a_value_with_too_many_decimals_stops_the_submission(world, draft):
    """A number that came in some other way (an import, an item whose decimals changed) is an
    error at submission, not a silently rounded figure."""
    ValueFactory(submission=draft, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal("100.5"))
    response = english(world.client("staff_a")).post(
        _url(draft), form_data(0, "submit", DWELLINGS="100,5", QUEUE="3", AREA="3")
    )
    # The form refuses the typed value first.
    assert "Enter a whole number" in response.content.decode()
    from indicators.services.submissions import submission_check

    check = submission_check(submission=draft)
    assert check.errors[_pk("DWELLINGS")] == ["Enter a whole number (no decimal places)."]


# --- usual ranges clipped to the allowed range -----------------------------------------------------


def test_usual_range_is_clipped_to_the_allowed_range():
    tonnes = DataItem(code="T", min_value=Decimal(0), max_change_pct=None)
    others = [Decimal(v) for v in (1, 2, 3, 50, 100)]  # median 3, MAD 2: 3 ± 8.9 reaches below zero
    with translation.override("lv"):
        (warning,) = check_value_soft(tonnes, Decimal(500), others=others)
    assert "-" not in warning
    assert "0 līdz 11,9" in warning
    with translation.override("en"):
        (warning,) = check_value_soft(tonnes, Decimal(500), others=others)
    assert "usual range 0 to 11.9" in warning
    capped = DataItem(code="P", min_value=Decimal(0), max_value=Decimal(100), max_change_pct=None)
    with translation.override("en"):
        (warning,) = check_value_soft(capped, Decimal(0), others=[Decimal(v) for v in (90, 95, 98, 99, 100)])
    assert "usual range 89.1 to 100)" in warning  # 98 ± 8.9, never above 100 %
    # Without limits the range is as computed.
    with translation.override("en"):
        (warning,) = check_value_soft(DataItem(code="F", max_change_pct=None), Decimal(500), others=others)
    assert "usual range -5.9 to 11.9" in warning


# --- the field check: what the form's script asks when a field is left -----------------------------


def _check(client, submission, item_code: str, value: str):
    return client.post(_url(submission, "submission_value_check"), {"item": _pk(item_code), "value": value})


def test_field_check_answers_as_saving_would(world, draft):
    client = english(world.client("staff_a"))
    answer = _check(client, draft, "DWELLINGS", "603,5").json()
    assert answer == {"state": "error", "error": "Enter a whole number (no decimal places).", "warnings": []}
    assert _check(client, draft, "DWELLINGS", "-3").json()["error"] == "-3 is below the allowed minimum 0"
    assert _check(client, draft, "DWELLINGS", "").json() == {"state": "empty", "error": None, "warnings": []}
    assert _check(client, draft, "DWELLINGS", "100").json() == {"state": "filled", "error": None, "warnings": []}
    answer = _check(client, draft, "DWELLINGS", "5 000").json()
    assert answer["state"] == "warning"
    assert answer["warnings"] == [
        "far from the network's values (median 100, usual range 95.55 to 104.45)",
    ]
    # In Latvian, as the page speaks.
    latvian = world.client("staff_a")
    answer = _check(latvian, draft, "DWELLINGS", "603,5").json()
    assert answer["error"] == "Ievadiet veselu skaitli (bez decimāldaļas)."
    # Nothing is saved by a check.
    assert not Value.objects.filter(submission=draft).exists()
    draft.refresh_from_db()
    assert draft.version == 0


def test_field_check_against_last_period(world):
    previous_round = data_round(world, label="2023", others=0)
    last = SubmissionFactory(round=previous_round, municipality=world.a, status=Submission.Status.APPROVED)
    ValueFactory(submission=last, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal(80))
    round_ = RoundFactory(network=world.network, period=PeriodFactory(label="2024"))
    submission = SubmissionFactory(round=round_, municipality=world.a)
    answer = _check(english(world.client("staff_a")), submission, "DWELLINGS", "200").json()
    assert answer["warnings"] == ["150 % change against the previous period (80); more than 50 % is unusual"]


def test_field_check_refuses_what_the_form_does_not_ask(world, draft):
    client = world.client("staff_a")
    url = _url(draft, "submission_value_check")
    official = DataItem.objects.get(code="POPULATION")
    stranger = DataItemFactory(code="STRANGER")
    for item in ("", "x", "999999", str(official.pk), str(stranger.pk), "1" * 30):
        assert client.post(url, {"item": item, "value": "1"}).status_code == 404
    assert client.get(url).status_code == 405


@pytest.mark.parametrize("persona", ALL)
def test_field_check_is_for_the_own_staff_of_an_editable_submission(world, draft, persona):
    response = world.client(persona).post(_url(draft, "submission_value_check"), {"item": _pk("DWELLINGS")})
    expected = {"staff_a": 200, "anonymous": 401}.get(persona, 403)
    assert response.status_code == expected
    # Once submitted, nobody's: the form is not editable.
    Submission.objects.filter(pk=draft.pk).update(status=Submission.Status.SUBMITTED)
    response = world.client(persona).post(_url(draft, "submission_value_check"), {"item": _pk("DWELLINGS")})
    assert response.status_code == (401 if persona == "anonymous" else 403)


def test_field_check_of_another_municipality_is_not_found(world, draft):
    """Staff of B ask about A's round where B has no submission yet: nothing is created."""
    url = reverse("indicators:submission_value_check", kwargs={"round_pk": draft.round_id, "code": world.b.code})
    assert world.client("staff_b").post(url, {"item": _pk("DWELLINGS"), "value": "1"}).status_code == 404
    assert not Submission.objects.filter(municipality=world.b).exists()


def test_field_check_queries_do_not_grow(world, draft, django_assert_max_num_queries):
    client = world.client("staff_a")
    _check(client, draft, "DWELLINGS", "5")
    with django_assert_max_num_queries(11):
        _check(client, draft, "DWELLINGS", "5")
    for n in range(10):
        item = DataItemFactory(code=f"EXTRA_{n}")
        item.networks.add(world.network)
    with django_assert_max_num_queries(11):
        assert _check(client, draft, "DWELLINGS", "5").status_code == 200


# --- the page: one row per item, the bar's count, the parts shown only when needed ----------------


def test_rows_and_the_bar_count(world, draft):
    """Two of three entered items answered (a number with an unexplained warning, one declared
    missing): the bar says so in both languages, and the page gives the script every count's form."""
    ValueFactory(submission=draft, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal(5000))
    ValueFactory(
        submission=draft, item=DataItem.objects.get(code="QUEUE"), number=None, is_missing=True, missing_reason="x"
    )
    client = world.client("staff_a")
    html = client.get(_url(draft)).content.decode()
    page = Page(html)
    assert page.by_id["entry-progress"] == "Aizpildītas 2 no 3 vērtībām, 1 brīdinājumam vajadzīgs paskaidrojums"
    html_en = english(client).get(_url(draft)).content.decode()
    page_en = Page(html_en)
    assert page_en.by_id["entry-progress"] == "2 of 3 filled, 1 warning needs an explanation"
    config = json.loads(html_en.split('id="entry-config" type="application/json">')[1].split("</script>")[0])
    assert config["check"] == _url(draft, "submission_value_check")
    assert config["filled"]["forms"] == ["%(filled)s of %(total)s filled"]
    assert config["warned"]["forms"] == [
        "%(warned)s warnings need an explanation",
        "%(warned)s warning needs an explanation",
    ]
    assert config["warned"]["index"] == [0, 1, 0, 0]
    # Each row says its state; the warned row's explanation is open, the others closed.
    dwellings, queue, area = _pk("DWELLINGS"), _pk("QUEUE"), _pk("AREA")
    assert 'data-state="warning" data-warned="1"' in html_en.split(f'id="item-{dwellings}"')[1][:80]
    assert "needs an explanation" in page_en.by_id[f"item-{dwellings}"]
    assert "declared missing" in page_en.by_id[f"item-{queue}"]
    assert "not filled" in page_en.by_id[f"item-{area}"]
    row = html_en.split(f'id="item-{dwellings}"')[1].split('class="entry"')[0]
    assert '<details class="entry-explanation" open>' in row
    row = html_en.split(f'id="item-{area}"')[1].split('class="entry"')[0]
    assert '<details class="entry-explanation">' in row
    # One Save and one Submit, in the sticky bar.
    assert html_en.count('name="action" value="save"') == 1 and html_en.count('name="action" value="submit"') == 1
    assert html_en.index('id="entry-bar"') < html_en.index('name="action" value="save"')


def test_latvian_plural_forms_of_the_count():
    with translation.override("lv"):
        said = {n: progress_sentence(filled=n, total=23, warned=n) for n in (0, 1, 2, 11, 21)}
    assert said[0] == "Aizpildītas 0 no 23 vērtībām"
    assert said[1] == "Aizpildīta 1 no 23 vērtībām, 1 brīdinājumam vajadzīgs paskaidrojums"
    assert said[2] == "Aizpildītas 2 no 23 vērtībām, 2 brīdinājumiem vajadzīgs paskaidrojums"
    assert said[11] == "Aizpildītas 11 no 23 vērtībām, 11 brīdinājumiem vajadzīgs paskaidrojums"
    assert said[21] == "Aizpildīta 21 no 23 vērtībām, 21 brīdinājumam vajadzīgs paskaidrojums"
    with translation.override("en"):
        assert progress_sentence(filled=17, total=23, warned=2) == "17 of 23 filled, 2 warnings need an explanation"


def test_missing_with_a_statistical_mark(world, draft):
    client = world.client("staff_a")
    queue, area = _pk("QUEUE"), _pk("AREA")
    page = Page(client.get(_url(draft)).content.decode())
    marker = page.control(f"marker_{queue}")
    assert marker["form"] == "values-form" and page.labels[f"id_marker_{queue}"] == "Statistikas apzīmējums"
    options = page.by_id[f"id_marker_{queue}"]
    for status in MissingStatus:
        assert status.value in options
    # The mark alone is a reason; the words of the mark are stored, in Latvian, as imports store them.
    data = form_data(0, DWELLINGS="100") | {f"missing_{queue}": "on", f"marker_{queue}": ".."}
    data |= {f"missing_{area}": "on", f"marker_{area}": "…", f"reason_{area}": "Mēra tikai reizi piecos gados"}
    assert english(client).post(_url(draft), data).status_code == 302
    stored = {value.item_id: value for value in Value.objects.filter(submission=draft)}
    assert stored[queue].is_missing and stored[queue].missing_status == ".."
    assert stored[queue].missing_reason == ".. konfidenciāls"
    assert stored[area].missing_status == "…" and stored[area].missing_reason == "Mēra tikai reizi piecos gados"
    # Neither mark nor words: refused, as before.
    data = form_data(1, DWELLINGS="100") | {f"missing_{queue}": "on"}
    response = english(client).post(_url(draft), data)
    assert "Say why the value is missing." in Page(response.content.decode()).by_id[f"id_reason_{queue}_error"]
    # A mark that is not one of the offices' is refused.
    data = form_data(1, DWELLINGS="100") | {f"missing_{queue}": "on", f"marker_{queue}": "??"}
    response = english(client).post(_url(draft), data)
    assert Page(response.content.decode()).by_id[f"id_marker_{queue}_error"] == "Choose one of the marks."
    # The page shows the stored mark chosen again.
    html = client.get(_url(draft)).content.decode()
    assert '<option value=".." selected>' in html.split(f'id="id_marker_{queue}"')[1].split("</select>")[0]


def test_official_values_are_read_only_with_their_source(world, draft):
    """An official figure is shown, not asked: its value, its source as import_official recorded
    it, the state "official statistics"; no field, and the staff cannot post one."""
    population = DataItem.objects.get(code="POPULATION")
    ValueFactory(
        submission=draft,
        item=population,
        number=Decimal(27825),
        explanation="Official statistics: IRS031 (CSP); file IRS031.csv",
    )
    client = english(world.client("staff_a"))
    page = Page(client.get(_url(draft)).content.decode())
    row = page.by_id[f"item-{population.pk}"]
    assert "Population 27,825 people" in row
    assert "Source: Official statistics: IRS031 (CSP); file IRS031.csv" in row
    assert "official statistics" in row
    assert not page.named(f"value_{population.pk}") and not page.named(f"missing_{population.pk}")
    data = form_data(0, DWELLINGS="100") | {f"value_{population.pk}": "1"}
    assert client.post(_url(draft), data).status_code == 302
    assert Value.objects.get(submission=draft, item=population).number == Decimal(27825)
    with translation.override("lv"):
        page = Page(world.client("staff_a").get(_url(draft)).content.decode())
    assert "Avots: Official statistics: IRS031" in page.by_id[f"item-{population.pk}"]
    assert "oficiālā statistika" in page.by_id[f"item-{population.pk}"]


def test_the_form_page_query_count_stays(world, draft):
    """The form's queries (networks/tests/test_pages.py allows 15) do not grow with the rows."""
    client = world.client("staff_a")
    url = _url(draft)
    client.get(url)

    def count() -> int:
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for n in range(15):
        item = DataItemFactory(code=f"MORE_{n}", theme=f"Tēma {n % 4}", decimals=n % 3)
        item.networks.add(world.network)
        ValueFactory(submission=draft, item=item, number=Decimal(n))
    assert count() == few <= 15


# --- withdrawing a submission before its review -----------------------------------------------------


@pytest.fixture
def submitted(world, draft):
    ValueFactory(submission=draft, item=DataItem.objects.get(code="DWELLINGS"), number=Decimal(100))
    Submission.objects.filter(pk=draft.pk).update(status=Submission.Status.SUBMITTED)
    SubmissionEvent.objects.create(
        submission=draft, from_status="draft", to_status="submitted", user=world.users["staff_a"]
    )
    draft.refresh_from_db()
    return draft


def test_staff_withdraw_before_review(world, submitted):
    client = english(world.client("staff_a"))
    html = client.get(_url(submitted)).content.decode()
    # The confirmation: the button sits inside a closed <details> that says what happens.
    details = html.split('<details class="entry-withdraw mb-3" id="withdraw">')[1].split("</details>")[0]
    assert "goes back to draft" in details and 'name="confirmed"' in details
    assert _url(submitted, "submission_withdraw") in details
    # An unconfirmed post changes nothing.
    response = client.post(_url(submitted, "submission_withdraw"))
    assert response.status_code == 302 and response["Location"].endswith("#withdraw")
    submitted.refresh_from_db()
    assert submitted.status == Submission.Status.SUBMITTED
    response = client.post(_url(submitted, "submission_withdraw"), {"confirmed": "1"}, follow=True)
    html = response.content.decode()
    assert "Withdrawn: the submission is a draft again" in html
    submitted.refresh_from_db()
    assert submitted.status == Submission.Status.DRAFT
    event = submitted.events.order_by("-pk").first()
    assert (event.from_status, event.to_status, event.user) == ("submitted", "draft", world.users["staff_a"])
    assert "withdrawn before review" in html  # the workflow's history says so
    assert 'name="action" value="submit"' in html  # editable again
    # The values and their history are untouched.
    assert Value.objects.get(submission=submitted).number == Decimal(100)


@pytest.mark.parametrize("status", ["approved", "returned", "draft"])
def test_withdraw_refused_once_reviewed(world, submitted, status):
    Submission.objects.filter(pk=submitted.pk).update(status=status)
    client = english(world.client("staff_a"))
    assert "entry-withdraw" not in client.get(_url(submitted)).content.decode()
    response = client.post(_url(submitted, "submission_withdraw"), {"confirmed": "1"})
    assert response.status_code == 409
    assert "Only a submitted submission that is not reviewed yet can be withdrawn." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == status


def test_withdraw_refused_once_the_coordinator_asked(world, submitted):
    """A question of the coordinator since the submission is the review under way; a question of
    the staff, or one asked before submitting, is not."""
    item = DataItem.objects.get(code="DWELLINGS")
    before = ValueQuery.objects.create(submission=submitted, item=item, author=world.users["coordinator"], text="?")
    ValueQuery.objects.filter(pk=before.pk).update(at=submitted.events.get().at.replace(year=2000))
    ValueQuery.objects.create(submission=submitted, item=item, author=world.users["staff_a"], text="Mūsu piezīme")
    from indicators.selectors import submission_review_started

    assert not submission_review_started(submission=submitted)
    ValueQuery.objects.create(submission=submitted, item=item, author=world.users["coordinator"], text="Kāpēc?")
    assert submission_review_started(submission=submitted)
    response = english(world.client("staff_a")).post(_url(submitted, "submission_withdraw"), {"confirmed": "1"})
    assert response.status_code == 409
    assert "The coordinator has started the review" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == Submission.Status.SUBMITTED


def test_withdraw_refused_in_a_closed_round(world, submitted):
    from indicators.models import Round

    Round.objects.filter(pk=submitted.round_id).update(status=Round.Status.CLOSED)
    client = world.client("staff_a")
    assert "entry-withdraw" not in client.get(_url(submitted)).content.decode()
    assert client.post(_url(submitted, "submission_withdraw"), {"confirmed": "1"}).status_code == 409


@pytest.mark.parametrize("persona", ALL)
def test_withdraw_is_for_the_own_staff(world, submitted, persona):
    response = world.client(persona).post(_url(submitted, "submission_withdraw"), {"confirmed": "1"})
    if persona == "staff_a":
        assert response.status_code == 302
    elif persona == "anonymous":
        assert response.status_code == 302 and "login" in response["Location"]
    else:
        assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == ("draft" if persona == "staff_a" else "submitted")
    assert world.client(persona).get(_url(submitted, "submission_withdraw")).status_code in (302, 405)
