"""The Excel round trip of one submission: a pre-filled template, then upload → preview → commit.

The template has one sheet. Column A (hidden) holds the data item codes and, in A1, the
submission and the version it was downloaded at; the sheet is protected so that only the value,
"why missing" and explanation cells can be changed. Uploading reads those cells back, checks
every one with the same hard check as the web form and lists every change and every problem by
cell before anything is saved. Only what a template of the round can hold is read: a larger
workbook is refused unread (see "reading an upload" below). The commit goes through
`submission_values_save` with the version the template was downloaded at, so a template older
than the last save is refused as a whole.
"""

from __future__ import annotations

import datetime
import io
import math
import posixpath
import re
import zipfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.styles.numbers import builtin_format_code, is_date_format
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.functions import iterparse

from networks.tabular import XLSX_MAX_UNPACKED_BYTES, parse_decimal, xlsx_too_large

from ..models import DataItem, Submission, Value
from ..validation import Checked, check_value_hard
from .values import ValueInput, submission_values_save

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MARKER = "benchlearning-template"
# At most 18 digits: any primary key or version fits, and int() of more is not attempted.
MARKER_RE = re.compile(rf"^{MARKER}:(?P<submission>[0-9]{{1,18}}):(?P<version>[0-9]{{1,18}})$")
HEADER_ROW = 5
COLUMNS = ("code", "name", "unit", "instructions", "previous", "value", "missing_reason", "explanation")
VALUE_COLUMN = COLUMNS.index("value") + 1
MISSING_COLUMN = COLUMNS.index("missing_reason") + 1
EXPLANATION_COLUMN = COLUMNS.index("explanation") + 1
EDITABLE_FILL = PatternFill("solid", fgColor="FFF9E0")
# Numbers a Value can hold (38 digits, 15 after the point).
NUMBER_LIMIT = Decimal("1e23")


class TemplateRejected(Exception):
    """The uploaded file is not a usable template for this submission; nothing was read."""


@dataclass(frozen=True)
class CellProblem:
    cell: str
    item_code: str
    message: str


@dataclass(frozen=True)
class Change:
    item_id: int
    item_code: str
    item_name: str
    old: str
    new: str
    given: ValueInput


@dataclass
class Preview:
    submission_id: int
    version: int
    changes: list[Change] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    unchanged: int = 0
    stale: bool = False

    @property
    def may_commit(self) -> bool:
        return bool(self.changes) and not self.problems and not self.stale

    def to_session(self) -> dict:
        """What the commit needs, as JSON for the session (numbers as text: exact)."""
        return {
            "submission": self.submission_id,
            "version": self.version,
            "values": {
                str(change.item_id): [
                    None if change.given.number is None else str(change.given.number),
                    change.given.is_missing,
                    change.given.missing_reason,
                    change.given.explanation,
                ]
                for change in self.changes
            },
        }


def _display(value: Value | None) -> str:
    if value is None:
        return ""
    if value.is_missing:
        return _("missing: %(reason)s") % {"reason": value.missing_reason}
    return number_format(value.number.normalize())


def _display_input(given: ValueInput) -> str:
    if given.is_empty:
        return ""
    if given.is_missing:
        return _("missing: %(reason)s") % {"reason": given.missing_reason}
    return number_format(given.number.normalize())


def _text_cell(sheet, row: int, column: int, text: str):
    cell = sheet.cell(row=row, column=column)
    if text:
        cell.value = text
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
    return cell


def _safe(text: str) -> str:
    """Text that Excel must not read as a formula (= + - @ at the start)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def template_build(
    *, submission: Submission, items: list[DataItem], values: dict[int, Value], previous: dict[int, Value]
) -> bytes:
    """The XLSX template of `submission` (items in the form's order, current and last values)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Data")[:31]
    round_ = submission.round
    sheet["A1"] = f"{MARKER}:{submission.pk}:{submission.version}"
    sheet["B1"] = _safe(f"{submission.municipality.name} — {round_.network.code} {round_.period.label}")
    sheet["B1"].font = Font(bold=True, size=14)
    if round_.is_demo:
        sheet["B2"] = _("Demo data: these figures are invented for the demonstration.")
        sheet["B2"].font = Font(bold=True, color="9C5700")
    sheet["B3"] = _(
        "Fill in the yellow cells only: the value, or the reason why it is missing, and an explanation if you "
        "wish. Numbers may use a decimal comma. Then upload this file on the submission page; you will see "
        "every change before it is saved."
    )
    sheet["B3"].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=3, start_column=2, end_row=3, end_column=len(COLUMNS))
    sheet.row_dimensions[3].height = 48
    headers = (
        _("code"),
        _("data item"),
        _("unit"),
        _("instructions"),
        _("last period"),
        _("value"),
        _("why missing"),
        _("explanation"),
    )
    for column, header in enumerate(headers, start=1):
        cell = sheet.cell(row=HEADER_ROW, column=column, value=header)
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEFGH", (14, 45, 12, 50, 14, 16, 30, 40), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.column_dimensions["A"].hidden = True
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)

    row = HEADER_ROW
    for item in items:
        if item.source == DataItem.Source.OFFICIAL and item.pk not in values:
            continue  # official figures are loaded by the coordinator, not entered
        row += 1
        value = values.get(item.pk)
        last = previous.get(item.pk)
        sheet.cell(row=row, column=1, value=item.code)
        sheet.cell(row=row, column=2, value=_safe(item.display_name))
        sheet.cell(row=row, column=3, value=_safe(item.unit))
        sheet.cell(row=row, column=4, value=_safe(item.display_instructions)).alignment = Alignment(wrap_text=True)
        if last is not None and not last.is_missing:
            sheet.cell(row=row, column=5, value=float(last.number))
        editable = item.source != DataItem.Source.OFFICIAL
        value_cell = sheet.cell(row=row, column=VALUE_COLUMN)
        if value is not None and not value.is_missing:
            # Stored exactly; Excel holds 15 significant digits, more is kept as text.
            number = value.number.normalize()
            value_cell.value = float(number) if len(number.as_tuple().digits) <= 15 else str(number)
        # Read back on upload, so kept exactly: text cells, never formulas (no quote prefix).
        missing_cell = _text_cell(sheet, row, MISSING_COLUMN, value.missing_reason if value else "")
        explanation_cell = _text_cell(sheet, row, EXPLANATION_COLUMN, value.explanation if value else "")
        if editable:
            for cell in (value_cell, missing_cell, explanation_cell):
                cell.protection = Protection(locked=False)
                cell.fill = EDITABLE_FILL
            low = item.min_value if item.min_value is not None else -NUMBER_LIMIT
            high = item.max_value if item.max_value is not None else NUMBER_LIMIT
            validation = DataValidation(
                type="decimal",
                operator="between",
                formula1=str(low.normalize()),
                formula2=str(high.normalize()),
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_("Not allowed"),
                error=_("Enter a number from %(min)s to %(max)s.")
                % {"min": number_format(low.normalize()), "max": number_format(high.normalize())},
            )
            sheet.add_data_validation(validation)
            validation.add(value_cell)
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widths may be changed, nothing else
    for column in range(1, len(COLUMNS) + 1):
        sheet.cell(row=HEADER_ROW, column=column).protection = Protection(locked=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_filename(*, submission: Submission) -> str:
    round_ = submission.round
    return f"{round_.network.code}_{round_.period.label}_{submission.municipality.code}.xlsx"


# --- reading an upload, bounded by what the template can hold --------------------------------
#
# A workbook is a zip of XML: a few kilobytes on the wire can declare a million rows, and a reader
# that walks the grid cell by cell then spends half a minute and gigabytes on emptiness. The upload
# reads only what a template of the round can hold, as a stream, and refuses the rest unread.
#
# The reader is a small one of its own rather than openpyxl's: even in read-only mode openpyxl
# builds an object for every cell style and shared string (27 s and 570 MB for a 4 MB styles part
# of empty styles), parses a whole sheet that has no <dimension> before the first cell is read,
# and its cell reader converts numbers with int() (ValueError past 4,300 digits) and gives up at
# the first bad cell. This one holds one row at a time, counts the XML elements it parses, and
# leaves the judgement of each cell to the caller, who names the cell.

# A person may type a few rows below the template (each is reported as a problem of its cells);
# a sheet reaching further down is not a template, and reading stops at this row either way.
ADDED_ROWS_READ = 100
# Notes right of the template's columns are ignored; a sheet reaching past column Z is refused.
MAX_COLUMN = 26
# The most a template of the round may unpack to: a base plus an allowance per row (the header
# rows and one row per data item). A template unpacks to some 20 kB plus a few hundred bytes a
# row; Excel or LibreOffice add styles and a theme of some 100 kB when they save it. The texts of
# a row (name, instructions, why missing, explanation) are a few thousand characters at most:
# 32 kB holds them with room to spare. This bounds the memory of a read (the shared strings are
# held; the sheet is read one row at a time).
UNPACKED_BASE_BYTES = 1024 * 1024
UNPACKED_ROW_BYTES = 32 * 1024
# The most XML elements a read may parse, likewise. Parsing costs two to four microseconds an
# element here, so a megabyte of nothing but tiny elements (<xf/>: 200,000 of them) would take
# most of a second, and a few megabytes seconds: the element count, not the size, bounds the time.
# A template has some 30 elements a row and the styles Excel writes a few hundred: ten times that
# is allowed. At 200 data items that is 111,500 elements, a few tenths of a second.
MAX_ELEMENTS_BASE = 50_000
MAX_ELEMENTS_ROW = 300
# What of a cell's content a message repeats (a cell can hold megabytes).
SHOWN_CHARS = 40
# Excel's limit for a number format; a longer one is not looked at (its regular expressions would
# take quadratic time on it).
MAX_FORMAT_CHARS = 255

_CELL_REF = re.compile(r"^([A-Za-z]{1,3})([0-9]{1,7})$")
# A number as XML holds it (no decimal comma, no thousands separator, no NaN nor infinity).
_XML_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


def unpacked_limit(*, items: int) -> int:
    """The most a template of a round with `items` data items may unpack to (bytes)."""
    return UNPACKED_BASE_BYTES + (HEADER_ROW + items) * UNPACKED_ROW_BYTES


class _Budget:
    """The XML elements a read may still parse (`MAX_ELEMENTS_BASE`, `MAX_ELEMENTS_ROW`)."""

    def __init__(self, *, items: int):
        self.left = MAX_ELEMENTS_BASE + (HEADER_ROW + items) * MAX_ELEMENTS_ROW

    @staticmethod
    def exhausted() -> TemplateRejected:
        return TemplateRejected(
            _(
                "The workbook holds more than a template of this round can hold. Download a new template and enter "
                "the values in it."
            )
        )


@dataclass(frozen=True)
class _Cell:
    """A cell as the sheet's XML holds it, before anything is made of it.

    kind: empty, text, number (`text` is the number as written), date (`text` is the date as
    ISO text), bool, formula, error (`text` is the error value) or unreadable.
    """

    kind: str
    text: str = ""


_EMPTY = _Cell("empty")


def _too_much(cell: str) -> TemplateRejected:
    return TemplateRejected(
        _(
            "The sheet has cells as far as %(cell)s: more than a template of this round can hold. Download a new "
            "template and enter the values in it."
        )
        % {"cell": cell}
    )


def _unreadable() -> TemplateRejected:
    return TemplateRejected(_("The file is not a readable XLSX workbook."))


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]}…"


def _local(tag: str) -> str:
    """An element's name without its namespace (transitional and strict OOXML alike)."""
    return tag.rpartition("}")[2]


def _stream(source, wanted: set[str], budget: _Budget, *, bounds: frozenset[str] = frozenset(), until: str = ""):
    """(event, element, parent's name) for the elements of an XML part named in `wanted`, each
    whole at its end ("end"), and for those named in `bounds` at their start and end (attributes
    only: "start", "end"), up to the end of the element named `until`. Everything else is dropped
    as soon as it is parsed: the part is never held whole, whatever it holds. Names are compared
    without their namespace (transitional and strict OOXML alike)."""
    stack: list[tuple[object, str]] = []
    names: dict[str, str] = {}
    inside = 0  # how many wanted elements are open: their content is kept for them
    left = budget.left
    try:
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                tag = element.tag
                name = names.get(tag)
                if name is None:
                    name = names[tag] = tag.rpartition("}")[2]
                if name in bounds:
                    yield "start", element, stack[-1][1] if stack else ""
                stack.append((element, name))
                if name in wanted:
                    inside += 1
                continue
            element, name = stack.pop()
            left -= 1
            if left < 0:
                raise budget.exhausted()
            if name in wanted:
                inside -= 1
            if name in wanted or name in bounds:
                yield "end", element, stack[-1][1] if stack else ""
            if name == until:
                return
            if not inside and stack:
                stack[-1][0].remove(element)
    finally:
        budget.left = left


def _relationships(archive: zipfile.ZipFile, part: str, budget: _Budget) -> dict[str, tuple[str, str]]:
    """The relationships of a part: id → (type without its namespace, path of the target)."""
    folder, name = posixpath.split(part)
    path = posixpath.join(folder, "_rels", f"{name}.rels")
    try:
        archive.getinfo(path)
    except KeyError:
        return {}
    relationships = {}
    with archive.open(path) as source:
        for _event, element, _parent in _stream(source, {"Relationship"}, budget):
            target = element.get("Target", "")
            if element.get("TargetMode") == "External" or not target:
                continue
            target = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            kind = element.get("Type", "").rpartition("/")[2]
            relationships[element.get("Id", "")] = (kind, posixpath.normpath(target))
    return relationships


def _string_text(node) -> str:
    """The text of a shared or inline string: its runs, without the phonetic guide (<rPh>)."""
    parts = []
    for child in node:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(run.text or "" for run in child if _local(run.tag) == "t")
    return "".join(parts)


def _date_styles(source, budget: _Budget) -> set[int]:
    """The cell styles (their index in <cellXfs>) whose number format is a date or a time."""
    custom: dict[str, str] = {}
    dates: set[int] = set()
    verdicts: dict[str, bool] = {}
    index = 0
    for _event, element, parent in _stream(source, {"numFmt", "xf"}, budget):
        if _local(element.tag) == "numFmt":
            custom[element.get("numFmtId", "")] = element.get("formatCode", "")
            continue
        if parent != "cellXfs":
            continue  # <cellStyleXfs> holds named styles, not the cells' own
        number_format = element.get("numFmtId", "0")
        if number_format not in verdicts:
            if number_format in custom:
                code = custom[number_format]
            elif number_format.isascii() and number_format.isdigit() and len(number_format) <= 4:
                code = builtin_format_code(int(number_format))
            else:
                code = None
            verdicts[number_format] = bool(code) and len(code) <= MAX_FORMAT_CHARS and is_date_format(code)
        if verdicts[number_format]:
            dates.add(index)
        index += 1
    return dates


@dataclass
class _Workbook:
    """What reading the first sheet's cells needs from the rest of the workbook."""

    sheet: str
    shared_strings: list[str]
    date_styles: set[int]
    epoch: datetime.datetime


def _workbook(archive: zipfile.ZipFile, budget: _Budget) -> _Workbook:
    package = _relationships(archive, "", budget)
    document = next((path for kind, path in package.values() if kind == "officeDocument"), None)
    if document is None:
        raise _unreadable()
    relationships = _relationships(archive, document, budget)
    sheet, epoch = None, WINDOWS_EPOCH
    with archive.open(document) as source:
        for _event, element, _parent in _stream(source, {"workbookPr", "sheet"}, budget):
            if _local(element.tag) == "workbookPr":  # comes before the sheets
                epoch = MAC_EPOCH if element.get("date1904") in ("1", "true") else WINDOWS_EPOCH
                continue
            rid = next((value for key, value in element.attrib.items() if _local(key) == "id"), "")
            kind, path = relationships.get(rid, ("", ""))
            if kind == "worksheet":  # the first one: a chart sheet has no cells
                sheet = path
                break
    if sheet is None:
        raise _unreadable()
    shared_strings: list[str] = []
    date_styles: set[int] = set()
    for kind, path in relationships.values():
        if kind == "sharedStrings":
            with archive.open(path) as source:
                shared_strings = [
                    _string_text(element).replace("x005F_", "")  # as openpyxl reads them
                    for _event, element, _parent in _stream(source, {"si"}, budget)
                ]
        elif kind == "styles":
            with archive.open(path) as source:
                date_styles = _date_styles(source, budget)
    return _Workbook(sheet=sheet, shared_strings=shared_strings, date_styles=date_styles, epoch=epoch)


def _date_text(serial: str, epoch: datetime.datetime) -> str:
    """A date cell's serial number as an ISO date (the text it stands for in a text column)."""
    try:
        moment = from_excel(float(serial), epoch)
    except (ValueError, OverflowError, TypeError):
        return serial
    if isinstance(moment, datetime.datetime) and moment.time() == datetime.time():
        return moment.date().isoformat()
    return moment.isoformat()


def _read_cell(element, book: _Workbook) -> _Cell:
    """What one <c> element holds. A number stays the text it is written as (int() of 5,000
    digits raises, float() of them is infinite)."""
    children = {_local(child.tag): child for child in element}
    if "f" in children:
        return _Cell("formula")
    data_type = element.get("t", "n")
    if data_type == "inlineStr":
        return _Cell("text", _string_text(children["is"])) if "is" in children else _EMPTY
    value = children["v"].text if "v" in children else None
    if not value:
        return _EMPTY
    if data_type == "n":
        style = element.get("s", "0")
        if style.isascii() and style.isdigit() and len(style) <= 9 and int(style) in book.date_styles:
            return _Cell("date", _date_text(value, book.epoch))
        return _Cell("number", value)
    if data_type == "s":
        if value.isascii() and value.isdigit() and len(value) <= 9 and int(value) < len(book.shared_strings):
            return _Cell("text", book.shared_strings[int(value)])
        return _Cell("unreadable")
    if data_type == "str":
        return _Cell("text", value)
    if data_type in ("b", "e", "d"):
        return _Cell({"b": "bool", "e": "error", "d": "date"}[data_type], value)
    return _Cell("unreadable")


def _cell_position(ref: str) -> tuple[int, int]:
    """(row, column) of a reference such as H1048576; ValueError for anything else."""
    match = _CELL_REF.match(ref)
    if not match:
        raise ValueError(f"not a cell reference: {_shown(ref)!r}")
    return int(match[2]), column_index_from_string(match[1].upper())


def _sheet_rows(content: bytes, *, items: int, last_row: int) -> Iterator[tuple[int, dict[int, _Cell]]]:
    """The rows of the workbook's first sheet up to `last_row`: (row number, the cells of the
    template's columns by column number). Rows the file leaves out are left out.

    Raises TemplateRejected for an unreadable file, for one larger than a template of a round of
    `items` data items can be, and for a sheet that declares or holds cells beyond `last_row` or
    `MAX_COLUMN`. Nothing is read past `last_row`, whatever the sheet's declared size
    (<dimension>) says: it may lie, or be missing.
    """
    budget = _Budget(items=items)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            book = _workbook(archive, budget)
            with archive.open(book.sheet) as source:
                number = column = 0
                cells: dict[int, _Cell] = {}
                rows = _stream(source, {"dimension", "c"}, budget, bounds=frozenset({"row"}), until="sheetData")
                for event, element, parent in rows:
                    name = _local(element.tag)
                    if event == "start":  # a row: its cells follow, one by one
                        reference = element.get("r")
                        number = _row_number(reference) if reference is not None else number + 1
                        column, cells = 0, {}
                    elif name == "c" and parent == "row":
                        reference = element.get("r")
                        column = _cell_position(reference)[1] if reference else column + 1
                        if number > last_row or column > MAX_COLUMN:
                            if any(_local(part.tag) in ("v", "f", "is") for part in element):
                                raise _too_much(reference.upper() if reference else _reference(number, column))
                        elif column <= len(COLUMNS):
                            cells[column] = _read_cell(element, book)
                    elif name == "row":
                        if number > last_row:
                            return  # an empty row below the template: reading stops here
                        yield number, cells
                    elif name == "dimension":  # before the rows: a larger sheet is refused unread
                        end = element.get("ref", "").rpartition(":")[2]
                        if _CELL_REF.match(end):
                            row, column = _cell_position(end)
                            if row > last_row or column > MAX_COLUMN:
                                raise _too_much(end.upper())
    except TemplateRejected:
        raise
    except Exception as exc:  # zipfile, the XML parser and bad references raise many kinds
        raise _unreadable() from exc


def _reference(row: int, column: int) -> str:
    return f"{get_column_letter(min(column, 16384))}{row}"


def _row_number(reference: str) -> int:
    if not (reference.isascii() and reference.isdigit() and len(reference) <= 7):
        raise ValueError(f"not a row number: {_shown(reference)!r}")
    return int(reference)


def _not_a_value(cell: _Cell) -> str | None:
    """Why a cell holds nothing a person typed (None: it does)."""
    if cell.kind == "formula":
        return _("This cell holds a formula: enter the value itself.")
    if cell.kind == "error":
        return _("This cell holds the error value %(error)s: enter the value itself.") % {"error": _shown(cell.text)}
    if cell.kind == "unreadable":
        return _("This cell cannot be read: enter its value again.")
    return None


def _text(cell: _Cell) -> str:
    """A readable cell as text (a number as written, without a trailing `.0`)."""
    if cell.kind == "number":
        return re.sub(r"^(-?[0-9]+)\.0+$", r"\1", cell.text)
    if cell.kind == "bool":
        return "TRUE" if cell.text.strip() in ("1", "true") else "FALSE"
    return cell.text.strip()


def _xml_number(text: str) -> Decimal | None:
    """A number cell's value, None when it is not a finite number (NaN, INF, a damaged file)."""
    if not _XML_NUMBER.match(text):
        return None
    try:
        exact = Decimal(text)
    except InvalidOperation:
        return None
    # Excel writes a double with up to 17 digits where the shortest form is what a person typed
    # and sees (0.10000000000000001 for 0.1): that form, unless the double lost the number.
    if len(text) <= 32:
        as_float = float(text)
        if math.isfinite(as_float) and (as_float == 0) == (exact == 0):
            return Decimal(repr(as_float))
    return exact


def _number(item: DataItem, cell: _Cell) -> Checked:
    """The value cell, checked as the web form checks a value (`check_value_hard`)."""
    problem = _not_a_value(cell)
    if problem:
        return Checked(None, problem)
    if cell.kind == "empty":
        return Checked(None)
    if cell.kind == "bool":
        return Checked(None, _("This cell must hold a number."))
    if cell.kind == "date":
        return Checked(None, _("This cell holds a date, not a number."))
    not_a_number = _("%(value)s is not a number")
    if cell.kind == "number":
        number = _xml_number(cell.text)
        if number is None:
            return Checked(None, not_a_number % {"value": repr(_shown(cell.text))})
        return check_value_hard(item, number)
    text = cell.text.strip()
    if len(text) > SHOWN_CHARS:  # checked here so that the message does not repeat all of it
        try:
            return check_value_hard(item, parse_decimal(text))
        except ValueError:
            return Checked(None, not_a_number % {"value": repr(_shown(text))})
    return check_value_hard(item, text)


def _marker_preview(*, submission: Submission, cell: _Cell) -> Preview:
    match = MARKER_RE.match(cell.text.strip()) if cell.kind == "text" else None
    if not match:
        raise TemplateRejected(
            _(
                "Cell A1 does not identify a template downloaded from the portal (the hidden first column is "
                "missing or changed)."
            )
        )
    if int(match["submission"]) != submission.pk:
        raise TemplateRejected(_("This template belongs to another municipality or round."))
    preview = Preview(submission_id=submission.pk, version=int(match["version"]))
    preview.stale = preview.version != submission.version
    return preview


def upload_parse(*, submission: Submission, content: bytes, items: list[DataItem], values: dict[int, Value]) -> Preview:
    """Read an uploaded template; every change and every problem by cell. Saves nothing.

    Only what a template of the round can hold is read (`unpacked_limit`, `MAX_ELEMENTS_BASE`,
    `ADDED_ROWS_READ`, `MAX_COLUMN`): time and memory are bounded whatever the file holds. Raises
    TemplateRejected when the file is not this submission's template at all, or larger than one.
    """
    if len(content) > MAX_UPLOAD_BYTES:
        raise TemplateRejected(
            _("The file is larger than %(max)d MB: this is not a template of the portal.")
            % {"max": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    if xlsx_too_large(content):
        raise TemplateRejected(
            _("The workbook unpacks to more than %(max)d MB: this is not a template of the portal.")
            % {"max": XLSX_MAX_UNPACKED_BYTES // (1024 * 1024)}
        )
    unpacked = _unpacked_bytes(content)
    if unpacked > unpacked_limit(items=len(items)):
        raise TemplateRejected(
            _(
                "The workbook unpacks to %(size)s MB: more than a template of this round can hold. Download a new "
                "template and enter the values in it."
            )
            % {"size": number_format(Decimal(unpacked) / (1024 * 1024), decimal_pos=1)}
        )
    by_code = {item.code: item for item in items if item.source != DataItem.Source.OFFICIAL}
    official = {item.code for item in items if item.source == DataItem.Source.OFFICIAL}
    seen: set[str] = set()
    preview = None
    last_row = HEADER_ROW + len(items) + ADDED_ROWS_READ
    with closing(_sheet_rows(content, items=len(items), last_row=last_row)) as rows:
        for number, cells in rows:
            if preview is None:  # rows come in order: the first one present is row 1, or A1 is empty
                preview = _marker_preview(submission=submission, cell=cells.get(1, _EMPTY) if number == 1 else _EMPTY)
            if number > HEADER_ROW:
                _read_row(preview, number, cells, by_code=by_code, official=official, seen=seen, values=values)
    if preview is None:
        preview = _marker_preview(submission=submission, cell=_EMPTY)
    return preview


def _unpacked_bytes(content: bytes) -> int:
    """What the workbook unpacks to, by its directory (zipfile reads no member past its stated
    size). 0 for a file that is not a zip archive: openpyxl refuses it."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0


def _read_row(
    preview: Preview,
    number: int,
    cells: dict[int, _Cell],
    *,
    by_code: dict[str, DataItem],
    official: set[str],
    seen: set[str],
    values: dict[int, Value],
) -> None:
    """One data row of the sheet into `preview`: a change, an unchanged value or a problem."""
    code_cell = cells.get(1, _EMPTY)
    value_cell = cells.get(VALUE_COLUMN, _EMPTY)
    reason_cell = cells.get(MISSING_COLUMN, _EMPTY)
    explanation_cell = cells.get(EXPLANATION_COLUMN, _EMPTY)
    value_ref = _reference(number, VALUE_COLUMN)
    code = _text(code_cell) if code_cell.kind in ("text", "number") else ""
    if not code:
        filled = any(
            cell.kind != "empty" and (cell.kind != "text" or cell.text.strip())
            for cell in (value_cell, reason_cell, explanation_cell)
        )
        if filled:
            preview.problems.append(
                CellProblem(value_ref, "", _("This row has no data item: do not add rows to the template."))
            )
        return
    if code in official:
        return  # shown for information, locked: the coordinator loads official figures
    item = by_code.get(code)
    if item is None or code in seen:
        shown = _shown(code)
        preview.problems.append(CellProblem(f"A{number}", shown, _("Unknown data item %(code)s.") % {"code": shown}))
        return
    seen.add(code)
    for column, cell in ((MISSING_COLUMN, reason_cell), (EXPLANATION_COLUMN, explanation_cell)):
        problem = _not_a_value(cell)
        if problem:
            preview.problems.append(CellProblem(_reference(number, column), code, problem))
            return
    reason = _text(reason_cell)
    explanation = _text(explanation_cell)
    checked = _number(item, value_cell)
    if checked.error:
        preview.problems.append(CellProblem(value_ref, code, checked.error))
        return
    if checked.number is not None and reason:
        preview.problems.append(
            CellProblem(
                _reference(number, MISSING_COLUMN),
                code,
                _("Give either a value or the reason why it is missing, not both."),
            )
        )
        return
    given = ValueInput(
        number=checked.number,
        is_missing=checked.number is None and bool(reason),
        missing_reason=reason,
        explanation=explanation,
    )
    if given.is_empty and explanation:
        preview.problems.append(
            CellProblem(value_ref, code, _("An explanation needs a value or the reason why the value is missing."))
        )
        return
    current = values.get(item.pk)
    if _unchanged(current, given):
        preview.unchanged += 1
        return
    preview.changes.append(
        Change(
            item_id=item.pk,
            item_code=code,
            item_name=item.display_name,
            old=_display(current),
            new=_display_input(given),
            given=given,
        )
    )


def _unchanged(current: Value | None, given: ValueInput) -> bool:
    if current is None:
        return given.is_empty
    if given.is_empty:
        return False
    return (
        current.is_missing == given.is_missing
        and (given.is_missing or current.number == given.number)
        and (current.missing_reason if current.is_missing else "") == (given.missing_reason if given.is_missing else "")
        and current.explanation == given.explanation
    )


def upload_commit(*, submission: Submission, user, data: dict) -> list[int]:
    """Save a previewed upload (`Preview.to_session()`), all or nothing.

    Raises ConcurrentEditError when the submission was saved after the template was downloaded.
    """
    values = {
        int(item_id): ValueInput(
            number=None if number is None else Decimal(number),
            is_missing=is_missing,
            missing_reason=reason,
            explanation=explanation,
        )
        for item_id, (number, is_missing, reason, explanation) in data["values"].items()
    }
    return submission_values_save(
        submission=submission, user=user, values=values, expected_version=int(data["version"])
    )


__all__ = [
    "MAX_UPLOAD_BYTES",
    "CellProblem",
    "Change",
    "Preview",
    "TemplateRejected",
    "template_build",
    "template_filename",
    "unpacked_limit",
    "upload_commit",
    "upload_parse",
]
