"""The staff form renders its fields in Python (issue 7: 200 items took ~850 ms through crispy).

The page must stay what it was for its users: every input, select and textarea with the same
attributes (name, id, type, value, required, aria-*), the same label texts, help and error texts,
and the same visible text. Each page below is rendered by the view and, from the same context and
request, by the template as it was before (templates/indicators/tests/submission_form_before.html,
crispy per field, includes per row); the two are parsed and compared.
"""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection, reset_queries
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.models import DataItem, Submission, ValueQuery
from indicators.views import submissions as views

from .factories import DataItemFactory, PeriodFactory, RoundFactory, SubmissionFactory, ValueFactory, data_round
from .test_workflow import english, form_data

REFERENCE = "indicators/tests/submission_form_before.html"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """What a user (or assistive technology) gets from a page: the forms and their controls with all
    their attributes, label texts by `for`, the text of every element with an id, the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[tuple[str, tuple]] = []
        self.labels: dict[str, str] = {}
        self.by_id: dict[str, str] = {}
        self.textareas: dict[str, str] = {}
        self._text: list[str] = []
        self._open: list[list] = []  # [tag, id, label for, name, chunks]
        self._hidden = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style"):
            self._hidden += 1
        if tag in ("form", "input", "select", "textarea", "button"):
            if attrs.get("name") == "csrfmiddlewaretoken":
                attrs["value"] = "<masked per request>"
            self.controls.append((tag, tuple(sorted((name, value or "") for name, value in attrs.items()))))
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

    def control(self, name: str) -> dict:
        found = [dict(attrs) for tag, attrs in self.controls if dict(attrs).get("name") == name]
        assert len(found) == 1, name
        return found[0]


@pytest.fixture
def with_reference(monkeypatch):
    """Every render of the view also renders the old template from the same context and request."""
    pages: list[str] = []
    render = views.render

    def both(request, template_name, context=None, *args, **kwargs):
        response = render(request, template_name, context, *args, **kwargs)
        pages.append(render_to_string(REFERENCE, context, request=request))
        return response

    monkeypatch.setattr(views, "render", both)
    return pages


def assert_same(new_html: str, old_html: str) -> Page:
    new, old = Page(new_html), Page(old_html)
    assert new.controls == old.controls
    assert new.labels == old.labels
    assert new.textareas == old.textareas
    assert new.by_id == old.by_id  # help texts, error texts, the rows (item-N), the history
    assert new.text == old.text
    return new


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


@pytest.mark.parametrize("language", ["lv", "en"])
def test_form_reads_as_before(world, realistic, with_reference, language):
    client = world.client("staff_a")
    if language == "en":
        english(client)
    html = client.get(_url(realistic)).content.decode()
    page = assert_same(html, with_reference[-1])
    dwellings, queue = (DataItem.objects.get(code=code) for code in ("DWELLINGS", "QUEUE"))
    # What the comparison covered, as the user meets it.
    assert page.control(f"value_{dwellings.pk}")["value"] == "200"
    assert page.control(f"value_{dwellings.pk}")["aria-describedby"] == f"id_value_{dwellings.pk}_helptext"
    assert page.control(f"missing_{queue.pk}")["checked"] == ""
    assert page.control(f"reason_{queue.pk}")["value"] == "Nav datu <b>\"rinda\"</b> & 'cits'"
    assert "<b>" not in html.split(f'id="id_reason_{queue.pk}"')[0].rsplit("<input", 1)[1]  # escaped
    assert page.labels[f"id_missing_{queue.pk}"] == ("The value is missing" if language == "en" else "Vērtības nav")
    assert "Vai tiešām 200?<Lūdzu>" in page.text  # the line break is a <br>
    assert page.control("version")["value"] == "0"
    names = [dict(attrs).get("name") for tag, attrs in page.controls]
    assert names.count("text") == 4  # a question form on each data item, the official one too


def test_refused_submission_reads_as_before(world, realistic, with_reference):
    """Submitting with an unexplained unusual value: saved as a draft, the problem shown."""
    client = english(world.client("staff_a"))
    data = form_data(0, "submit", DWELLINGS="200", QUEUE=("missing", "Nav datu"), AREA="3,5")
    response = client.post(_url(realistic), data)
    html = response.content.decode()
    page = assert_same(html, with_reference[-1])
    dwellings = DataItem.objects.get(code="DWELLINGS")
    assert "Explain this value before submitting." in page.by_id[f"item-{dwellings.pk}"]
    assert "150 % change against the previous period" in page.text


def test_field_errors_read_as_before(world, realistic, with_reference):
    """A value that is not a number and a missing value without a reason: the form comes back
    with the typed values, each error under its field and linked by aria-describedby."""
    client = english(world.client("staff_a"))
    data = form_data(0, DWELLINGS="a <lot>", QUEUE=("missing", ""), AREA="3,5")
    data["explanation_" + str(DataItem.objects.get(code="DWELLINGS").pk)] = "Jauns nams\n& <cits>"
    response = client.post(_url(realistic), data)
    assert response.status_code == 200
    page = assert_same(response.content.decode(), with_reference[-1])
    dwellings, queue = (DataItem.objects.get(code=code) for code in ("DWELLINGS", "QUEUE"))
    value = page.control(f"value_{dwellings.pk}")
    assert value["value"] == "a <lot>" and value["aria-invalid"] == "true"
    assert value["aria-describedby"] == f"id_value_{dwellings.pk}_helptext id_value_{dwellings.pk}_error"
    assert "is not a number" in page.by_id[f"id_value_{dwellings.pk}_error"]
    assert "is-invalid" in value["class"]
    assert page.by_id[f"id_reason_{queue.pk}_error"] == "Say why the value is missing."
    assert page.textareas[f"explanation_{dwellings.pk}"] == "\nJauns nams\n& <cits>"


def test_form_of_a_submitted_submission_reads_as_before(world, realistic, with_reference):
    """No form once submitted: the figures, read-only, as before."""
    Submission.objects.filter(pk=realistic.pk).update(status=Submission.Status.SUBMITTED)
    page = assert_same(world.client("staff_a").get(_url(realistic)).content.decode(), with_reference[-1])
    assert not [attrs for tag, attrs in page.controls if dict(attrs).get("name", "").startswith("value_")]


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
