"""The rows of a submission page: each data item with its value, last period's value, warnings
and query thread, grouped by theme. Shared by the staff form and the coordinator's review.

Each row carries its markup, built here once: the staff form's whole row (`StaffRow`: one line
per item with its fields, last period and state, the "missing" and explanation parts shown only
when needed) and the review's side column (`RowSide`). At 200 data items crispy per field and a
template included per row made the staff form take ~850 ms; the pages' templates print the
pieces as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
    state: str = ""  # the staff form's state of the row (`STATES`)
    html: str = ""  # the staff form's row (`StaffRow`), or the review's side column (`RowSide`)

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
    side: RowSide | StaffRow,
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
        value, before = values.get(item.pk), previous.get(item.pk)
        row = Row(
            item=item,
            value=value,
            shown=_figure(value, item),
            previous=_figure(before, item),
            previous_label=before.submission.round.period.label if before is not None else "",
            warnings=warnings.get(item.pk, []),
            thread=threads.get(item.pk, []),
            errors=errors.get(item.pk, []),
        )
        row.html = side.html(row)
        rows.append(row)
    return [(theme, list(group)) for theme, group in groupby(rows, key=lambda row: row.item.display_theme)]


def _figure(value: Value | None, item: DataItem) -> str:
    """A value as the rows show it: nothing when there is none, a dash when it is missing."""
    if value is None:
        return ""
    return "—" if value.is_missing else format_number(value.number, item.decimals)


class RowSide:
    """The side column of a row (last period, errors, warnings, the query thread and its question
    form), for the staff form and the coordinator's review alike. Built in Python, not by a
    template included per row: at 200 data items the includes cost ~0.1 ms a row. The texts every
    row repeats are translated once, the question form's URL is reversed once, the CSRF field made
    once. Every text is escaped (see `html`)."""

    def __init__(self, request: HttpRequest, submission: Submission, may_discuss: bool) -> None:
        self.may_discuss = may_discuss
        self.unit = _("Unit")
        self.last_period = _("Last period")
        self.not_known = _("not known")
        self.warning = _("Warning")
        self.explain = _("Explain this value before submitting.")
        self.ask = _("Ask a question about this value")
        self.question = _("Question or answer about this value")
        self.send = _("Send")
        self.unknown = _("unknown")
        url = reverse("indicators:value_query_post", kwargs={"pk": submission.pk, "item_pk": 0})
        self.action_prefix, self.action_suffix = url.rsplit("/0/", 1)
        self.csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))

    def html(self, row) -> SafeString:
        parts = ['<dl class="small mb-1">\n  ']
        if row.item.display_unit:
            unit = escape(row.item.display_unit)
            parts.append(f'<div><dt class="d-inline">{escape(self.unit)}:</dt> <dd class="d-inline">{unit}</dd></div>')
        label = f" ({escape(row.previous_label)})" if row.previous_label else ""
        parts.append(
            f'\n  <div><dt class="d-inline">{escape(self.last_period)}{label}:</dt>\n'
            f'  <dd class="d-inline">{escape(row.previous or self.not_known)}</dd></div>\n</dl>\n'
        )
        for error in row.errors:
            parts.append(f'<div class="alert alert-danger py-1 px-2 small mb-1" role="alert">{escape(error)}</div>')
        parts.append("\n")
        for warning in row.warnings:
            parts.append(
                f'<div class="alert alert-warning py-1 px-2 small mb-1">{escape(self.warning)}: {escape(warning)}</div>'
            )
        parts.append("\n")
        if row.needs_explanation:
            parts.append(f'<div class="small text-danger fw-semibold mb-1">{escape(self.explain)}</div>')
        parts.append("\n")
        parts.append(self.thread(row))
        # Safe: every text above (unit, labels, errors, warnings, thread, URL) went through escape();
        # the CSRF field comes from format_html, ids are integers, the rest is fixed markup.
        return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703

    def thread(self, row: Row, *, css: str = "mt-2") -> str:
        """The query thread of a value and the question form (in a <details>, open when the thread
        has messages); "" when there is none and the person may not write. Escaped markup."""
        pk = row.item.pk
        parts = []
        if row.thread or self.may_discuss:
            if row.thread:
                count = len(row.thread)
                summary = ngettext(
                    "%(counter)s message about this value", "%(counter)s messages about this value", count
                ) % {"counter": localize(count)}
            else:
                summary = self.ask
            parts.append(
                f'<details class="{css}"{" open" if row.thread else ""}>\n'
                f'  <summary class="small">{escape(summary)}</summary>\n  <ul class="list-unstyled small mb-2">\n'
            )
            for query in row.thread:
                author = query.author
                name = (author.get_full_name() or author.get_username()) if author else ""
                at = date_format(timezone.localtime(query.at), "DATETIME_FORMAT")
                text = escape(normalize_newlines(query.text)).replace("\n", "<br>")
                parts.append(
                    f'    <li class="border-start ps-2 mb-1"><strong>{escape(name or self.unknown)}</strong>'
                    f' <span class="text-muted">{escape(at)}</span><br>{text}</li>\n'
                )
            parts.append("  </ul>\n")
            if self.may_discuss:
                action = escape(f"{self.action_prefix}/{pk}/{self.action_suffix}")
                parts.append(
                    f'  <form method="post" action="{action}">\n    {self.csrf}\n'
                    f'    <label class="form-label small" for="query-{pk:d}">{escape(self.question)}</label>\n'
                    f'    <textarea class="form-control form-control-sm mb-1" id="query-{pk:d}" name="text" rows="2"'
                    ' maxlength="4000" required></textarea>\n'
                    f'    <button type="submit" class="btn btn-sm btn-outline-secondary">{escape(self.send)}</button>\n'
                    "  </form>\n"
                )
            parts.append("</details>\n")
        return "".join(parts)


# The state of a row in the staff form, as its status column says it and the script keeps it.
STATES = ("empty", "filled", "missing", "warning", "explained", "error", "official")


class StaffRow:
    """The staff form's row of one data item: its name (the value's label) and instructions, the
    value with its unit, last period's value, the row's state, then what the value needs: errors
    and warnings (`feed`), "missing" (its mark and reason shown only while ticked, by CSS), the
    explanation (a <details>, open when a warning or a text needs it) and the query thread.

    Without JavaScript every part works: the missing part follows its checkbox through CSS
    (`:has()`, and shown whenever a browser lacks it), the explanation and thread are <details>.
    `static/js/submission-form.js` adds the field checks on leaving a field and the live counts.
    Official items and a submission that is no longer editable show the figures, read-only.
    Built in Python like `RowSide` (no template per row); every text is escaped.
    """

    def __init__(self, side: RowSide, form: SubmissionForm | None) -> None:
        self.side, self.form = side, form
        self.words = state_words()
        self.last_period, self.not_known = _("Last period"), _("not known")
        self.warning, self.explain = _("Warning"), _("Explain this value before submitting.")
        self.explanation, self.missing = _("Explanation"), _("Missing")
        self.source = _("Source")
        self.footnote = _("Footnote")

    def state(self, row: Row) -> str:
        """The row's state: `STATES`, from the form as typed when there is one, else as stored."""
        item, form = row.item, self.form
        if item.source == DataItem.Source.OFFICIAL:
            return "official"
        if form is not None and item.pk in form.item_ids:
            if row.errors or any(form.errors.get(f"{kind}_{item.pk}") for kind in SubmissionForm.KINDS):
                return "error"
            if form.is_missing(item):
                return "missing"
            if not form.text("value", item).strip():
                return "empty"
            if row.warnings:
                return "explained" if form.text("explanation", item).strip() else "warning"
            return "filled"
        value = row.value
        if row.errors:
            return "error"
        if value is None:
            return "empty"
        if value.is_missing:
            return "missing"
        if row.warnings:
            return "warning" if row.needs_explanation else "explained"
        return "filled"

    def html(self, row: Row) -> SafeString:
        item = row.item
        state = self.state(row)
        row.state = state
        editable = self.form is not None and state != "official" and item.pk in self.form.item_ids
        pk = item.pk
        caption = escape(self.last_period) + (f" ({escape(row.previous_label)})" if row.previous_label else "")
        previous = (
            f'<div class="entry-previous"><span class="entry-caption">{caption}:</span> '
            f"{escape(row.previous or self.not_known)}</div>"
        )
        status = f'<div class="entry-status"><span class="entry-state">{escape(self.words[state])}</span></div>'
        unit = escape(item.display_unit)
        if editable:
            body = self._editable(row, state, previous, status, unit)
        else:
            body = self._read_only(row, previous, status, unit)
        warned = ' data-warned="1"' if row.warnings else ""
        if state == "error":
            # Which error: the value's (cleared by its next check) or another (by any change).
            value_error = editable and self.form.errors.get(f"value_{pk}")
            warned += f' data-error="{"value" if value_error else "other"}"'

        # Safe: every text (names, units, instructions, values, reasons, warnings, thread) went
        # through escape() here or in the form's control builders; ids are integers.
        return mark_safe(  # noqa: S308  # nosec B308 B703
            f'<div class="entry" id="item-{pk:d}" data-item="{pk:d}" data-state="{state}"{warned}>{body}</div>\n'
        )

    def _feed(self, row: Row, *, warnings: bool, explain: bool) -> str:
        """Errors of the submission check and (`warnings`) the warnings, with what they ask
        (`explain`); announced when the script replaces them after a field check."""
        parts = [f'<p class="entry-problem">{escape(error)}</p>' for error in row.errors]
        if warnings and row.warnings:
            lines = "".join(f"<li>{escape(self.warning)}: {escape(warning)}</li>" for warning in row.warnings)
            asked = f'<p class="entry-explain">{escape(self.explain)}</p>' if explain else ""
            parts.append(f'<div class="entry-warnings" id="warn-{row.item.pk:d}"><ul>{lines}</ul>{asked}</div>')
        return "".join(parts)

    def _editable(self, row: Row, state: str, previous: str, status: str, unit: str) -> str:
        form, item, pk = self.form, row.item, row.item.pk
        # The warnings are of the stored value: not beside a typed value that was refused.
        refused = bool(form.errors.get(f"value_{pk}"))
        shows_warnings = bool(row.warnings) and state != "missing" and not refused
        value = form.control("value", item, describedby=(f"warn-{pk}",) if shows_warnings else ())
        unit_html = f'<span class="input-group-text" aria-hidden="true">{unit}</span>' if unit else ""
        hidden_unit = f"({item.display_unit})" if item.display_unit else ""
        needed = state == "warning" or bool(form.errors.get(f"explanation_{pk}"))
        open_ = " open" if needed or form.text("explanation", item).strip() else ""
        label = form.label_html("value", item, css="entry-label", hidden_suffix=hidden_unit)
        feed = self._feed(row, warnings=shows_warnings, explain=state == "warning")
        return (
            f'<div class="entry-name">{label}</div>\n'
            f'<div class="entry-value"><div class="input-group input-group-sm">{value}{unit_html}</div></div>\n'
            f"{previous}\n{status}\n"
            f'<div class="entry-help">{form.help_html("value", item)}{self._footnote(row)}</div>\n'
            f'<div class="entry-feed" id="feed-{pk:d}" aria-live="polite">'
            f"{form.errors_html('value', item)}{feed}</div>\n"
            '<div class="entry-tools">\n'
            f'<div class="form-check entry-missing">{form.control("missing", item)}'
            f"{form.label_html('missing', item, css='form-check-label')}</div>\n"
            '<div class="entry-missing-panel">'
            f'<div class="entry-marker">{form.label_html("marker", item, css="form-label")}'
            f"{form.control('marker', item)}{form.errors_html('marker', item)}</div>"
            f'<div class="entry-reason">{form.label_html("reason", item, css="form-label")}'
            f"{form.control('reason', item)}{form.errors_html('reason', item)}</div>"
            "</div>\n"
            f'<details class="entry-explanation"{open_}>'
            f"<summary>{escape(self.explanation)}</summary>"
            f"{form.label_html('explanation', item, css='visually-hidden')}"
            f"{form.control('explanation', item)}{form.errors_html('explanation', item)}"
            f"{form.help_html('explanation', item)}</details>\n"
            f"{self.side.thread(row, css='entry-thread')}"
            "</div>"
        )

    def _footnote(self, row: Row) -> str:
        """A statistics office's footnote on the stored value (docs/official.md): read-only, small."""
        if row.value is None or not row.value.footnote:
            return ""
        return f'<p class="entry-footnote small text-muted">{escape(self.footnote)}: {escape(row.value.footnote)}</p>'

    def _read_only(self, row: Row, previous: str, status: str, unit: str) -> str:
        item, value = row.item, row.value
        shown = escape(row.shown or "…")
        notes = []
        if item.display_instructions:
            notes.append(f'<p class="entry-instructions">{escape(item.display_instructions)}</p>')
        if value is not None and value.is_missing:
            notes.append(f"<p>{escape(self.missing)}: {escape(value.missing_reason)}</p>")
        if value is not None and value.explanation:
            # An official value's explanation records its source (`services.official.source_text`).
            word = self.source if item.source == DataItem.Source.OFFICIAL else self.explanation
            notes.append(f'<p class="entry-note">{escape(word)}: {escape(value.explanation)}</p>')
        notes.append(self._footnote(row))
        feed = self._feed(row, warnings=True, explain=row.needs_explanation)
        numbered = value is not None and not value.is_missing
        unit_html = f' <span class="entry-unit">{unit}</span>' if unit and numbered else ""
        return (
            f'<div class="entry-name"><span class="entry-label">{escape(item.display_name)}</span></div>\n'
            f'<div class="entry-value"><span class="entry-figure">{shown}</span>{unit_html}</div>\n'
            f"{previous}\n{status}\n"
            f'<div class="entry-help">{"".join(notes)}</div>\n'
            f'<div class="entry-feed" id="feed-{item.pk:d}">{feed}</div>\n'
            f'<div class="entry-tools">{self.side.thread(row, css="entry-thread")}</div>'
        )


def state_words() -> dict[str, str]:
    """The words of the row states (`STATES`), in the active language; the script gets them too."""
    return {
        "empty": _("not filled"),
        "filled": _("filled"),
        "missing": _("declared missing"),
        "warning": _("needs an explanation"),
        "explained": _("explained"),
        "error": _("to correct"),
        "official": _("official statistics"),
    }
