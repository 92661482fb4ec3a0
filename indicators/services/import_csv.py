"""`import_values`, the SQL path: a plain CSV file read, and checked, by PostgreSQL.

The file's bytes go with COPY into a temporary table of text cells (`import_values_raw`), and
the checks are set-based SQL that mirror the Python checks (`import_checks.RowChecker`) —
trimming as `str.strip`, codes, the number's syntax, size, decimals and range; duplicates by the
values' unique constraint (and one aggregate over the values that may be updated). What passes
becomes `import_values_checked`, the staging table the values service's bulk path reads
(`values.values_bulk_save_staged`). Only when SQL finds a bad row does Python look at rows
again: the first ones SQL refused, through the very checks of the Python path, for the same
messages and line numbers (the header is line 1 and every row one line, or the file is not
plain). Whatever this path cannot read exactly as `read_table` does (XLSX, blank or multi-line
rows, irregular quoting, a row shorter or longer than the header, bad bytes, an unusual header, a
value SQL refuses but Python accepts) raises `Fallback`, and the caller takes the Python path.

It writes no value (`values`) and creates no period, round or submission (`imports`).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import psycopg
from django.db import connection

from networks.models import Municipality
from networks.tabular import MAX_CELL_CHARS, XLSX_SUFFIXES, ImportFailed, read_table

from ..models import MISSING_MARKERS, DataItem, MissingStatus
from .import_checks import MAX_ERRORS, REQUIRED_COLUMNS, Errors, RowChecker
from .values import values_bulk_save_staged

# The characters `str.strip()` removes (str.isspace): the SQL path trims cells as read_table does.
# indicators/tests/test_import_values.py checks the list against Python's own.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# A number as SQL accepts it without asking Python: `networks.tabular.parse_decimal`'s pattern
# with ASCII digits only and an exponent PostgreSQL's numeric reads (|exponent| <= 1000).
# Whatever else Python may accept (other digits, longer exponents) goes to the Python checks.
SQL_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$"


class Fallback(Exception):
    """The SQL path cannot read this file exactly as the Python path does: let Python do it."""


@dataclass(frozen=True)
class PlainCsv:
    body: bytes  # the rows, after the header line
    delimiter: str
    width: int  # cells in the header line: every row has exactly as many
    columns: list[str]  # read_table's column names
    lines: int  # lines in the body: one row each


def plain_csv(content: bytes, name: str) -> PlainCsv | None:
    """The file as the SQL path reads it, or None when COPY might read it otherwise than read_table.

    A plain CSV: UTF-8, one row per line (no quoted line breaks), one kind of line end, quotes only
    around whole cells, a header without quotes that read_table accepts. COPY itself refuses bad
    bytes, NUL, blank lines and rows with more or fewer cells than the header (then: None later).
    """
    if Path(name).suffix.lower() in XLSX_SUFFIXES or content[:4] == b"PK\x03\x04":
        return None
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    end = content.find(b"\n")
    if end < 0 or b'"' in content[:end]:
        return None
    header, body = content[: end + 1], content[end + 1 :]
    carriage_returns = content.count(b"\r")
    if carriage_returns and carriage_returns != content.count(b"\r\n"):
        return None  # a lone CR is a line break for Python's csv, not for COPY
    try:
        text = header.decode("utf-8")
        columns = read_table(header, name=name, required=REQUIRED_COLUMNS).columns
    except (UnicodeDecodeError, ImportFailed):
        return None  # read_table reads the whole file and says what is wrong, in its order
    delimiter = ";" if text.count(";") > text.count(",") else ","
    width = len(next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
    if b'"' in body and not _quotes_plain(body, delimiter):
        return None
    lines = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
    return PlainCsv(body, delimiter, width, columns, lines)


def _quotes_plain(body: bytes, delimiter: str) -> bool:
    """Every quote opens or closes a whole quoted cell (`"1 234,5"`, `"a ""b"" c"`) on one line.

    COPY and Python's csv read such cells alike; elsewhere they part (`ab"c`, ` "x"`).
    """
    d = re.escape(delimiter.encode())
    cell = rb'(?:"(?:[^"\r\n]|"")*"|[^"' + d + rb"\r\n]*)"
    line = re.compile(cell + rb"(?:" + d + cell + rb")*\r?")
    return all(line.fullmatch(text) for text in body.split(b"\n") if b'"' in text)


class CsvRows:
    """A plain CSV file in `import_values_raw` (its cells) and `import_values_checked` (one row
    per value: ids, the number, `bad` and `odd`), and the messages of its bad rows."""

    def __init__(self, plain: PlainCsv) -> None:
        self.plain = plain
        self.raw = [f"c{n}" for n in range(1, plain.width + 1)]
        self.cell = {name: self.raw[index] for index, name in enumerate(plain.columns)}
        self.checker = RowChecker()
        self.valid: list[str] = []
        self.total = 0

    def load(self) -> set[tuple[int, str]]:
        """COPY and check the rows; their (municipality_id, period label) pairs, or ImportFailed.

        Duplicates are found later: by the unique constraint of the values, or before an UPDATE
        (`values_bulk_save_staged`), and then worded here (`report_errors`).
        """
        raw = self.raw
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE import_values_raw (n bigint GENERATED ALWAYS AS IDENTITY, "
                + ", ".join(f"{c} text" for c in raw)
                + ") ON COMMIT DROP"
            )
            try:
                with cursor.cursor.copy(
                    f"COPY import_values_raw ({', '.join(raw)}) FROM STDIN"
                    f" WITH (FORMAT csv, DELIMITER '{self.plain.delimiter}')"
                ) as copy:
                    view = memoryview(self.plain.body)
                    for start in range(0, len(view), 1 << 20):
                        copy.write(view[start : start + (1 << 20)])
            except psycopg.DataError:
                raise Fallback from None  # bad bytes, NUL, a blank line, a row of another width
            if cursor.cursor.rowcount != self.plain.lines:
                raise Fallback  # a line `\.` ends COPY's data early
            self._classify(cursor)
            cursor.execute(
                "SELECT municipality_id, period, bool_or(bad), bool_or(odd), count(*)"
                " FROM import_values_checked GROUP BY 1, 2"
            )
            groups = cursor.fetchall()
            if any(odd for *_key, _bad, odd, _count in groups):
                raise Fallback  # read_table refuses long cells and extra cells before any other check
            labels = {label for _municipality_id, label, *_rest in groups}
            self.valid = sorted(label for label in labels if self.checker.label(label) is not None)
            if any(bad or label not in self.valid for _municipality_id, label, bad, _odd, _count in groups):
                self.report_errors()
            self.total = sum(count for *_rest, count in groups)
            if not groups:
                cursor.execute("DROP TABLE import_values_raw, import_values_checked")
        return {(municipality_id, label) for municipality_id, label, *_rest in groups}

    def _classify(self, cursor) -> None:
        """`import_values_checked` from `import_values_raw`, the checks of `RowChecker` in SQL.

        `bad`: a check fails, or SQL cannot tell (Python decides then); the period label is checked
        afterwards, per distinct label. `odd`: read_table might refuse the row (a cell too long, a
        cell beyond the header's columns).
        """
        exotic = _exotic_whitespace(self.plain.body)
        strip = "btrim(coalesce({}, ''), %(ws)s)" if exotic else "btrim(coalesce({}, ''))"

        def cell(column: str) -> str:
            return strip.format(self.cell[column]) if column in self.cell else "''"

        raw = self.raw
        cells = ", ".join(raw)
        odd = " OR ".join(
            [
                f"greatest({', '.join(f'octet_length({c})' for c in raw)}) > {MAX_CELL_CHARS}",
                *(f"{strip.format(c)} <> ''" for c in raw[len(self.plain.columns) :]),
            ]
        )
        # A row of empty cells is no row (read_table); only a row without a municipality may be one.
        blank = f"municipality_code = '' AND {strip.format(f'concat({cells})')} = ''"
        spaces = "replace(replace({}, U&'\\00A0', ''), U&'\\202F', '')" if exotic else "{}"
        value = f"replace({spaces.format(cell('value'))}, ' ', '')"
        # Table names from the models, cell names c1, c2… from the header's positions. Each level
        # (OFFSET 0: not merged into the next) computes its expressions once per row.
        cursor.execute(
            "CREATE TEMPORARY TABLE import_values_checked ON COMMIT DROP AS"  # noqa: S608 - see above
            " SELECT n, municipality_id, item_id, period, number, is_missing, missing_reason, explanation,"
            " missing_status,"
            " coalesce(municipality_id IS NULL OR item_id IS NULL"
            " OR (is_missing AND missing_reason = '')"
            " OR (NOT is_missing AND (number IS NULL OR (number <> 0 AND abs(number) >= 1e23)"
            " OR number <> trunc(number, 15) OR (min_value IS NOT NULL AND number < min_value)"
            " OR (max_value IS NOT NULL AND number > max_value))), true) AS bad, odd"
            " FROM (SELECT t.n, m.id AS municipality_id, i.id AS item_id, i.min_value, i.max_value, t.period,"
            # Not cast beyond the cell limit: PostgreSQL's numeric refuses more than 16,383 digits
            # after the point with an error (such a row is odd, and read_table refuses it).
            " CASE WHEN t.value <> '' AND length(t.cleaned) <= %(longest)s AND t.cleaned ~ %(number)s"
            " THEN t.cleaned::numeric END AS number,"
            " t.value = '' OR t.marker <> '' AS is_missing,"
            " CASE WHEN t.value = '' THEN t.note WHEN t.marker = '' THEN ''"
            " WHEN t.note <> '' THEN t.note ELSE t.marker || ' ' || (%(labels)s::jsonb ->> t.marker) END"
            " AS missing_reason,"
            " CASE WHEN t.value = '' OR t.marker <> '' THEN '' ELSE t.note END AS explanation,"
            " t.marker AS missing_status, t.odd"
            " FROM (SELECT n, municipality_code, item_code, period, value, note, odd, marker,"
            " CASE WHEN strpos(value, '.') = 0 AND length(value) - length(replace(value, ',', '')) = 1"
            " THEN replace(value, ',', '.') ELSE value END AS cleaned"
            f" FROM (SELECT n, {cells}, {cell('municipality_code')} AS municipality_code,"
            f" {cell('item_code')} AS item_code, {cell('period')} AS period,"
            f" {value} AS value, {cell('note')} AS note, {odd} AS odd,"
            # A marker is the cell as written (spaces not removed), as `RowChecker` reads it.
            f" coalesce(%(markers)s::jsonb ->> {cell('value')}, '') AS marker"
            f" FROM import_values_raw OFFSET 0) AS s WHERE NOT ({blank}) OFFSET 0) AS t"
            f" LEFT JOIN {Municipality._meta.db_table} AS m ON m.code = t.municipality_code"
            f" LEFT JOIN {DataItem._meta.db_table} AS i ON i.code = t.item_code OFFSET 0) AS c",  # nosec B608
            {
                "ws": WHITESPACE,
                "number": SQL_NUMBER,
                "longest": MAX_CELL_CHARS,
                "markers": json.dumps(MISSING_MARKERS),
                "labels": json.dumps({status.value: str(status.label) for status in MissingStatus}),
            },
        )

    def write(
        self, submission_ids: dict[tuple[int, str], int], new_ids: set[int], user
    ) -> tuple[int, int, set[int], int]:
        result = values_bulk_save_staged(
            submission_ids=submission_ids, new_ids=new_ids, user=user, total=self.total, duplicates=self.report_errors
        )
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE import_values_raw")
        return result

    def report_errors(self) -> NoReturn:
        """Raise ImportFailed for the first rows SQL refused (bad ones, duplicates), worded and
        numbered by `RowChecker`, the way `rows_check` does."""
        with connection.cursor() as cursor:
            cursor.execute(
                "WITH flagged AS (SELECT n, municipality_id, item_id, period,"
                " bad OR period <> ALL(%(valid)s::text[]) AS bad FROM import_values_checked),"
                " firsts AS (SELECT n, min(n) OVER (PARTITION BY municipality_id, item_id, period) AS first"
                " FROM flagged WHERE NOT bad)"
                " SELECT f.n, d.first FROM flagged AS f LEFT JOIN firsts AS d ON d.n = f.n AND d.first <> f.n"
                " WHERE f.bad OR d.n IS NOT NULL ORDER BY f.n LIMIT %(limit)s",
                {"valid": self.valid, "limit": MAX_ERRORS + 1},
            )
            flagged = cursor.fetchall()
            cursor.execute(
                f"SELECT n, {', '.join(self.raw)} FROM import_values_raw WHERE n = ANY(%s)",  # noqa: S608 - c1, c2…  # nosec B608
                [[n for n, _first in flagged]],
            )
            cells = {n: row for n, *row in cursor.fetchall()}
        if not flagged:
            raise Fallback  # nothing SQL can name: let Python look
        errors = Errors()
        for n, first in flagged:
            data = dict(zip(self.plain.columns, [(c or "").strip() for c in cells[n]], strict=False))
            line = n + 1  # the header is line 1
            messages, entry = self.checker.check(data)
            for message in messages:
                errors.add(line, message)
            if not messages:
                if first is None:
                    raise Fallback  # SQL refused what Python accepts (digits of another script, …)
                errors.add(line, self.checker.duplicate(data, entry[1], first + 1))
            if errors.full:
                break
        raise ImportFailed(errors.errors)


# Lead bytes of the UTF-8 of WHITESPACE other than space and line ends: most files have none.
_WHITESPACE_LEADS = sorted({c.encode()[:1] for c in WHITESPACE if c not in " \r\n"})
_EXOTIC_WHITESPACE = re.compile(b"|".join(re.escape(c.encode()) for c in WHITESPACE if c not in " \r\n"))


def _exotic_whitespace(body: bytes) -> bool:
    """Whether cells may hold whitespace other than spaces (trimming all of it costs in SQL)."""
    return any(lead in body for lead in _WHITESPACE_LEADS) and _EXOTIC_WHITESPACE.search(body) is not None
