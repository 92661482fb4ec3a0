"""`import_official`, the read stage: a statistics office's table, whatever its format, in one shape.

The PxWeb family of statistics databases (the Central Statistical Bureau of Latvia's among them)
hands a table out in several formats; each becomes an `OfficialTable`: its dimensions (each with
a code, a label and its categories, each category with a code and a label) and its cells (the
category of each dimension, the value as written, and where the cell is, for messages):

- the CSV download: an optional quoted title line, a blank line, the header; the dimensions'
  labels in the leading columns and the last dimension (usually the time) across the remaining
  ones ("wide"), or a time column and one value column ("long"); UTF-8 with or without BOM,
  `,` or `;`; footnotes after a blank line are left alone;
- the XLSX export: the same grid in the first sheet, where a label left empty repeats the one
  above (merged cells) and the header may leave the dimensions' names out (the title names them:
  "… by Sex, Territorial unit, Indicator and Time period");
- a PxWeb v1 answer in its `json` format (`columns`, `data` with `key` and `values`);
- JSON-stat 2.0 or 1.x (a dataset or a 1.x bundle of one), expanded by `pyjstat`;
- a PC-Axis `.px` file, its keywords read by `pyaxis`, its DATA block here (with line numbers).

Nothing is judged here but the file's shape: which dimension is the area or the time, whether a
value is a number, and what goes where, are the import's (`official`). A file that cannot be read
raises `ImportFailed` with what is wrong and where.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _

from networks import xlsx
from networks.tabular import (
    XLSX_MAX_COLUMNS,
    XLSX_MAX_ELEMENTS,
    XLSX_MAX_ROWS,
    XLSX_SUFFIXES,
    ImportFailed,
    RowError,
    xlsx_too_large,
    xlsx_too_large_message,
)

# A file larger than this is not a table downloaded for import (the largest real one is 100 KB).
MAX_FILE_BYTES = 50 * 1024 * 1024
# Cells a table may hold (a year of municipal figures is some hundreds; a PxWeb answer is capped
# at some hundred thousand by the database itself).
MAX_CELLS = 1_000_000

# Names of the time dimension, as the offices write them (compared case-insensitively).
TIME_NAMES = {"time", "time period", "laika periods", "laiks", "year", "gads", "gadi", "period", "periods", "tid"}
# A time code in a header or a category: 2024, 2024M12, 2022K1, 2022Q1, 2024-25.
TIME_CODE = re.compile(r"[0-9]{4}(?:\s*-?\s*[MKQ][0-9]{1,2}|[-/][0-9]{2})?")


@dataclass(frozen=True)
class Category:
    code: str
    label: str


@dataclass
class Dimension:
    code: str
    label: str
    categories: list[Category] = field(default_factory=list)
    role: str = ""  # "time" or "area" when the file says so

    def __post_init__(self) -> None:
        self.code, self.label = one_line(self.code), one_line(self.label)

    def position(self, code: str, label: str) -> int:
        """The category's position, added when new (files list categories as they come).

        Spaces are kept as written but for line breaks (messages say a label on one line); a
        leading `..` stays: it is the office's hierarchy (`official_areas`)."""
        code, label = one_line(code, strip=False), one_line(label, strip=False)
        index = self._index()
        key = (code, label)
        if key not in index:
            index[key] = len(self.categories)
            self.categories.append(Category(code, label))
        return index[key]

    def _index(self) -> dict[tuple[str, str], int]:
        if not hasattr(self, "_positions"):
            self._positions = {(c.code, c.label): n for n, c in enumerate(self.categories)}
        return self._positions

    @property
    def name(self) -> str:
        """How messages name it: the label, or the code when the file gives no label."""
        return self.label or self.code


@dataclass(frozen=True)
class Cell:
    keys: tuple[int, ...]  # the category's position in each dimension
    value: str | Decimal | None  # as written ("57564", "…"), a number from JSON, None: no value
    line: int  # the file's line (row of a sheet), 0 when the format has none
    place: str  # where in the line, or in the file: 'column "2024"', "E4", "value 14"


@dataclass
class OfficialTable:
    format: str  # "CSV", "XLSX", "PxWeb JSON", "JSON-stat 2.0", "JSON-stat 1.x", "PC-Axis"
    name: str  # the file's name
    title: str = ""
    table: str = ""  # the office's table code when known (PX MATRIX, the file name: IRS031)
    source: str = ""  # the office when the file says
    dimensions: list[Dimension] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)


def failed(message: str, line: int = 0) -> ImportFailed:
    return ImportFailed([RowError(line, one_line(message))])


def one_line(text: str, *, strip: bool = True) -> str:
    """Text without line breaks or other control characters (each becomes a space)."""
    text = "".join(" " if (ch < " " or ch in "\x7f\x85\u2028\u2029") else ch for ch in str(text))
    return text.strip() if strip else text


def table_read(source: Path | bytes, *, name: str = "") -> OfficialTable:
    """Read a downloaded table (path or bytes; `name` gives the file's name for bytes).

    Raises ImportFailed (with every problem that can be told, each with its line) for a file that
    is not one of the formats above.
    """
    if isinstance(source, Path | str):
        path = Path(source)
        name = name or path.name
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise failed(_("the file is larger than %(max)d MB") % {"max": MAX_FILE_BYTES // (1024 * 1024)})
            content = path.read_bytes()
        except OSError as exc:
            raise failed(_("cannot read the file: %(error)s") % {"error": exc.strerror or exc}) from exc
    else:
        content = source
    suffix = Path(name).suffix.lower()
    if suffix in XLSX_SUFFIXES or content[:4] == b"PK\x03\x04":
        table = _read_xlsx(content, name)
    elif suffix == ".px" or _looks_like_px(content):
        table = _read_px(content, name)
    elif suffix == ".json" or content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        table = _read_json(content, name)
    else:
        table = _read_csv(content, name)
    table.table = table.table or table_code(name)
    if not table.cells:
        raise failed(_("the file holds no values"))
    return table


def table_code(name: str) -> str:
    """The office's table code in a file name as downloaded (`TRS020_roads_2024_en.csv`)."""
    stem = Path(name).stem
    match = re.match(r"([A-Za-z]{2,5}[0-9]{2,4}[A-Za-z]?)(?![A-Za-z0-9])", stem) or re.search(
        r"(?<![A-Za-z0-9])([A-Z]{2,5}[0-9]{2,4})(?![A-Za-z0-9])", stem
    )
    return match.group(1).upper() if match else ""


def is_time_code(text: str) -> bool:
    return TIME_CODE.fullmatch(text.strip()) is not None


def is_time_name(text: str) -> bool:
    return text.strip().casefold() in TIME_NAMES


# --- text ----------------------------------------------------------------------------------------


def _text(content: bytes, *, encodings: tuple[str, ...] = ("utf-8-sig",)) -> str:
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if "\x00" in text:
            raise failed(_("the file is not a text file"))
        return text.removeprefix("\ufeff")
    try:
        content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise failed(_('the file is not UTF-8 text (save it as "CSV UTF-8" in Excel)'), line) from exc
    raise failed(_("the file is not a text file"))  # pragma: no cover - the loop decodes UTF-8 first


def title_dimensions(title: str) -> list[str]:
    """The dimensions a PxWeb title names, in order: "… by A, B and C" or "… - A, B un C"."""
    title = " ".join(title.split())
    match = re.search(r".*\bby (.+)$", title) or re.search(r" [-\u2013] ([^-\u2013]+)$", title)
    if not match:
        return []
    names = re.split(r",\s*|\s+(?:and|un)\s+", match.group(1).strip().rstrip("."))
    return [name.strip() for name in names if name.strip()]


# --- CSV and XLSX: a grid of labels and values ----------------------------------------------------


@dataclass
class _Grid:
    """Rows as read: (line, cells as text or a number, where each cell is) — the two grids'
    common shape."""

    title: str
    header: list[str]
    header_line: int
    rows: list[tuple[int, list[str]]]
    place: Callable[[int, int, str], str]  # (line, column index, header) -> text naming the cell
    fill_down: bool  # an empty label repeats the one above (merged cells of a sheet)


def _read_csv(content: bytes, name: str) -> OfficialTable:
    text = _text(content)
    rows = _csv_rows(text)
    header_at = next((n for n, (_line, cells) in enumerate(rows) if sum(1 for c in cells if c.strip()) >= 2), None)
    if header_at is None:
        raise failed(_("no header line: the table needs a line naming its columns"), rows[0][0] if rows else 1)
    title = next((cells[0].strip() for _line, cells in rows[:header_at] if len(cells) == 1 and cells[0].strip()), "")
    line, header = rows[header_at]
    grid = _Grid(
        title=title,
        header=[cell.strip() for cell in header],
        header_line=line,
        rows=rows[header_at + 1 :],
        place=lambda _line, _column, label: _('column "%(column)s"') % {"column": label},
        fill_down=False,
    )
    return _grid_table(grid, OfficialTable(format="CSV", name=name, title=title))


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """The rows with their (last) line numbers, read with the separator the header uses."""
    best: list[tuple[int, list[str]]] = []
    best_width = -1
    for delimiter in (",", ";"):
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows: list[tuple[int, list[str]]] = []
        try:
            for cells in reader:
                rows.append((reader.line_num, cells))
        except csv.Error as exc:
            raise failed(str(exc), reader.line_num) from exc
        width = next((len(cells) for _line, cells in rows if sum(1 for c in cells if c.strip()) >= 2), 0)
        if width > best_width:
            best, best_width = rows, width
    return best


def _read_xlsx(content: bytes, name: str) -> OfficialTable:
    if xlsx_too_large(content):
        raise failed(xlsx_too_large_message())
    rows: list[tuple[int, list[str]]] = []
    try:
        for line, cells in xlsx.sheet_rows(
            content, elements=XLSX_MAX_ELEMENTS, last_row=XLSX_MAX_ROWS, max_column=XLSX_MAX_COLUMNS
        ):
            texts = [""] * (max(cells) if cells else 0)
            for column, cell in cells.items():
                texts[column - 1] = _xlsx_text(cell)
            rows.append((line, texts))
    except xlsx.CellsTooFar as exc:
        raise failed(
            _(
                "the sheet has cells as far as %(cell)s: an import reads at most %(rows)d rows and %(columns)d "
                "columns (save a larger table as CSV)"
            )
            % {"cell": exc.cell, "rows": XLSX_MAX_ROWS, "columns": XLSX_MAX_COLUMNS}
        ) from exc
    except xlsx.XlsxRejected as exc:
        raise failed(_("the file is not a readable XLSX workbook")) from exc
    header_at = next(
        (
            n
            for n, (_line, cells) in enumerate(rows)
            if sum(1 for c in cells if c) >= 2 or any(is_time_code(c) for c in cells[1:])
        ),
        None,
    )
    if header_at is None:
        raise failed(_("no header row: the table needs a row naming its columns"))
    title = next((cells[0] for _line, cells in rows[:header_at] if cells and cells[0]), "")
    line, header = rows[header_at]
    grid = _Grid(
        title=title,
        header=header,
        header_line=line,
        rows=rows[header_at + 1 :],
        place=lambda line, column, _label: xlsx.reference(line, column + 1),
        fill_down=True,
    )
    return _grid_table(grid, OfficialTable(format="XLSX", name=name, title=title))


def _xlsx_text(cell: xlsx.Cell) -> str:
    if cell.kind == "number":
        number = xlsx.number_value(cell.text)
        return cell.text if number is None else format(number.normalize(), "f")
    if cell.kind in ("formula", "error", "unreadable"):
        return f"#{cell.kind}"  # refused as a value by the import, named by its cell
    return xlsx.cell_text(cell)


def _grid_table(grid: _Grid, table: OfficialTable) -> OfficialTable:
    """The dimensions and cells of a grid: stub columns of labels, then value columns."""
    header = grid.header
    while header and not header[-1]:
        header = header[:-1]
    width = len(header)
    named = title_dimensions(grid.title)
    time_columns = [n for n, cell in enumerate(header) if n > 0 and is_time_code(cell)]
    if time_columns:
        first = time_columns[0]
        if time_columns != list(range(first, width)):
            raise failed(_("the time periods must be the last columns of the header"), grid.header_line)
        stub = list(range(first))
        stub_names = _stub_names([header[n] for n in stub], named)
        time_name = next((n for n in named if n.casefold() not in {s.casefold() for s in stub_names}), "")
        if len(named) != len(stub) + 1:
            time_name = ""
        heading = Dimension("TIME", time_name or _("Time period"), role="time")
        heading_columns = {n: heading.position(header[n], header[n]) for n in range(first, width)}
    else:
        time_at = next((n for n, cell in enumerate(header) if is_time_name(cell)), None)
        if time_at is None or time_at == width - 1:
            raise failed(
                _(
                    "cannot find the time periods: download the table with the time as columns (years across) "
                    "or as a column named Time period"
                ),
                grid.header_line,
            )
        known = {name.casefold() for name in named}
        stub = [n for n in range(width) if n <= time_at or (known and header[n].casefold() in known)]
        stub = list(range(max(stub) + 1))
        values = list(range(len(stub), width))
        stub_names = _stub_names([header[n] for n in stub], named)
        if len(values) == 1:
            heading = None
            heading_columns = {values[0]: 0}
        else:
            leftover = [n for n in named if n.casefold() not in {s.casefold() for s in stub_names}]
            heading = Dimension("COLUMNS", leftover[0] if len(leftover) == 1 else _("Columns"))
            heading_columns = {n: heading.position(header[n], header[n]) for n in values}
    stubs = [
        Dimension(name, name, role="time" if is_time_name(name) else "")
        for name in stub_names  # the header's label serves as code and label (CSV gives no codes)
    ]
    table.dimensions = stubs + ([heading] if heading is not None else [])
    errors: list[RowError] = []
    above = [""] * len(stub)
    ended_at = 0  # the blank row after the table: footnotes follow
    for line, raw in grid.rows:
        cells = [c.strip() for c in raw]
        if not any(cells):
            if table.cells and not ended_at:
                ended_at = line
            continue
        values_given = any(cells[n] for n in heading_columns if n < len(cells))
        if ended_at:
            if values_given:
                errors.append(
                    RowError(
                        line, _("values after the blank line %(blank)d: remove the blank line") % {"blank": ended_at}
                    )
                )
            continue
        if len(cells) > width and any(cells[width:]):
            errors.append(RowError(line, _("more cells than columns in the header")))
            continue
        cells += [""] * (width - len(cells))
        labels = []
        for n in stub:
            if not cells[n] and grid.fill_down:
                cells[n] = above[n]
            labels.append(cells[n])
        if not values_given and grid.fill_down:
            above = labels  # a heading row of a sheet: its labels hold for the rows below
            continue
        empty = [stubs[n].name for n, label in enumerate(labels) if not label]
        if empty:
            errors.append(RowError(line, _("no label for %(dimension)s") % {"dimension": ", ".join(empty)}))
            continue
        above = labels
        keys = [stubs[n].position(label, label) for n, label in enumerate(labels)]
        for column, heading_key in heading_columns.items():
            where = grid.place(line, column, header[column])
            value = cells[column]
            full = (*keys, heading_key) if heading is not None else tuple(keys)
            table.cells.append(Cell(full, value or None, line, where))
        if len(table.cells) > MAX_CELLS:
            raise failed(_("the table has more than %(max)d values") % {"max": MAX_CELLS}, line)
    if errors:
        raise ImportFailed(errors)
    return table


def _stub_names(header: list[str], named: list[str]) -> list[str]:
    """The label columns' names: the header's, or the title's where the header leaves them out."""
    from_title = [name for name in named if not is_time_name(name)]
    names = []
    for n, cell in enumerate(header):
        if cell:
            names.append(cell)
        elif len(from_title) >= len(header) and n < len(from_title):
            names.append(from_title[n])
        else:
            names.append(_("column %(number)d") % {"number": n + 1})
    if len({name.casefold() for name in names}) != len(names):
        raise failed(_("two columns have the same name: %(names)s") % {"names": ", ".join(names)})
    return names


# --- JSON: a PxWeb answer or JSON-stat --------------------------------------------------------------


def _read_json(content: bytes, name: str) -> OfficialTable:
    text = _text(content)
    try:
        data = json.loads(text, parse_float=Decimal, parse_int=Decimal, object_pairs_hook=OrderedDict)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", 0)
        raise failed(_("the file is not JSON: %(error)s") % {"error": getattr(exc, "msg", exc)}, line) from exc
    if isinstance(data, dict) and "columns" in data and "data" in data:
        return _read_pxweb(data, name)
    if isinstance(data, dict) and data.get("class") == "dataset":
        return _read_jsonstat(data, name, "JSON-stat 2.0")
    if isinstance(data, dict) and data.get("class") == "collection":
        raise failed(_("a JSON-stat collection: download one dataset (one table) instead"))
    if isinstance(data, dict):
        datasets = [value for value in data.values() if isinstance(value, dict) and "dimension" in value]
        if len(datasets) == 1:
            return _read_jsonstat(datasets[0], name, "JSON-stat 1.x")
        if len(datasets) > 1:
            raise failed(_("the file holds %(count)d datasets: download one table") % {"count": len(datasets)})
    raise failed(_("a JSON file that is neither a PxWeb answer nor JSON-stat"))


def _read_pxweb(data: dict, name: str) -> OfficialTable:
    """A PxWeb v1 answer in its `json` format: a key per dimension, a value per content column."""
    table = OfficialTable(format="PxWeb JSON", name=name)
    try:
        columns = list(data["columns"])
        rows = list(data["data"])
        dimensions = [c for c in columns if c.get("type") in ("d", "t")]
        contents = [c for c in columns if c.get("type") == "c"]
        metadata = data.get("metadata") or [{}]
        if isinstance(metadata, list) and metadata and isinstance(metadata[0], dict):
            table.title = str(metadata[0].get("label") or "").strip()
            table.source = str(metadata[0].get("source") or "").strip()
        table.dimensions = [
            Dimension(str(c["code"]), str(c.get("text") or c["code"]), role="time" if c.get("type") == "t" else "")
            for c in dimensions
        ]
        content = None
        if len(contents) > 1:
            content = Dimension("ContentsCode", _("Contents"))
            table.dimensions.append(content)
        for number, row in enumerate(rows, start=1):
            key = [str(part) for part in row["key"]]
            values = list(row["values"])
            if len(key) != len(dimensions) or len(values) != max(len(contents), 1):
                raise failed(
                    _("data entry %(number)d has %(keys)d keys and %(values)d values for %(dimensions)d dimensions")
                    % {"number": number, "keys": len(key), "values": len(values), "dimensions": len(dimensions)}
                )
            keys = [dimension.position(code, code) for dimension, code in zip(table.dimensions, key, strict=False)]
            for n, value in enumerate(values):
                full = tuple(keys) + (
                    (content.position(str(contents[n]["code"]), str(contents[n].get("text") or "")),) if content else ()
                )
                place = _("data entry %(number)d") % {"number": number}
                table.cells.append(Cell(full, _json_value(value), 0, place))
    except (KeyError, TypeError, AttributeError) as exc:
        raise failed(_("a PxWeb answer without its columns or data (%(missing)s)") % {"missing": exc}) from exc
    return table


def _json_value(value) -> str | Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal | str):
        return value
    return str(value)


def _read_jsonstat(data: dict, name: str, version: str) -> OfficialTable:
    """A JSON-stat dataset (2.0, or 1.x from a bundle): pyjstat expands the categories' product
    in the order of the values; the values and their status are taken from the file itself."""
    from pyjstat import pyjstat  # a reader for this format only: loaded when such a file comes

    table = OfficialTable(format=version, name=name)
    table.title = str(data.get("label") or "").strip()
    table.source = str(data.get("source") or "").strip()
    extension = data.get("extension")
    if isinstance(extension, dict) and isinstance(extension.get("px"), dict):
        table.table = str(extension["px"].get("tableid") or "").strip()  # PxWeb's JSON-stat 2.0
    try:
        dimension = data["dimension"]
        ids = list(data["id"] if "id" in data else dimension["id"])
        roles = data.get("role") or dimension.get("role") or {}
        size = [int(n) for n in (data["size"] if "size" in data else dimension["size"])]
        total = math.prod(size)
        if total > MAX_CELLS:
            raise failed(_("the table has more than %(max)d values") % {"max": MAX_CELLS})
        # pyjstat reads plain numbers, and a 1.x dataset as a dataset once it says so.
        plain = json.loads(json.dumps(data, default=_plain_number), object_pairs_hook=OrderedDict)
        plain["class"] = "dataset"
        by_id = pyjstat.generate_df(plain, "id")
        by_label = pyjstat.generate_df(plain, "label")
    except ImportFailed:
        raise
    except Exception as exc:  # pyjstat and pandas raise many kinds for a malformed dataset
        raise failed(_("a JSON-stat dataset that cannot be read: %(error)s") % {"error": exc}) from exc
    if len(by_id) != total:
        raise failed(
            _("the dataset's size says %(size)d values, its dimensions make %(made)d")
            % {"size": total, "made": len(by_id)}
        )
    for dim_id in ids:
        role = "time" if dim_id in (roles.get("time") or []) else "area" if dim_id in (roles.get("geo") or []) else ""
        table.dimensions.append(Dimension(str(dim_id), str(dimension[dim_id].get("label") or dim_id), role=role))
    values = data.get("value")
    status = data.get("status")
    columns = list(range(len(ids)))
    for n, (codes, labels) in enumerate(
        zip(by_id.itertuples(index=False, name=None), by_label.itertuples(index=False, name=None), strict=True)
    ):
        keys = tuple(table.dimensions[d].position(str(codes[d]), str(labels[d])) for d in columns)
        value = _indexed(values, n)
        marker = _indexed(status, n) if status is not None else None
        if value is None:
            value = str(marker) if marker not in (None, "") else "…"
        table.cells.append(Cell(keys, _json_value(value), 0, _("value %(number)d") % {"number": n + 1}))
    return table


def _plain_number(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


def _indexed(values, n: int):
    """Value `n` of a JSON-stat `value` or `status`: an array, an object by index, or (status) one
    text for every value."""
    if isinstance(values, str):
        return values
    if isinstance(values, list):
        return values[n] if n < len(values) else None
    if isinstance(values, dict):
        return values.get(str(n))
    return None


# --- PC-Axis --------------------------------------------------------------------------------------


def _looks_like_px(content: bytes) -> bool:
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    return head.startswith((b"CHARSET", b"AXIS-VERSION", b"LANGUAGE", b"CODEPAGE", b"MATRIX")) and b"DATA=" in content


# A quoted value, a plain one, or the end of the block; spaces, tabs, line ends and commas separate.
_PX_TOKEN = re.compile(r'"([^"]*)"|([^\s";,]+)|(;)')


def _read_px(content: bytes, name: str) -> OfficialTable:
    """A PC-Axis file: the keywords by pyaxis, the DATA block here (line numbers, quoted markers)."""
    from pyaxis import data_processing, metadata_processing  # loaded when such a file comes

    declared = re.search(rb'CODEPAGE\s*=\s*"([^"]+)"', content[:65536])
    encodings = (declared.group(1).decode("ascii", "replace"),) if declared else ("utf-8-sig", "windows-1257")
    text = _text(content, encodings=encodings)
    start = re.search(r"(?:^|;)\s*DATA\s*=", text)
    if start is None:
        raise failed(_("a PC-Axis file without DATA"))
    if re.search(r"(?:^|;)\s*KEYS\s*\(", text[: start.start()]):
        raise failed(_("a PC-Axis file with KEYS (sparse data): save it with every cell"))
    head = text[: start.end()]
    try:
        elements, _data = metadata_processing.metadata_extract(head)
        metadata = metadata_processing.metadata_split_to_dict(elements)
        metadata, _translations = metadata_processing.multilingual_parse(metadata, None)
        names, members = data_processing.get_dimensions(metadata)
        coded, codes = data_processing.get_codes(metadata)
    except Exception as exc:  # pyaxis raises many kinds for malformed keywords
        raise failed(_("the PC-Axis keywords cannot be read: %(error)s") % {"error": exc}) from exc

    def keyword(key: str) -> str:
        value = metadata.get(key)
        return " ".join(value) if isinstance(value, list) else str(value or "")

    table = OfficialTable(format="PC-Axis", name=name, title=keyword("TITLE"), source=keyword("SOURCE"))
    table.table = keyword("MATRIX").strip()
    times = {key[len("TIMEVAL(") : -1] for key in metadata if key.startswith("TIMEVAL(")}
    for dim_name, labels in zip(names, members, strict=True):
        dim_codes = codes[coded.index(dim_name)] if dim_name in coded else labels
        if len(dim_codes) != len(labels):
            raise failed(
                _("%(dimension)s has %(codes)d codes for %(values)d values")
                % {"dimension": dim_name, "codes": len(dim_codes), "values": len(labels)}
            )
        dimension = Dimension(dim_name, dim_name, role="time" if dim_name in times else "")
        for code, label in zip(dim_codes, labels, strict=True):
            dimension.position(str(code), str(label))
        table.dimensions.append(dimension)
    symbols = {n: keyword(f"DATASYMBOL{n}").strip() for n in range(1, 7)}
    nil = keyword("DATASYMBOLNIL").strip() or "-"
    sizes = [len(d.categories) for d in table.dimensions]
    total = math.prod(sizes)
    if total > MAX_CELLS:
        raise failed(_("the table has more than %(max)d values") % {"max": MAX_CELLS})
    line = text[: start.end()].count("\n") + 1
    position = start.end()
    count = 0
    ended = False
    for match in _PX_TOKEN.finditer(text, position):
        line += text.count("\n", position, match.start())
        position = match.start()
        quoted, plain, end = match.groups()
        if end:
            ended = True
            break
        token = quoted if quoted is not None else plain
        if quoted is not None and re.fullmatch(r"\.{1,6}", quoted) and symbols.get(len(quoted)):
            token = symbols[len(quoted)]
        elif quoted == "-":
            token = nil
        if count < total:
            keys = _unravel(count, sizes)
            table.cells.append(Cell(keys, token, line, _("value %(number)d") % {"number": count + 1}))
        count += 1
    if not ended:
        raise failed(_("the DATA block does not end with ;"), line)
    if count != total:
        raise failed(
            _("DATA holds %(count)d values, the dimensions make %(total)d") % {"count": count, "total": total}, line
        )
    return table


def _unravel(index: int, sizes: list[int]) -> tuple[int, ...]:
    """Row-major position → the category of each dimension (the last one varies fastest)."""
    keys = []
    for size in reversed(sizes):
        index, key = divmod(index, size)
        keys.append(key)
    return tuple(reversed(keys))
