"""A bounded, streaming reader of an XLSX workbook's first sheet, for any upload or import.

A workbook is a zip of XML: a few kilobytes on the wire can declare a million rows, and a reader
that walks the grid cell by cell then spends half a minute and gigabytes on emptiness. This one
reads what its caller allows, as a stream, and refuses the rest unread: at most `elements` XML
elements parsed (the time of a read), no cell below `last_row` or right of `max_column` (such a
cell, or a <dimension> declaring one, raises `CellsTooFar` before any row past the limit is
read). It holds one row at a time, and leaves the judgement of each cell to the caller, who names
the cell: a number stays the text it is written as.

It is not openpyxl's reader: even in read-only mode openpyxl builds an object for every cell style
and shared string (27 s and 570 MB for a 4 MB styles part of empty styles), parses a whole sheet
that has no <dimension> before the first cell is read, walks every empty row up to the declared
last one, and its cell reader converts numbers with int() (ValueError past 4,300 digits) and
gives up at the first bad cell.

It knows nothing of what the sheet means (templates: `indicators.services.excel`; import tables:
`networks.tabular`), and does not check the archive's unpacked size (`tabular.xlsx_too_large`,
before a read).
"""

from __future__ import annotations

import datetime
import io
import math
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from openpyxl.styles.numbers import builtin_format_code, is_date_format
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel
from openpyxl.xml.functions import iterparse

from .errors import NetworksError

# What of a cell's content a message repeats (a cell can hold megabytes).
SHOWN_CHARS = 40
# Excel's limit for a number format; a longer one is not looked at (its regular expressions would
# take quadratic time on it).
MAX_FORMAT_CHARS = 255

_CELL_REF = re.compile(r"^([A-Za-z]{1,3})([0-9]{1,7})$")
# A number as XML holds it (no decimal comma, no thousands separator, no NaN nor infinity).
_XML_NUMBER = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$")


class XlsxRejected(NetworksError):
    """The workbook was refused; its callers word why (`Unreadable`, `TooManyElements`, `CellsTooFar`)."""


class Unreadable(XlsxRejected):
    """Not a readable XLSX workbook: a damaged archive, part or reference."""


class TooManyElements(XlsxRejected):
    """The read parsed all the XML elements it was allowed."""


class CellsTooFar(XlsxRejected):
    """The sheet holds (or declares) a cell beyond the rows or columns allowed."""

    def __init__(self, cell: str) -> None:
        self.cell = cell  # its reference, e.g. H1048576
        super().__init__(cell)


@dataclass(frozen=True)
class Cell:
    """A cell as the sheet's XML holds it, before anything is made of it.

    kind: empty, text, number (`text` is the number as written), date (`text` is the date as
    ISO text), bool (`text` is 1 or 0), formula, error (`text` is the error value) or unreadable.
    """

    kind: str
    text: str = ""


EMPTY = Cell("empty")
FORMULA = Cell("formula")


class _Budget:
    """The XML elements a read may still parse."""

    def __init__(self, elements: int):
        self.left = elements


def shown(text: str) -> str:
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
                raise TooManyElements
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
        raise Unreadable
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
        raise Unreadable
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


def _read_cell(element, book: _Workbook, *, formula_values: bool) -> Cell:
    """What one <c> element holds. A number stays the text it is written as (int() of 5,000
    digits raises, float() of them is infinite). A formula is `FORMULA`, or with
    `formula_values` the value the file stores for it."""
    children = {_local(child.tag): child for child in element}
    if "f" in children and not formula_values:
        return FORMULA
    data_type = element.get("t", "n")
    if data_type == "inlineStr":
        return Cell("text", _string_text(children["is"])) if "is" in children else EMPTY
    value = children["v"].text if "v" in children else None
    if not value:
        return EMPTY
    if data_type == "n":
        style = element.get("s", "0")
        if style.isascii() and style.isdigit() and len(style) <= 9 and int(style) in book.date_styles:
            return Cell("date", _date_text(value, book.epoch))
        return Cell("number", value)
    if data_type == "s":
        if value.isascii() and value.isdigit() and len(value) <= 9 and int(value) < len(book.shared_strings):
            return Cell("text", book.shared_strings[int(value)])
        return Cell("unreadable")
    if data_type == "str":
        return Cell("text", value)
    if data_type in ("b", "e", "d"):
        return Cell({"b": "bool", "e": "error", "d": "date"}[data_type], value)
    return Cell("unreadable")


def _cell_position(ref: str) -> tuple[int, int]:
    """(row, column) of a reference such as H1048576; ValueError for anything else."""
    match = _CELL_REF.match(ref)
    if not match:
        raise ValueError(f"not a cell reference: {shown(ref)!r}")
    return int(match[2]), column_index_from_string(match[1].upper())


def reference(row: int, column: int) -> str:
    """A cell's reference (H12) from its row and column numbers."""
    return f"{get_column_letter(min(column, 16384))}{row}"


def _row_number(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 7):
        raise ValueError(f"not a row number: {shown(text)!r}")
    return int(text)


def sheet_rows(
    content: bytes,
    *,
    elements: int,
    last_row: int,
    max_column: int,
    columns: int | None = None,
    formula_values: bool = False,
) -> Iterator[tuple[int, dict[int, Cell]]]:
    """The rows of the workbook's first sheet up to `last_row`: (row number, the cells by column
    number, up to `columns` when given). Rows the file leaves out are left out.

    Raises `Unreadable` for an unreadable file, `TooManyElements` after `elements` XML elements,
    and `CellsTooFar` for a sheet that declares or holds cells beyond `last_row` or `max_column`.
    Nothing is read past `last_row`, whatever the sheet's declared size (<dimension>) says: it may
    lie, or be missing.
    """
    columns = max_column if columns is None else columns
    budget = _Budget(elements)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            book = _workbook(archive, budget)
            with archive.open(book.sheet) as source:
                number = column = 0
                cells: dict[int, Cell] = {}
                rows = _stream(source, {"dimension", "c"}, budget, bounds=frozenset({"row"}), until="sheetData")
                for event, element, parent in rows:
                    name = _local(element.tag)
                    if event == "start":  # a row: its cells follow, one by one
                        ref = element.get("r")
                        number = _row_number(ref) if ref is not None else number + 1
                        column, cells = 0, {}
                    elif name == "c" and parent == "row":
                        ref = element.get("r")
                        column = _cell_position(ref)[1] if ref else column + 1
                        if number > last_row or column > max_column:
                            if any(_local(part.tag) in ("v", "f", "is") for part in element):
                                raise CellsTooFar(ref.upper() if ref else reference(number, column))
                        elif column <= columns:
                            cells[column] = _read_cell(element, book, formula_values=formula_values)
                    elif name == "row":
                        if number > last_row:
                            return  # an empty row below the limit: reading stops here
                        yield number, cells
                    elif name == "dimension":  # before the rows: a larger sheet is refused unread
                        end = element.get("ref", "").rpartition(":")[2]
                        if _CELL_REF.match(end):
                            row, column = _cell_position(end)
                            if row > last_row or column > max_column:
                                raise CellsTooFar(end.upper())
    except XlsxRejected:
        raise
    except Exception as exc:  # zipfile, the XML parser and bad references raise many kinds
        raise Unreadable from exc


# --- what a cell holds, for the callers ------------------------------------------------------


def not_a_value(cell: Cell) -> str | None:
    """Why a cell holds nothing a person typed (None: it does)."""
    if cell.kind == "formula":
        return _("This cell holds a formula: enter the value itself.")
    if cell.kind == "error":
        return _("This cell holds the error value %(error)s: enter the value itself.") % {"error": shown(cell.text)}
    if cell.kind == "unreadable":
        return _("This cell cannot be read: enter its value again.")
    return None


def cell_text(cell: Cell) -> str:
    """A readable cell as text (a number as written, without a trailing `.0`)."""
    if cell.kind == "number":
        return re.sub(r"^(-?[0-9]+)\.0+$", r"\1", cell.text)
    if cell.kind == "bool":
        return "TRUE" if cell.text.strip() in ("1", "true") else "FALSE"
    return cell.text.strip()


def number_value(text: str) -> Decimal | None:
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


def unpacked_bytes(content: bytes) -> int:
    """What the workbook unpacks to, by its directory, before anything is unpacked (zipfile reads
    no member past its stated size). 0 for a file that is not a zip archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0
