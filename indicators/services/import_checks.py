"""`import_values`, the check stage: what every row of a values file must be, in Python.

The columns a file must have, the checks of one row (`RowChecker`: codes, the period label, the
hard check of the value that the web form makes, a missing value's reason), the duplicates, and
the list of problems by line (`Errors`, at most `MAX_ERRORS`). `rows_check` checks a whole
`Table` (the Python path); the SQL path (`import_csv`) asks `RowChecker` for the wording of the
rows its SQL refused, so that both paths say the same.

It reads no file (`networks.tabular`, `import_csv`) and writes nothing (`imports`).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from networks.models import Municipality
from networks.tabular import ImportFailed, RowError, Table

from ..models import DataItem, MissingStatus, Period
from ..validation import check_value_hard

REQUIRED_COLUMNS = ("municipality_code", "item_code", "period", "value")
MAX_ERRORS = 1000  # a file that is wrong everywhere: the first thousand lines say enough

# (municipality_id, period label) -> {item_id: (line, number, is_missing, missing_reason, explanation, missing_status)}
Grouped = dict[tuple[int, str], dict[int, tuple]]


class Errors:
    """Row errors in file order, at most MAX_ERRORS and a last line saying more follow."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(self, line: int, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, message))
        elif len(self.errors) == MAX_ERRORS:
            self.errors.append(RowError(line, _("more problems follow; fix these first")))

    @property
    def full(self) -> bool:
        return len(self.errors) > MAX_ERRORS


# municipality_id, period label, item_id, number, is_missing, missing_reason, explanation, missing_status
Entry = tuple[int, str, int, Decimal | None, bool, str, str, str]


class RowChecker:
    """The checks of one row: the Python path asks for every row, the SQL path for the wording
    of the rows its SQL refused."""

    def __init__(self) -> None:
        self.municipalities = dict(Municipality.objects.values_list("code", "id"))
        self.items = {item.code: item for item in DataItem.objects.all()}
        self.labels: dict[str, str | None] = {}  # label as written -> normalised label, or None
        self.label_errors: dict[str, str] = {}  # label as written -> why it is refused

    def label(self, label: str) -> str | None:
        if label not in self.labels:
            try:
                Period.bounds_from_label(label)
            except ValueError as exc:
                self.labels[label] = None
                self.label_errors[label] = str(exc)
            else:
                self.labels[label] = label.strip()
        return self.labels[label]

    def check(self, data: dict[str, str]) -> tuple[list[str], Entry | None]:
        """The row's problems (duplicates aside), or none and what it says."""
        municipality_code = data.get("municipality_code", "")
        item_code = data.get("item_code", "")
        label = data.get("period", "")
        raw = data.get("value", "")
        note = data.get("note", "")
        messages = []
        municipality_id = self.municipalities.get(municipality_code)
        if municipality_id is None:
            messages.append(_("unknown municipality code %(code)s") % {"code": repr(municipality_code)})
        item = self.items.get(item_code)
        if item is None:
            messages.append(_("unknown data item code %(code)s") % {"code": repr(item_code)})
        period = self.label(label)
        if period is None:
            messages.append(self.label_errors[label])
        if messages:
            return messages, None
        status = MissingStatus.from_marker(raw)
        if status:  # a statistics office's marker: missing, the note (or the marker's label) says why
            return [], (municipality_id, period, item.pk, None, True, MissingStatus.reason(status, note), "", status)
        if raw:
            checked = check_value_hard(item, raw)
            if checked.error:
                return [f"{item_code}: {checked.error}"], None
            return [], (municipality_id, period, item.pk, checked.number, False, "", note, "")
        if not note:
            return [_("the value is empty: give the reason it is missing in the note column")], None
        return [], (municipality_id, period, item.pk, None, True, note, "", "")

    @staticmethod
    def duplicate(data: dict[str, str], period: str, first_line: int) -> str:
        return _("%(municipality)s %(item)s %(period)s already appears on line %(line)d") % {
            "municipality": data.get("municipality_code", ""),
            "item": data.get("item_code", ""),
            "period": period,
            "line": first_line,
        }


# --- the Python path: a Table ------------------------------------------------------------------


def rows_check(table: Table, checker: RowChecker) -> Grouped:
    """Check every row; return {(municipality_id, period_label): {item_id: (line, number, ...)}}."""
    errors = Errors()
    grouped: Grouped = {}
    for row in table.rows:
        messages, entry = checker.check(row.data)
        for message in messages:
            errors.add(row.line, message)
        if entry is None:
            continue
        municipality_id, period, item_id, *value = entry
        values = grouped.setdefault((municipality_id, period), {})
        previous = values.get(item_id)
        if previous is not None:
            errors.add(row.line, checker.duplicate(row.data, period, previous[0]))
            continue
        values[item_id] = (row.line, *value)
    if errors.errors:
        raise ImportFailed(errors.errors)
    return grouped
