"""The Excel round trip of one submission: a pre-filled template, then upload → preview → commit.

The template has one sheet. Column A (hidden) holds the data item codes and, in A1, the
submission and the version it was downloaded at; the sheet is protected so that only the value,
"why missing" and explanation cells can be changed. Uploading reads those cells back, checks
every one with the same hard check as the web form and lists every change and every problem by
cell before anything is saved. Only what a template of the round can hold is read, as a stream:
a larger workbook is refused unread. The commit goes through `submission_values_save` with the
version the template was downloaded at, so a template older than the last save is refused whole.

This module knows the template; it is not the XLSX reader (`networks.xlsx`, generic and bounded
by the budgets given here) and does not save values itself (`values`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from networks import xlsx
from networks.tabular import XLSX_MAX_UNPACKED_BYTES, neutralise, parse_decimal, xlsx_too_large
from networks.xlsx import (
    EMPTY,
    SHOWN_CHARS,
    Cell,
    cell_text,
    not_a_value,
    reference,
    shown,
)

from ..errors import IndicatorsError
from ..models import MISSING_MARKERS, DataItem, MissingStatus, Submission, Value
from ..validation import Checked, check_value_entered
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


class TemplateRejected(IndicatorsError):
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
                    change.given.missing_status,
                ]
                for change in self.changes
            },
        }


def _display(value: Value | ValueInput | None) -> str:
    if value is None or (isinstance(value, ValueInput) and value.is_empty):
        return ""
    if value.is_missing:
        return _("missing: %(reason)s") % {"reason": value.missing_reason}
    return number_format(value.number.normalize())


def _text_cell(sheet, row: int, column: int, text: str):
    cell = sheet.cell(row=row, column=column)
    if text:
        cell.value = text
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
    return cell


def template_build(
    *, submission: Submission, items: list[DataItem], values: dict[int, Value], previous: dict[int, Value]
) -> bytes:
    """The XLSX template of `submission` (items in the form's order, current and last values)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Data")[:31]
    round_ = submission.round
    sheet["A1"] = f"{MARKER}:{submission.pk}:{submission.version}"
    sheet["B1"] = neutralise(f"{submission.municipality.name} — {round_.network.code} {round_.period.label}")
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
        sheet.cell(row=row, column=2, value=neutralise(item.display_name))
        sheet.cell(row=row, column=3, value=neutralise(item.unit))
        sheet.cell(row=row, column=4, value=neutralise(item.display_instructions)).alignment = Alignment(wrap_text=True)
        if last is not None and not last.is_missing:
            sheet.cell(row=row, column=5, value=float(last.number))
        editable = item.source != DataItem.Source.OFFICIAL
        value_cell = sheet.cell(row=row, column=VALUE_COLUMN)
        if value is not None and not value.is_missing:
            # Stored exactly; Excel holds 15 significant digits, more is kept as text.
            number = value.number.normalize()
            value_cell.value = float(number) if len(number.as_tuple().digits) <= 15 else str(number)
        elif value is not None and value.missing_status:
            _text_cell(sheet, row, VALUE_COLUMN, value.missing_status)  # read back as the same status
        # Read back on upload, so kept exactly: text cells, never formulas (no quote prefix).
        missing_cell = _text_cell(sheet, row, MISSING_COLUMN, value.missing_reason if value else "")
        explanation_cell = _text_cell(sheet, row, EXPLANATION_COLUMN, value.explanation if value else "")
        if editable:
            for cell in (value_cell, missing_cell, explanation_cell):
                cell.protection = Protection(locked=False)
                cell.fill = EDITABLE_FILL
            low = item.min_value if item.min_value is not None else -NUMBER_LIMIT
            high = item.max_value if item.max_value is not None else NUMBER_LIMIT
            # A number in range, or a statistics office's marker of a missing figure (docs/official.md).
            ref = value_cell.coordinate
            markers = ",".join(f'{ref}="{marker}"' for marker in MISSING_MARKERS)
            validation = DataValidation(
                type="custom",
                formula1=f"OR(AND(ISNUMBER({ref}),{ref}>={low.normalize()},{ref}<={high.normalize()}),{markers})",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_("Not allowed"),
                error=_("Enter a number from %(min)s to %(max)s, or a missing figure's mark: %(marks)s.")
                % {
                    "min": number_format(low.normalize()),
                    "max": number_format(high.normalize()),
                    "marks": " ".join(MissingStatus.values),
                },
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


def unpacked_limit(*, items: int) -> int:
    """The most a template of a round with `items` data items may unpack to (bytes)."""
    return UNPACKED_BASE_BYTES + (HEADER_ROW + items) * UNPACKED_ROW_BYTES


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


def _sheet_rows(content: bytes, *, items: int, last_row: int) -> Iterator[tuple[int, dict[int, Cell]]]:
    """The rows of the workbook's first sheet up to `last_row` (`networks.xlsx.sheet_rows`), the
    cells of the template's columns by column number, within the budgets of a round of `items`
    data items. Raises TemplateRejected for a file that is unreadable or larger than a template."""
    try:
        yield from xlsx.sheet_rows(
            content,
            elements=MAX_ELEMENTS_BASE + (HEADER_ROW + items) * MAX_ELEMENTS_ROW,
            last_row=last_row,
            max_column=MAX_COLUMN,
            columns=len(COLUMNS),
        )
    except xlsx.TooManyElements:
        raise TemplateRejected(
            _(
                "The workbook holds more than a template of this round can hold. Download a new template and enter "
                "the values in it."
            )
        ) from None
    except xlsx.CellsTooFar as exc:
        raise _too_much(exc.cell) from None
    except xlsx.Unreadable as exc:
        raise _unreadable() from exc


def _number(item: DataItem, cell: Cell) -> Checked:
    """The value cell, checked as the web form checks a value (`check_value_entered`: range and decimals)."""
    problem = not_a_value(cell)
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
        number = xlsx.number_value(cell.text)
        if number is None:
            return Checked(None, not_a_number % {"value": repr(shown(cell.text))})
        return check_value_entered(item, number)
    text = cell.text.strip()
    if len(text) > SHOWN_CHARS:  # checked here so that the message does not repeat all of it
        try:
            return check_value_entered(item, parse_decimal(text))
        except ValueError:
            return Checked(None, not_a_number % {"value": repr(shown(text))})
    return check_value_entered(item, text)


def _marker_preview(*, submission: Submission, cell: Cell) -> Preview:
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
    unpacked = xlsx.unpacked_bytes(content)
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
                preview = _marker_preview(submission=submission, cell=cells.get(1, EMPTY) if number == 1 else EMPTY)
            if number > HEADER_ROW:
                _read_row(preview, number, cells, by_code=by_code, official=official, seen=seen, values=values)
    if preview is None:
        preview = _marker_preview(submission=submission, cell=EMPTY)
    return preview


def _read_row(
    preview: Preview,
    number: int,
    cells: dict[int, Cell],
    *,
    by_code: dict[str, DataItem],
    official: set[str],
    seen: set[str],
    values: dict[int, Value],
) -> None:
    """One data row of the sheet into `preview`: a change, an unchanged value or a problem."""
    code_cell = cells.get(1, EMPTY)
    value_cell = cells.get(VALUE_COLUMN, EMPTY)
    reason_cell = cells.get(MISSING_COLUMN, EMPTY)
    explanation_cell = cells.get(EXPLANATION_COLUMN, EMPTY)
    value_ref = reference(number, VALUE_COLUMN)
    code = cell_text(code_cell) if code_cell.kind in ("text", "number") else ""
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
        label = shown(code)
        preview.problems.append(CellProblem(f"A{number}", label, _("Unknown data item %(code)s.") % {"code": label}))
        return
    seen.add(code)
    for column, cell in ((MISSING_COLUMN, reason_cell), (EXPLANATION_COLUMN, explanation_cell)):
        problem = not_a_value(cell)
        if problem:
            preview.problems.append(CellProblem(reference(number, column), code, problem))
            return
    reason = cell_text(reason_cell)
    explanation = cell_text(explanation_cell)
    status = MissingStatus.from_marker(value_cell.text.strip()) if value_cell.kind == "text" else ""
    if status:  # a statistics office's marker: missing with that status, the reason cell (or its label) says why
        given = ValueInput(
            is_missing=True,
            missing_reason=MissingStatus.reason(status, reason),
            explanation=explanation,
            missing_status=status,
        )
        _preview_add(preview, item, code, values.get(item.pk), given)
        return
    checked = _number(item, value_cell)
    if checked.error:
        preview.problems.append(CellProblem(value_ref, code, checked.error))
        return
    if checked.number is not None and reason:
        preview.problems.append(
            CellProblem(
                reference(number, MISSING_COLUMN),
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
    _preview_add(preview, item, code, values.get(item.pk), given)


def _preview_add(preview: Preview, item: DataItem, code: str, current: Value | None, given: ValueInput) -> None:
    if _unchanged(current, given):
        preview.unchanged += 1
        return
    preview.changes.append(
        Change(
            item_id=item.pk,
            item_code=code,
            item_name=item.display_name,
            old=_display(current),
            new=_display(given),
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
        and (current.missing_status if current.is_missing else "") == (given.missing_status if given.is_missing else "")
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
            missing_status=status[0] if status else "",
        )
        for item_id, (number, is_missing, reason, explanation, *status) in data["values"].items()
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
