"""Templates built to exhaust the server or to trip the reader, sent through the upload.

A downloaded template with one cell far away (reading it cell by cell would walk a million empty
rows), a sheet that claims the whole grid, and cells no spreadsheet program writes there (a
5,000-digit number, NaN, a formula, an error value, a date where a number belongs). Each is
answered quickly, with a message that names the cell, never with a 500.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from indicators import selectors
from indicators.models import Submission
from indicators.services import excel
from indicators.services.excel import EXPLANATION_COLUMN
from indicators.tests.factories import data_round
from indicators.tests.test_excel import rows_by_code

SHEET = "xl/worksheets/sheet1.xml"
ROOT = Path(__file__).resolve().parents[2]
SETTINGS = "benchlearning.settings"
# What a person waits for at most, and what one upload may add to a server process.
ANSWER_SECONDS = 10
GROWTH_MB = 300


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def round_(world):
    return data_round(world)


@pytest.fixture
def template(world, round_) -> bytes:
    response = world.client("staff_a").get(reverse("indicators:excel_template", args=[round_.pk, world.a.code]))
    assert response.status_code == 200
    return response.content


def post(world, round_, content: bytes):
    upload = io.BytesIO(content)
    upload.name = "template.xlsx"
    url = reverse("indicators:excel_upload", args=[round_.pk, world.a.code])
    return world.client("staff_a").post(url, {"file": upload})


def with_cells(content: bytes, cells: dict[str, object]) -> bytes:
    """The template with cells set as a person (or openpyxl) would set them."""
    workbook = load_workbook(io.BytesIO(content))
    for ref, value in cells.items():
        workbook.active[ref] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_part(content: bytes, part: str, edit: Callable[[str], str]) -> bytes:
    """The template with the XML of one part edited: what no spreadsheet program writes."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                data = edit(data.decode()).encode()
            target.writestr(info.filename, data)
    return out.getvalue()


def with_sheet_xml(content: bytes, edit: Callable[[str], str]) -> bytes:
    return with_part(content, SHEET, edit)


def with_cell_xml(content: bytes, ref: str, xml: str) -> bytes:
    """The template with the (empty) cell `ref` replaced by `xml`."""

    def edit(sheet: str) -> str:
        edited, count = re.subn(rf'<c r="{ref}"[^>]*/>', xml, sheet)
        assert count == 1, f"no empty cell {ref} in the template"
        return edited

    return with_sheet_xml(content, edit)


def row_of(content: bytes, code: str) -> int:
    return rows_by_code(load_workbook(io.BytesIO(content)).active)[code]


def parse_in_fresh_process(world, round_, content: bytes) -> dict:
    """Read `content` as the upload does, in a process of its own: its peak memory is the read's.

    The process may not grow past a gigabyte more (it fails with MemoryError instead) so that a
    reader without bounds fails the test instead of taking the machine's memory.
    """
    submission = Submission.objects.select_related("round__network", "round__period", "municipality").get(
        round=round_, municipality=world.a
    )
    arguments = {
        "submission": submission,
        "content": content,
        "items": selectors.round_items(round=round_),
        "values": selectors.submission_values(submission=submission),
    }
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", SETTINGS)}
    try:
        completed = subprocess.run(  # noqa: S603 - this interpreter with our own script
            [sys.executable, "-c", CHILD],
            input=pickle.dumps(arguments),
            capture_output=True,
            cwd=ROOT,
            env=environment,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("reading the upload took more than 120 s")
    assert completed.returncode == 0, completed.stderr.decode()[-3000:]
    return json.loads(completed.stdout.decode().strip().splitlines()[-1])


CHILD = """
import json, pickle, resource, sys, time
import django
django.setup()
from indicators.services import excel

arguments = pickle.loads(sys.stdin.buffer.read())
with open("/proc/self/status") as status:
    size = next(int(line.split()[1]) for line in status if line.startswith("VmSize:")) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + 1024**3, resource.RLIM_INFINITY))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
try:
    excel.upload_parse(**arguments)
    outcome = "preview"
except excel.TemplateRejected:
    outcome = "refused"
except MemoryError:
    outcome = "out of memory"
seconds = time.monotonic() - start
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"outcome": outcome, "seconds": seconds, "grown_mb": grown}))
"""

FAR_ROW = 1_048_576  # Excel's last row

FAR_CELL = f'<row r="{FAR_ROW}"><c r="H{FAR_ROW}" t="inlineStr"><is><t>x</t></is></c></row>'

SPARSE = {
    "one cell at H1048576": lambda t: with_cells(t, {f"H{FAR_ROW}": "x"}),
    "one cell at XFD1": lambda t: with_cells(t, {"XFD1": "x"}),
    "a dimension claiming A1:XFD1048576": lambda t: with_sheet_xml(
        t, lambda s: re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:XFD{FAR_ROW}"/>', s)
    ),
    "no dimension, one cell at H1048576": lambda t: with_sheet_xml(
        t,
        lambda s: re.sub(r'<dimension ref="[^"]*"\s*/>', "", s).replace("</sheetData>", FAR_CELL + "</sheetData>"),
    ),
    "an understated dimension, one cell at H1048576": lambda t: with_sheet_xml(
        t,
        lambda s: s.replace("</sheetData>", FAR_CELL + "</sheetData>"),
    ),
}


@pytest.mark.parametrize("case", SPARSE)
def test_a_sparse_sheet_is_refused_quickly_and_clearly(world, round_, template, case):
    content = SPARSE[case](template)
    assert len(content) < 64 * 1024  # a small file on the wire
    start = time.monotonic()
    response = post(world, round_, content)
    seconds = time.monotonic() - start
    assert response.status_code == 400
    page = response.content.decode()
    assert "The sheet has cells as far as" in page and "more than a template of this round can hold" in page
    assert seconds < ANSWER_SECONDS, f"the upload took {seconds:.1f} s"


@pytest.mark.parametrize("case", SPARSE)
def test_reading_a_sparse_sheet_takes_little_time_and_memory(world, round_, template, case):
    measured = parse_in_fresh_process(world, round_, SPARSE[case](template))
    assert measured["outcome"] == "refused", measured
    assert measured["seconds"] < ANSWER_SECONDS, measured
    assert measured["grown_mb"] < GROWTH_MB, measured


def test_the_real_template_still_reads_in_a_fresh_process(world, round_, template):
    filled = with_cells(template, {f"F{row_of(template, 'DWELLINGS')}": 41})
    measured = parse_in_fresh_process(world, round_, filled)
    assert measured["outcome"] == "preview", measured
    assert measured["grown_mb"] < GROWTH_MB, measured


HUGE = "9" * 5000


@pytest.mark.parametrize(
    "marker",
    [
        f'<c r="A1" t="inlineStr"><is><t>benchlearning-template:{HUGE}:0</t></is></c>',
        f'<c r="A1" t="inlineStr"><is><t>benchlearning-template:SUBMISSION:{HUGE}</t></is></c>',
        f'<c r="A1"><v>{HUGE}</v></c>',
        '<c r="A1"><v>NaN</v></c>',
        '<c r="A1"><f>"benchlearning-template:"&amp;"1:0"</f><v>benchlearning-template:1:0</v></c>',
        '<c r="A1" t="e"><v>#REF!</v></c>',
    ],
    ids=["huge submission", "huge version", "huge number", "NaN", "formula", "error value"],
)
def test_a_marker_cell_that_no_template_holds_is_a_clear_error(world, round_, template, marker):
    submission = Submission.objects.get(round=round_, municipality=world.a)
    marker = marker.replace("SUBMISSION", str(submission.pk))
    content = with_sheet_xml(template, lambda s: re.sub(r'<c r="A1".*?</c>', marker, s, count=1))
    response = post(world, round_, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Cell A1 does not identify a template downloaded from the portal" in page
    assert HUGE not in page


NUMBER_CELLS = {
    # case: (the cell's type attribute, its content, what the page says)
    "a 5,000-digit number": ("n", f"<v>{HUGE}</v>", "the number is too large"),
    "a number beyond any float": ("n", "<v>1E+400</v>", "the number is too large"),
    "NaN": ("n", "<v>NaN</v>", "is not a number"),
    "inf": ("n", "<v>inf</v>", "is not a number"),
    "-Infinity": ("n", "<v>-Infinity</v>", "is not a number"),
    "a formula": ("n", "<f>SUM(1,2)</f><v>3</v>", "holds a formula"),
    "a shared formula": ("n", '<f t="shared" si="0"/><v>3</v>', "holds a formula"),
    "an error value": ("e", "<v>#DIV/0!</v>", "holds the error value #DIV/0!"),
    "a boolean": ("b", "<v>1</v>", "must hold a number"),
    "an ISO date": ("d", "<v>2024-01-01T00:00:00</v>", "holds a date"),
    "a shared string that is not there": ("s", f"<v>{HUGE}</v>", "cannot be read"),
    "5,000 digits as text": ("inlineStr", f"<is><t>{HUGE}</t></is>", "the number is too large"),
}


@pytest.mark.parametrize("case", NUMBER_CELLS)
def test_a_value_cell_no_number_fits_is_a_problem_of_that_cell(world, round_, template, case):
    data_type, body, message = NUMBER_CELLS[case]
    ref = f"F{row_of(template, 'DWELLINGS')}"
    response = post(world, round_, with_cell_xml(template, ref, f'<c r="{ref}" t="{data_type}">{body}</c>'))
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<tr class="excel-problem"><td>{ref}</td>' in page
    assert message in page
    assert HUGE not in page  # the cell's content is not echoed in full


def test_a_date_typed_into_a_value_cell_is_a_problem_of_that_cell(world, round_, template):
    import datetime

    ref = f"F{row_of(template, 'DWELLINGS')}"
    response = post(world, round_, with_cells(template, {ref: datetime.date(2024, 5, 1)}))
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<tr class="excel-problem"><td>{ref}</td>' in page and "holds a date" in page


def test_a_formula_in_an_explanation_is_a_problem_of_that_cell(world, round_, template):
    row = row_of(template, "DWELLINGS")
    ref = f"{'ABCDEFGH'[EXPLANATION_COLUMN - 1]}{row}"
    content = with_cell_xml(template, ref, f'<c r="{ref}" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>')
    response = post(world, round_, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<tr class="excel-problem"><td>{ref}</td>' in page and "holds a formula" in page


def test_a_few_rows_added_below_are_problems_of_their_cells(world, round_, template):
    last = max(rows_by_code(load_workbook(io.BytesIO(template)).active).values())
    ref = f"F{last + 3}"
    response = post(world, round_, with_cells(template, {ref: 5}))
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<tr class="excel-problem"><td>{ref}</td>' in page and "do not add rows to the template" in page


def test_rows_far_below_the_template_are_refused(world, round_, template):
    # The template has a row for each data item at most; a few more are read (and are problems).
    last_read = excel.HEADER_ROW + len(selectors.round_items(round=round_)) + excel.ADDED_ROWS_READ
    response = post(world, round_, with_cells(template, {f"F{last_read}": 5}))
    assert response.status_code == 400
    assert f'<tr class="excel-problem"><td>F{last_read}</td>' in response.content.decode()
    response = post(world, round_, with_cells(template, {f"F{last_read + 1}": 5}))
    assert response.status_code == 400
    # As far as H…: the sheet's declared size reaches from A1 to the template's last column.
    assert f"{last_read + 1}: more than a template of this round can hold" in response.content.decode()


def test_notes_beside_the_template_are_ignored(world, round_, template):
    row = row_of(template, "DWELLINGS")
    content = with_cells(template, {f"F{row}": 41, f"J{row}": "checked by Anna"})
    response = post(world, round_, content)
    assert response.status_code == 200
    assert response.content.decode().count('class="excel-change"') == 1


def test_a_sheet_that_unpacks_past_what_the_template_can_hold_is_refused(world, round_, template):
    items = selectors.round_items(round=round_)
    limit = excel.unpacked_limit(items=len(items))
    padding = f"<!--{' ' * limit}-->"
    content = with_sheet_xml(template, lambda s: s.replace("<sheetData>", padding + "<sheetData>"))
    assert len(content) < excel.MAX_UPLOAD_BYTES
    response = post(world, round_, content)
    assert response.status_code == 400
    assert "more than a template of this round can hold" in response.content.decode()


def test_value_cells_as_spreadsheet_programs_write_them_still_read(world, round_, template):
    rows = rows_by_code(load_workbook(io.BytesIO(template)).active)
    content = with_cells(
        template,
        {
            f"F{rows['DWELLINGS']}": 41.0,
            f"F{rows['AREA']}": 0.5,
            f"F{rows['QUEUE']}": "1 234",
            f"H{rows['QUEUE']}": 2024,
        },
    )
    response = post(world, round_, content)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="excel-change"') == 3
    assert "<td>2024</td>" in page  # a number in an explanation cell is its text


def test_a_workbook_of_too_many_xml_elements_is_refused(world, round_, template):
    """Within the size bound, a styles part of nothing but empty styles would still take seconds."""
    items = len(selectors.round_items(round=round_))
    count = excel.MAX_ELEMENTS_BASE + (excel.HEADER_ROW + items) * excel.MAX_ELEMENTS_ROW
    styles = '<cellStyleXfs count="1">'
    content = with_part(template, "xl/styles.xml", lambda s: s.replace(styles, styles + "<xf/>" * count, 1))
    assert len(content) < 64 * 1024
    start = time.monotonic()
    response = post(world, round_, content)
    assert response.status_code == 400
    assert "The workbook holds more than a template of this round can hold." in response.content.decode()
    assert time.monotonic() - start < ANSWER_SECONDS


def as_excel_saves_it(content: bytes) -> bytes:
    """The template with its texts in a shared-string table, as Excel and LibreOffice write them
    (openpyxl writes them inline); one of them in runs with a phonetic guide."""
    strings: list[str] = []

    def shared(match: re.Match) -> str:
        strings.append(match["text"])
        return f'<c r="{match["ref"]}"{match["style"]} t="s"><v>{len(strings) - 1}</v></c>'

    source = zipfile.ZipFile(io.BytesIO(content))
    sheet = re.sub(
        r'<c r="(?P<ref>[A-Z]+[0-9]+)"(?P<style>(?: s="[0-9]+")?) t="inlineStr"><is><t>(?P<text>[^<]*)</t></is></c>',
        shared,
        source.read(SHEET).decode(),
    )
    items = "".join(f"<si><t>{text}</t></si>" for text in strings)
    items += '<si><r><t>Ru</t></r><r><rPr><b/></rPr><t>ns</t></r><rPh sb="0" eb="1"><t>x</t></rPh></si>'
    table = f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{items}</sst>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == SHEET:
                data = sheet.replace(
                    "</sheetData>", f'<row r="60"><c r="J60" t="s"><v>{len(strings)}</v></c></row></sheetData>'
                ).encode()
            elif info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/sharedStrings" Target="/xl/sharedStrings.xml"/></Relationships>',
                )
            target.writestr(info.filename, data)
        target.writestr("xl/sharedStrings.xml", table)
    return out.getvalue()


def test_a_template_saved_with_shared_strings_reads_as_before(world, round_, template):
    rows = rows_by_code(load_workbook(io.BytesIO(template)).active)
    filled = with_cells(
        template,
        {
            f"F{rows['DWELLINGS']}": 41,
            f"H{rows['DWELLINGS']}": "Jauns sociālais nams",
            f"G{rows['QUEUE']}": "netiek uzskaitīts",
        },
    )
    workbook = load_workbook(io.BytesIO(as_excel_saves_it(filled)))  # a workbook openpyxl reads too
    assert workbook.active[f"H{rows['DWELLINGS']}"].value == "Jauns sociālais nams"
    response = post(world, round_, as_excel_saves_it(filled))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="excel-change"') == 2
    assert "Jauns sociālais nams" in page and "netiek uzskaitīts" in page


def test_a_full_round_with_the_longest_texts_is_within_the_bounds(world, round_):
    """200 data items (the bench's round) with the longest texts the web form takes."""
    from indicators.tests.factories import DataItemFactory, SubmissionFactory, ValueFactory

    submission = SubmissionFactory(round=round_, municipality=world.a)
    for n in range(200 - len(selectors.round_items(round=round_))):
        item = DataItemFactory(code=f"LONG_{n:03d}", name_en="Nosaukums ā" * 27, instructions_en="Norādījumi ē " * 150)
        item.networks.add(world.network)
        ValueFactory(
            submission=submission,
            item=item,
            is_missing=True,
            number=None,
            missing_reason="ū" * 1000,
            explanation=("Paskaidrojums š " * 250).strip(),
        )
    items = selectors.round_items(round=round_)
    assert len(items) == 200
    content = world.client("staff_a").get(reverse("indicators:excel_template", args=[round_.pk, world.a.code])).content
    unpacked = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(content)).infolist())
    assert unpacked < excel.unpacked_limit(items=len(items)) / 4  # room for what Excel adds
    measured = parse_in_fresh_process(world, round_, content)
    assert measured["outcome"] == "preview", measured
    assert measured["seconds"] < ANSWER_SECONDS and measured["grown_mb"] < GROWTH_MB, measured
    response = post(world, round_, content)
    assert response.status_code == 200
    assert "The file holds no change against the saved values." in response.content.decode()
