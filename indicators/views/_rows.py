"""The rows of a submission page: each data item with its value, last period's value, warnings
and query thread, grouped by theme. Shared by the staff form and the coordinator's review."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from .. import selectors
from ..forms import SubmissionForm, format_number
from ..models import DataItem, Submission, Value
from ..services.submissions import submission_warnings


@dataclass
class Row:
    item: DataItem
    value: Value | None
    shown: str
    previous: str
    previous_label: str
    warnings: list[str]
    thread: list
    errors: list[str] = field(default_factory=list)
    fields: list = field(default_factory=list)
    fields_html: str = ""  # the editable fields, rendered by the staff form's view
    side_html: str = ""  # the staff form's side column (last period, warnings, thread), built by its view

    @property
    def needs_explanation(self) -> bool:
        return bool(self.warnings) and not (self.value and self.value.explanation.strip())

    @property
    def is_official(self) -> bool:
        return self.item.source == DataItem.Source.OFFICIAL


def submission_rows(
    *,
    submission: Submission,
    items: list[DataItem],
    form: SubmissionForm | None = None,
    errors: dict | None = None,
    values: dict[int, Value] | None = None,
    previous: dict[int, Value] | None = None,
    warnings: dict[int, list[str]] | None = None,
) -> list[tuple[str, list[Row]]]:
    """The rows of the form and of the review; pass what the caller has read already."""
    values = selectors.submission_values(submission=submission) if values is None else values
    previous = selectors.previous_values(submission=submission) if previous is None else previous
    if warnings is None:
        warnings = submission_warnings(submission=submission, items=items, values=values, previous=previous)
    threads = selectors.submission_queries(submission=submission)
    errors = errors or {}
    rows = []
    for item in items:
        value = values.get(item.pk)
        before = previous.get(item.pk)
        if value is None:
            shown = ""
        elif value.is_missing:
            shown = "—"
        else:
            shown = format_number(value.number, item.decimals)
        if before is None:
            previous_shown, previous_label = "", ""
        else:
            previous_shown = "—" if before.is_missing else format_number(before.number, item.decimals)
            previous_label = before.submission.round.period.label
        row = Row(
            item=item,
            value=value,
            shown=shown,
            previous=previous_shown,
            previous_label=previous_label,
            warnings=warnings.get(item.pk, []),
            thread=threads.get(item.pk, []),
            errors=errors.get(item.pk, []),
        )
        if form is not None and item.source == DataItem.Source.ENTERED:
            row.fields = form.fields_of(item)
        rows.append(row)
    return [(theme, list(group)) for theme, group in groupby(rows, key=lambda row: row.item.display_theme)]
