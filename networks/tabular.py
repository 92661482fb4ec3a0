"""Reading the CSV and XLSX files that imports receive, the way Latvian Excel writes them.

UTF-8 with or without BOM, `;` or `,` as separator, decimal comma or point. Every row keeps
its line number in the file so that errors can name it. Errors are collected, never raised one
by one: an import reports every bad row and writes nothing (`ImportFailed`).
"""

from __future__ import annotations

import csv
import datetime
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext as _

from . import xlsx
from .errors import NetworksError

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
MAX_CELL_CHARS = 10_000


@dataclass(frozen=True)
class Row:
    line: int
    data: dict[str, str]

    def get(self, column: str) -> str:
        return self.data.get(column, "")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        if self.line:
            return _("line %(line)d: %(message)s") % {"line": self.line, "message": self.message}
        return self.message


class ImportFailed(NetworksError):
    """An import found problems and wrote nothing."""

    def __init__(self, errors: Iterable[RowError]):
        self.errors = sorted(errors, key=lambda e: e.line)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[Row]


def read_table(source: str | Path | bytes, *, name: str = "", required: Iterable[str] = ()) -> Table:
    """Read a CSV or XLSX file into rows of stripped strings keyed by lower-case column name.

    `source` is a path or the file's bytes (uploads); `name` gives the suffix for bytes.
    Raises ImportFailed for an unreadable file, a missing required column or a duplicate column.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        name = name or path.name
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise ImportFailed([RowError(0, _("cannot read the file: %(error)s") % {"error": exc.strerror})]) from exc
    else:
        content = source
    if Path(name).suffix.lower() in XLSX_SUFFIXES or content[:4] == b"PK\x03\x04":
        header, body = _xlsx_rows(content)
    else:
        header, body = _csv_rows(content)
    columns = [c.strip().lower() for c in header]
    while columns and columns[-1] == "":
        columns.pop()
    errors = []
    if not columns:
        raise ImportFailed([RowError(1, _("the file is empty: a header row is required"))])
    seen = set()
    for column in columns:
        if column in seen:
            errors.append(RowError(1, _("column %(column)s appears twice") % {"column": column}))
        seen.add(column)
    missing = [c for c in required if c not in seen]
    if missing:
        errors.append(RowError(1, _("required column(s) missing: %(columns)s") % {"columns": ", ".join(missing)}))
    if errors:
        raise ImportFailed(errors)
    rows = []
    for line, cells in body:
        values = [c.strip() for c in cells]
        if not any(values):
            continue  # blank lines (Excel leaves them) are not rows
        if len(values) > len(columns) and any(values[len(columns) :]):
            errors.append(RowError(line, _("more cells than columns in the header")))
            continue
        too_long = [c for c in values if len(c) > MAX_CELL_CHARS]
        if too_long:
            errors.append(RowError(line, _("a cell is longer than %(max)d characters") % {"max": MAX_CELL_CHARS}))
            continue
        values += [""] * (len(columns) - len(values))
        rows.append(Row(line, dict(zip(columns, values, strict=False))))
    if errors:
        raise ImportFailed(errors)
    return Table(columns, rows)


def _csv_rows(content: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Count the line of the first undecodable byte so the user can find it.
        line = content[: exc.start].count(b"\n") + 1
        raise ImportFailed([RowError(line, _('the file is not UTF-8 text (save it as "CSV UTF-8" in Excel)'))]) from exc
    if "\x00" in text:
        raise ImportFailed([RowError(0, _("the file is not a text file"))])
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise ImportFailed([RowError(1, str(exc))]) from exc

    def body() -> Iterator[tuple[int, list[str]]]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFailed([RowError(reader.line_num, str(exc))]) from exc
            yield reader.line_num, cells

    return header, body()


# An XLSX file is a zip archive: a few megabytes can unpack to gigabytes of XML ("zip bomb").
XLSX_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# An import reads at most this many rows and columns of a workbook (a larger table goes as CSV):
# a sheet holding or declaring a cell further out (H1048576) is refused before its rows are read.
# The catalogue has some twenty columns; municipalities may bring attribute columns of their own.
XLSX_MAX_ROWS = 100_000
XLSX_MAX_COLUMNS = 100
# The XML elements a read may parse (two to four microseconds each): a row of a real import file
# is a dozen or two (a cell is two or three), the rest of the workbook some thousands.
XLSX_MAX_ELEMENTS = 100_000 + XLSX_MAX_ROWS * 40


def xlsx_too_large(content: bytes) -> bool:
    """Whether the workbook would unpack to more than `XLSX_MAX_UNPACKED_BYTES` (by its directory,
    before anything is unpacked). A file that is not a zip archive is left to the reader to refuse."""
    return xlsx.unpacked_bytes(content) > XLSX_MAX_UNPACKED_BYTES


def xlsx_too_large_message() -> str:
    return _("the workbook unpacks to more than %(max)d MB: save it without unused rows and columns") % {
        "max": XLSX_MAX_UNPACKED_BYTES // (1024 * 1024)
    }


def _xlsx_rows(content: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The first sheet's header and rows (line = row number), read by the bounded reader."""
    if xlsx_too_large(content):
        raise ImportFailed([RowError(0, xlsx_too_large_message())])
    rows = xlsx.sheet_rows(
        content,
        elements=XLSX_MAX_ELEMENTS,
        last_row=XLSX_MAX_ROWS,
        max_column=XLSX_MAX_COLUMNS,
        formula_values=True,  # a formula counts by the value the file stores for it
    )
    try:
        line, cells = next(rows, (0, {}))
        header = _xlsx_texts(cells) if line == 1 else []
        first = None if line <= 1 else (line, cells)  # row 1 left out: no header, the row is data
    except xlsx.XlsxRejected as exc:
        raise ImportFailed([_xlsx_refused(exc, 0)]) from exc  # the workbook, not a line of it

    def body() -> Iterator[tuple[int, list[str]]]:
        line = 1
        try:
            if first is not None:
                line = first[0]
                yield line, _xlsx_texts(first[1])
            for line, cells in rows:
                yield line, _xlsx_texts(cells)
        except xlsx.XlsxRejected as exc:
            raise ImportFailed([_xlsx_refused(exc, line + 1)]) from exc

    return header, body()


def _xlsx_refused(exc: xlsx.XlsxRejected, line: int) -> RowError:
    limits = {"rows": XLSX_MAX_ROWS, "columns": XLSX_MAX_COLUMNS}
    if isinstance(exc, xlsx.CellsTooFar):
        return RowError(
            0,
            _(
                "the sheet has cells as far as %(cell)s: an import reads at most %(rows)d rows and %(columns)d "
                "columns (save a larger table as CSV)"
            )
            % {"cell": exc.cell, **limits},
        )
    if isinstance(exc, xlsx.TooManyElements):
        return RowError(
            0,
            _("the workbook holds more than an import reads (%(rows)d rows): save a larger table as CSV") % limits,
        )
    return RowError(line, _("the file is not a readable XLSX workbook"))


def _xlsx_texts(cells: dict[int, xlsx.Cell]) -> list[str]:
    """A row's cells as text, as openpyxl gave them (numbers as Python prints them)."""
    if not cells:
        return []
    texts = [""] * max(cells)
    for column, cell in cells.items():
        if cell.kind == "unreadable":
            raise xlsx.Unreadable
        texts[column - 1] = _xlsx_text(cell)
    return texts


def _xlsx_text(cell: xlsx.Cell) -> str:
    if cell.kind == "number":
        return _number_text(cell.text)
    if cell.kind == "bool":
        return "True" if cell.text.strip() in ("1", "true") else "False"
    if cell.kind == "date" and "T" in cell.text:  # an ISO date cell (t="d"), not a serial number
        try:
            return _cell_text(datetime.datetime.fromisoformat(cell.text.removesuffix("Z")))
        except ValueError:
            return cell.text
    return cell.text


def _number_text(text: str) -> str:
    """A number cell as openpyxl reads it (int, or float for a point or exponent) and `_cell_text`
    prints it; a number Python cannot hold so (5,000 digits, 1e400) as written, for the checks of
    the import to refuse by its value."""
    try:
        if "." in text or "e" in text or "E" in text:
            number = float(text)
            return _cell_text(number) if math.isfinite(number) else text
        return str(int(text))
    except ValueError:
        return text


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value)


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_decimal(text: str) -> Decimal:
    """A number as Latvian or English Excel writes it: `1 234,5`, `1234.5`, `-0,25`, `1e3`.

    Spaces (also non-breaking) are thousands separators; one comma is a decimal comma.
    Raises ValueError with a message fit for the user.
    """
    cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not _NUMBER.match(cleaned):
        raise ValueError(_("%(value)s is not a number") % {"value": repr(text)})
    try:
        number = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(_("%(value)s is not a number") % {"value": repr(text)}) from exc
    if not number.is_finite():
        raise ValueError(_("%(value)s is not a number") % {"value": repr(text)})
    return number


def parse_date(text: str) -> datetime.date | None:
    """An ISO date (`2021-07-01`) or a Latvian one (`01.07.2021`); empty means none."""
    text = text.strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date, no time zone
        except ValueError:
            continue
    raise ValueError(_("%(value)s is not a date (use YYYY-MM-DD or DD.MM.YYYY)") % {"value": repr(text)})


def parse_yes_no(text: str, *, default: bool = False) -> bool:
    value = text.strip().lower()
    if not value:
        return default
    if value in {"yes", "jā", "ja", "y", "true", "1"}:
        return True
    if value in {"no", "nē", "ne", "n", "false", "0"}:
        return False
    raise ValueError(_("%(value)s must be yes or no") % {"value": repr(text)})


# A cell a spreadsheet would read as a formula (CSV injection): text starting with one of these.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would evaluate gets a leading apostrophe; anything else as is.

    Every CSV and XLSX the portal writes passes its cells through this one function."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
