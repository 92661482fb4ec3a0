"""Break notes of series and footnotes of values (docs/official.md): the import command, the
dashboards' marks, the form's and the review's footnote."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from comparisons.tests.dashboard_fixtures import dashboard_data
from indicators.models import DataItem, Period, SeriesBreak, Value

HEADER = "municipality_code,item_code,period,note\n"


def _run(path: Path) -> str:
    out = io.StringIO()
    call_command("import_series_breaks", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "breaks.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def items(db):
    from indicators.tests.factories import DataItemFactory

    return [DataItemFactory(code="SOCIAL"), DataItemFactory(code="POPULATION")]


def test_import_creates_updates_and_leaves_breaks_unchanged(world, items, tmp_path):
    text = HEADER + (
        f"{world.a.code},SOCIAL,2021,new definition of a social dwelling\n"
        f"{world.b.code},POPULATION,2021,the census of 2021\n"
    )
    out = _run(_file(tmp_path, text))
    assert "2 breaks created, 0 updated, 0 unchanged" in out
    assert Period.objects.filter(label="2021").exists()  # created as needed
    brk = SeriesBreak.objects.get(municipality=world.a)
    assert (brk.item.code, brk.period.label, brk.note) == ("SOCIAL", "2021", "new definition of a social dwelling")
    assert brk.history.count() == 1
    out = _run(_file(tmp_path, text.replace("the census of 2021", "the 2021 census")))
    assert "0 breaks created, 1 updated, 1 unchanged" in out
    assert SeriesBreak.objects.get(municipality=world.b).note == "the 2021 census"


def test_bad_rows_are_named_by_their_line_and_nothing_is_written(world, items, tmp_path):
    a = world.a.code
    text = HEADER + (
        f"{a},SOCIAL,2021,fine\n"  # line 2
        f"NOPE,SOCIAL,2021,x\n"  # line 3: unknown municipality
        f"{a},NOPE,2021,x\n"  # line 4: unknown item
        f"{a},SOCIAL,2021-Q5,x\n"  # line 5: no fifth quarter
        f"{a},POPULATION,2021,\n"  # line 6: no note
        f"{a},SOCIAL,2021,again\n"  # line 7: duplicate of line 2
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_series_breaks", str(_file(tmp_path, text)), stdout=io.StringIO(), stderr=err)
    said = err.getvalue()
    assert "line 3: unknown municipality code 'NOPE'" in said
    assert "line 4: unknown data item code 'NOPE'" in said
    assert "line 5: " in said
    assert "line 6: the note is empty" in said
    assert f"line 7: {a} SOCIAL 2021 already appears on line 2" in said
    assert "line 2" not in said.split("already appears")[0]
    assert not SeriesBreak.objects.exists() and not Period.objects.exists()


def test_a_file_without_the_note_column_is_refused(world, items, tmp_path):
    with pytest.raises(CommandError):
        call_command(
            "import_series_breaks",
            str(_file(tmp_path, f"municipality_code,item_code,period\n{world.a.code},SOCIAL,2021\n")),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


# --- the dashboards mark the period a series breaks in ---------------------------------------------


def _break(world, code: str, label: str, note: str) -> None:
    SeriesBreak.objects.create(
        item=DataItem.objects.get(code=code),
        municipality=world.a,
        period=Period.objects.get(label=label),
        note=note,
    )


def test_the_indicator_page_and_the_profile_mark_a_break_and_give_its_note(world, django_assert_max_num_queries):
    dashboard_data(world)
    _break(world, "SOCIAL", "2024", "a new definition of a social dwelling")
    client = world.client("anonymous")
    url = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SOC"})
    with django_assert_max_num_queries(12):
        html = client.get(url, {"m": world.a.code}).content.decode()
    assert "2024 ¦" in html and "2023 ¦" not in html
    assert "2024: a new definition of a social dwelling" in html
    # Another municipality's series does not break.
    html = client.get(url, {"m": world.b.code}).content.decode()
    assert "¦" not in html

    profile = reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})
    with django_assert_max_num_queries(12):
        html = client.get(profile).content.decode()
    assert "2024 ¦:" in html
    assert "Sociālie dzīvokļi, 2024: a new definition of a social dwelling" in html
    # SIZE (POPULATION only) does not break with SOCIAL: one mark, in the SOC row's trend.
    assert html.count("2024 ¦:") == 3  # the table's trend cell, the sparkline's label and its words
    report = reverse("comparisons:report", kwargs={"network": "T", "code": world.a.code})
    assert "a new definition of a social dwelling" in client.get(report).content.decode()


def test_a_break_of_an_item_in_two_indicators_marks_both(world):
    dashboard_data(world)
    _break(world, "POPULATION", "2024", "the 2024 census")
    client = world.client("anonymous")
    html = client.get(reverse("comparisons:profile", kwargs={"network": "T", "code": world.a.code})).content.decode()
    assert html.count("2024 ¦:") == 6  # SOC and SIZE: table cell, sparkline label and words each
    size = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "SIZE"})
    assert "2024: the 2024 census" in client.get(size, {"m": world.a.code}).content.decode()
    cost = reverse("comparisons:indicator", kwargs={"network": "T", "indicator": "COST"})
    assert "¦" not in client.get(cost, {"m": world.a.code}).content.decode()


# --- footnotes beside the value in the form and the review -----------------------------------------


def test_a_footnote_is_shown_read_only_in_the_form_and_the_review(world):
    from indicators.models import Submission
    from indicators.tests.factories import SubmissionFactory, ValueFactory, data_round

    round_ = data_round(world)
    submission = SubmissionFactory(round=round_, municipality=world.a, status=Submission.Status.SUBMITTED)
    ValueFactory(
        submission=submission,
        item=DataItem.objects.get(code="DWELLINGS"),
        number=12,
        footnote="provisional figure of the office",
    )
    form = reverse("indicators:submission_form", args=[round_.pk, world.a.code])
    html = world.client("staff_a").get(form).content.decode()
    assert "provisional figure of the office" in html and "entry-footnote" in html
    review = reverse("indicators:submission_review", args=[submission.pk])
    html = world.client("coordinator").get(review).content.decode()
    assert "provisional figure of the office" in html
    assert Value.objects.filter(footnote="provisional figure of the office").count() == 1


def test_the_admin_lists_breaks_with_their_history(world, items):
    from indicators.services.periods import period_get_or_create

    brk = SeriesBreak.objects.create(
        item=items[0],
        municipality=world.a,
        period=period_get_or_create(label="2021"),
        note="n",
    )
    client = world.client("admin")
    assert client.get(reverse("admin:indicators_seriesbreak_changelist")).status_code == 200
    assert client.get(reverse("admin:indicators_seriesbreak_change", args=[brk.pk])).status_code == 200
    assert client.get(reverse("admin:indicators_seriesbreak_history", args=[brk.pk])).status_code == 200
