"""The Excel round trip of one submission: a pre-filled template, then upload → preview → commit.

The template has one sheet. Column A (hidden) holds the data item codes and, in A1, the
submission and the version it was downloaded at; the sheet is protected so that only the value,
"why missing" and explanation cells can be changed. Uploading reads those cells back, checks
every one with the same hard check as the web form and lists every change and every problem by
cell before anything is saved. The commit goes through `submission_values_save` with the version
the template was downloaded at, so a template older than the last save is refused as a whole.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from networks.tabular import XLSX_MAX_UNPACKED_BYTES, xlsx_too_large

from ..models import DataItem, Submission, Value
from ..validation import check_value_hard
from .values import ValueInput, submission_values_save

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MARKER = "benchlearning-template"
MARKER_RE = re.compile(rf"^{MARKER}:(?P<submission>\d+):(?P<version>\d+)$")
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


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def upload_parse(*, submission: Submission, content: bytes, items: list[DataItem], values: dict[int, Value]) -> Preview:
    """Read an uploaded template; every change and every problem by cell. Saves nothing.

    Raises TemplateRejected when the file is not this submission's template at all.
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
    try:
        workbook = load_workbook(io.BytesIO(content), data_only=True)
        sheet = workbook.worksheets[0]  # none when the workbook part is damaged
    except Exception as exc:  # openpyxl raises many kinds for a damaged or non-XLSX file
        raise TemplateRejected(_("The file is not a readable XLSX workbook.")) from exc
    match = MARKER_RE.match(_cell_text(sheet["A1"].value))
    if not match:
        raise TemplateRejected(
            _("This is not a template downloaded from the portal (its hidden first column is missing or changed).")
        )
    if int(match["submission"]) != submission.pk:
        raise TemplateRejected(_("This template belongs to another municipality or round."))
    preview = Preview(submission_id=submission.pk, version=int(match["version"]))
    preview.stale = preview.version != submission.version
    by_code = {item.code: item for item in items if item.source != DataItem.Source.OFFICIAL}
    official = {item.code for item in items if item.source == DataItem.Source.OFFICIAL}
    seen: set[str] = set()
    for row in sheet.iter_rows(min_row=HEADER_ROW + 1, max_col=len(COLUMNS)):
        code = _cell_text(row[0].value)
        raw = row[VALUE_COLUMN - 1].value
        reason = _cell_text(row[MISSING_COLUMN - 1].value)
        explanation = _cell_text(row[EXPLANATION_COLUMN - 1].value)
        value_ref = row[VALUE_COLUMN - 1].coordinate
        if not code:
            if raw not in (None, "") or reason or explanation:
                preview.problems.append(
                    CellProblem(value_ref, "", _("This row has no data item: do not add rows to the template."))
                )
            continue
        if code in official:
            continue  # shown for information, locked: the coordinator loads official figures
        item = by_code.get(code)
        if item is None or code in seen:
            preview.problems.append(
                CellProblem(row[0].coordinate, code, _("Unknown data item %(code)s.") % {"code": code})
            )
            continue
        seen.add(code)
        if isinstance(raw, str):
            raw = raw.strip()
        if isinstance(raw, bool) or (raw is not None and not isinstance(raw, int | float | str | Decimal)):
            preview.problems.append(CellProblem(value_ref, code, _("This cell must hold a number.")))
            continue
        checked = check_value_hard(item, raw)
        if checked.error:
            preview.problems.append(CellProblem(value_ref, code, checked.error))
            continue
        if checked.number is not None and reason:
            preview.problems.append(
                CellProblem(
                    row[MISSING_COLUMN - 1].coordinate,
                    code,
                    _("Give either a value or the reason why it is missing, not both."),
                )
            )
            continue
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
            continue
        current = values.get(item.pk)
        if _unchanged(current, given):
            preview.unchanged += 1
            continue
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
    return preview


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
    "upload_commit",
    "upload_parse",
]
