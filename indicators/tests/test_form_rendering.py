"""The staff form and the review as their users meet them.

The form's fields and each row's side column are built in Python (indicators/views/_rows.py: crispy
per field made 200 items take ~850 ms), so nothing checks them but these tests: every data item has
its number, "missing", reason and explanation fields, each with a label, its help and error texts
joined to it by `aria-describedby`, the values as stored or as typed (escaped), the row's last
period, warnings and query thread, and a question form with its label.
"""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from indicators.forms import SubmissionForm
from indicators.models import DataItem, Submission, ValueQuery

from .factories import DataItemFactory, PeriodFactory, RoundFactory, SubmissionFactory, ValueFactory, data_round
from .test_workflow import english, form_data

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
FIELDS = ("value", "missing", "reason", "explanation")


class Page(HTMLParser):
    """What a user (or assistive technology) gets from a page: the forms and their controls with all
    their attributes, label texts by `for`, the text of every element with an id, the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[tuple[str, dict]] = []
        self.labels: dict[str, str] = {}
        self.by_id: dict[str, str] = {}
        self.textareas: dict[str, str] = {}
        self._text: list[str] = []
        self._open: list[list] = []  # [tag, id, label for, name, chunks]
        self._hidden = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag in ("script", "style"):
            self._hidden += 1
        if tag in ("form", "input", "select", "textarea", "button"):
            self.controls.append((tag, attrs))
        if tag not in VOID:
            label_for = attrs.get("for") if tag == "label" else None
            self._open.append([tag, attrs.get("id"), label_for, attrs.get("name"), []])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1
        if tag in VOID:
            return
        while self._open:
            name, ident, label_for, field_name, chunks = self._open.pop()
            raw = "".join(chunks)
            text = " ".join(raw.split())
            if ident:
                self.by_id[ident] = text
            if label_for:
                self.labels[label_for] = text
            if name == "textarea":
                self.textareas[field_name] = raw
            if self._open:
                self._open[-1][4].append(raw)
            if name == tag:
                break

    def handle_data(self, data):
        if self._hidden:
            return
        self._text.append(data)
        if self._open:
            self._open[-1][4].append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self._text).split())

    def named(self, name: str) -> list[tuple[str, dict]]:
        return [(tag, attrs) for tag, attrs in self.controls if attrs.get("name") == name]

    def control(self, name: str) -> dict:
        found = self.named(name)
        assert len(found) == 1, name
        return found[0][1]


def assert_accessible(page: Page, name: str, label: str) -> dict:
    """The control is part of the values form, has a unique id and the label, and every text
    `aria-describedby` names is on the page and not empty."""
    control = page.control(name)
    assert control["form"] == SubmissionForm.FORM_ID
    assert control["id"] == f"id_{name}"
    assert [attrs.get("id") for _tag, attrs in page.controls].count(control["id"]) == 1
    assert page.labels[control["id"]] == label
    for described in control.get("aria-describedby", "").split():
        assert page.by_id[described], described
    return control


def assert_item_fields(page: Page, item: DataItem) -> None:
    """The item's four fields, labelled, with their help texts; then the question form beside them.
    Texts in the page's language (the caller's `translation.override`)."""
    unit = f" ({item.unit})" if item.unit else ""
    number = assert_accessible(page, f"value_{item.pk}", f"{item.display_name}{unit}")
    assert number["type"] == "text" and number["inputmode"] == "decimal" and number["maxlength"] == "60"
    if item.display_instructions:
        assert number["aria-describedby"].split()[0] == f"id_value_{item.pk}_helptext"
        assert page.by_id[f"id_value_{item.pk}_helptext"] == item.display_instructions
    missing = assert_accessible(page, f"missing_{item.pk}", gettext("The value is missing"))
    assert missing["type"] == "checkbox"
    assert_accessible(page, f"reason_{item.pk}", gettext("Why it is missing"))
    explanation = assert_accessible(page, f"explanation_{item.pk}", gettext("Explanation"))
    assert page.named(f"explanation_{item.pk}")[0][0] == "textarea"
    assert explanation["aria-describedby"].split()[0] == f"id_explanation_{item.pk}_helptext"
    assert page.by_id[f"id_explanation_{item.pk}_helptext"] == gettext(
        "Required before submitting when the value is unusual."
    )
    assert_question_form(page, item)


def assert_question_form(page: Page, item: DataItem) -> None:
    assert page.labels[f"query-{item.pk}"] == gettext("Question or answer about this value")
    question = [attrs for tag, attrs in page.controls if tag == "textarea" and attrs.get("id") == f"query-{item.pk}"]
    assert len(question) == 1 and question[0]["name"] == "text" and "required" in question[0]


@pytest.fixture
def realistic(world):
    """A's draft after last period's approved one: a value, an unusual change, a missing value
    with its reason (with characters to escape), a query thread, an official item."""
    previous_round = data_round(world, label="2023", others=0)
    last = SubmissionFactory(round=previous_round, municipality=world.a, status=Submission.Status.APPROVED)
    dwellings = DataItem.objects.get(code="DWELLINGS")
    ValueFactory(submission=last, item=dwellings, number=Decimal(80))
    round_ = RoundFactory(network=world.network, period=PeriodFactory(label="2024"))
    draft = SubmissionFactory(round=round_, municipality=world.a)
    ValueFactory(submission=draft, item=dwellings, number=Decimal(200))  # +150 %: needs an explanation
    ValueFactory(
        submission=draft,
        item=DataItem.objects.get(code="QUEUE"),
        number=None,
        is_missing=True,
        missing_reason="Nav datu <b>\"rinda\"</b> & 'cits'",
    )
    ValueFactory(submission=draft, item=DataItem.objects.get(code="AREA"), number=Decimal("3.5"))
    ValueQuery.objects.create(
        submission=draft, item=dwellings, author=world.users["coordinator"], text="Vai tiešām 200?\n<Lūdzu>"
    )
    return draft


def _url(submission) -> str:
    return reverse(
        "indicators:submission_form", kwargs={"round_pk": submission.round_id, "code": submission.municipality.code}
    )


def _entered() -> list[DataItem]:
    return list(DataItem.objects.filter(source=DataItem.Source.ENTERED).order_by("pk"))


@pytest.mark.parametrize("language", ["lv", "en"])
def test_every_item_has_its_fields_labelled(world, realistic, language):
    client = world.client("staff_a")
    if language == "en":
        english(client)
    html = client.get(_url(realistic)).content.decode()
    page = Page(html)
    dwellings, queue, area = (DataItem.objects.get(code=code) for code in ("DWELLINGS", "QUEUE", "AREA"))
    with translation.override(language):
        for item in _entered():
            assert_item_fields(page, item)
        # The stored values, in the page's number format; the reason escaped, as typed.
        assert page.control(f"value_{dwellings.pk}")["value"] == "200"
        assert page.control(f"value_{area.pk}")["value"] == ("3.5" if language == "en" else "3,5")
        assert "value" not in page.control(f"value_{queue.pk}")
        assert "checked" in page.control(f"missing_{queue.pk}")
        assert "checked" not in page.control(f"missing_{dwellings.pk}")
        assert page.control(f"reason_{queue.pk}")["value"] == "Nav datu <b>\"rinda\"</b> & 'cits'"
        assert "<b>" not in html  # the reason and the thread are escaped
        # The side column: last period, the warning and what it asks, the open thread.
        row = page.by_id[f"item-{dwellings.pk}"]
        assert f"{gettext('Last period')} (2023): 80" in row
        assert gettext("Explain this value before submitting.") in row
        assert "Vai tiešām 200?<Lūdzu>" in row  # the line break is a <br>
        assert f"{gettext('Last period')}: {gettext('not known')}" in page.by_id[f"item-{queue.pk}"]
    assert page.control("version")["value"] == "0"
    # A question form on each data item, the official one too, each posting to its own item.
    official = DataItem.objects.get(code="POPULATION")
    assert [attrs.get("name") for _tag, attrs in page.controls].count("text") == 4
    assert not page.named(f"value_{official.pk}")
    assert page.labels[f"query-{official.pk}"]
    actions = [
        attrs["action"] for tag, attrs in page.controls if tag == "form" and "queries" in attrs.get("action", "")
    ]
    assert sorted(actions) == sorted(
        reverse("indicators:value_query_post", kwargs={"pk": realistic.pk, "item_pk": item.pk})
        for item in DataItem.objects.all()
    )


def test_refused_submission_says_what_stops_it(world, realistic):
    """Submitting with an unexplained unusual value: saved as a draft, the problem shown at the
    top with a link to the row, and in the row."""
    client = english(world.client("staff_a"))
    data = form_data(0, "submit", DWELLINGS="200", QUEUE=("missing", "Nav datu"), AREA="3,5")
    page = Page(client.post(_url(realistic), data).content.decode())
    dwellings = DataItem.objects.get(code="DWELLINGS")
    with translation.override("en"):
        for item in _entered():
            assert_item_fields(page, item)
    row = page.by_id[f"item-{dwellings.pk}"]
    assert "Explain this value before submitting." in row
    assert "Warning: 150 % change against the previous period" in row
    assert "These values stop the submission: Social dwellings" in page.text
    assert page.control("version")["value"] == "1"


def test_field_errors_are_joined_to_their_fields(world, realistic):
    """A value that is not a number and a missing value without a reason: the form comes back
    with the typed values, each error under its field and linked by aria-describedby."""
    client = english(world.client("staff_a"))
    data = form_data(0, DWELLINGS="a <lot>", QUEUE=("missing", ""), AREA="3,5")
    data["explanation_" + str(DataItem.objects.get(code="DWELLINGS").pk)] = "Jauns nams\n& <cits>"
    response = client.post(_url(realistic), data)
    assert response.status_code == 200
    page = Page(response.content.decode())
    dwellings, queue = (DataItem.objects.get(code=code) for code in ("DWELLINGS", "QUEUE"))
    with translation.override("en"):
        for item in _entered():
            assert_item_fields(page, item)
    value = page.control(f"value_{dwellings.pk}")
    assert value["value"] == "a <lot>" and value["aria-invalid"] == "true"
    assert value["aria-describedby"] == f"id_value_{dwellings.pk}_helptext id_value_{dwellings.pk}_error"
    assert "is not a number" in page.by_id[f"id_value_{dwellings.pk}_error"]
    assert "is-invalid" in value["class"]
    reason = page.control(f"reason_{queue.pk}")
    assert reason["aria-invalid"] == "true" and reason["aria-describedby"] == f"id_reason_{queue.pk}_error"
    assert page.by_id[f"id_reason_{queue.pk}_error"] == "Say why the value is missing."
    assert page.textareas[f"explanation_{dwellings.pk}"] == "\nJauns nams\n& <cits>"
    assert "Nothing was saved: correct the values marked below." in page.text
    # Only the fields in error are marked.
    assert "aria-invalid" not in page.control(f"value_{queue.pk}")


def test_form_of_a_submitted_submission_shows_the_figures(world, realistic):
    """No form once submitted: the figures, read-only, with the thread and the question form."""
    Submission.objects.filter(pk=realistic.pk).update(status=Submission.Status.SUBMITTED)
    page = Page(english(world.client("staff_a")).get(_url(realistic)).content.decode())
    assert not [attrs for _tag, attrs in page.controls if attrs.get("name", "").startswith("value_")]
    dwellings, queue = (DataItem.objects.get(code=code) for code in ("DWELLINGS", "QUEUE"))
    assert "Social dwellings 200 dwellings" in page.by_id[f"item-{dwellings.pk}"]
    assert "Missing: Nav datu <b>\"rinda\"</b> & 'cits'" in page.by_id[f"item-{queue.pk}"]
    with translation.override("en"):
        for item in DataItem.objects.all():
            assert_question_form(page, item)


def test_review_shows_each_row_with_its_thread(world, realistic):
    """The coordinator's review: the same side column as the staff form, with a question form on
    every row."""
    Submission.objects.filter(pk=realistic.pk).update(status=Submission.Status.SUBMITTED)
    client = english(world.client("coordinator"))
    page = Page(client.get(reverse("indicators:submission_review", kwargs={"pk": realistic.pk})).content.decode())
    dwellings = DataItem.objects.get(code="DWELLINGS")
    row = page.by_id[f"item-{dwellings.pk}"]
    assert "Last period (2023): 80" in row
    assert "Warning: 150 % change against the previous period" in row
    assert "1 message about this value" in row and "Vai tiešām 200?<Lūdzu>" in row
    with translation.override("en"):
        for item in DataItem.objects.all():
            assert_question_form(page, item)


def _queries(client, url) -> int:
    reset_queries()  # the capture counts from the log's length; each request empties the log
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_queries_do_not_grow_with_the_items(world, realistic):
    """No query per data item (the page had 200 in the load test)."""
    client = world.client("staff_a")
    url = _url(realistic)
    client.get(url)
    few = _queries(client, url)
    for n in range(12):
        item = DataItemFactory(code=f"EXTRA_{n}", theme=f"Tēma {n % 3}", instructions="Skaits.")
        item.networks.add(world.network)
        ValueFactory(submission=realistic, item=item, number=Decimal(n))
        ValueQuery.objects.create(submission=realistic, item=item, author=world.users["staff_a"], text="?")
    html = client.get(url).content.decode()
    assert html.count('name="value_') == 15
    assert _queries(client, url) == few
    assert few <= 20


def test_every_text_is_escaped(world, realistic):
    """Names, units and instructions come from the indicator definitions, the author's name from
    the account: markup in any of them is shown as text on both pages, never interpreted."""
    hostile = DataItemFactory(
        code="HOSTILE",
        name="<script>alert(1)</script>",
        name_en="<script>alert(1)</script>",
        unit="<i>m²</i>",
        theme="<b>Tēma</b>",
        theme_en="<b>Tēma</b>",
        instructions="<img src=x onerror=alert(2)>",
        instructions_en="<img src=x onerror=alert(2)>",
    )
    hostile.networks.add(world.network)
    ValueFactory(submission=realistic, item=hostile, number=Decimal(1), explanation="<u>jo</u>")
    author = world.users["coordinator"]
    author.first_name = "<em>Ilze</em>"
    author.save()
    ValueQuery.objects.create(submission=realistic, item=hostile, author=author, text="<a href=x>?</a>")
    form_html = english(world.client("staff_a")).get(_url(realistic)).content.decode()
    Submission.objects.filter(pk=realistic.pk).update(status=Submission.Status.SUBMITTED)
    review_url = reverse("indicators:submission_review", kwargs={"pk": realistic.pk})
    review_html = english(world.client("coordinator")).get(review_url).content.decode()
    for html in (form_html, review_html):
        for markup in ("<script>alert", "<i>m²", "<b>Tēma", "<img src=x", "<u>jo", "<em>Ilze", "<a href=x>"):
            assert markup not in html
        row = Page(html).by_id[f"item-{hostile.pk}"]
        assert "<script>alert(1)</script>" in row and "<a href=x>?</a>" in row and "<em>Ilze</em>" in row
    page = Page(form_html)
    assert page.labels[f"id_value_{hostile.pk}"] == "<script>alert(1)</script> (<i>m²</i>)"
    assert page.by_id[f"id_value_{hostile.pk}_helptext"] == "<img src=x onerror=alert(2)>"
    assert page.textareas[f"explanation_{hostile.pk}"] == "\n<u>jo</u>"
