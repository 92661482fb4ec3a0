"""`import_values`: many figures at once, for coordinators and official statistics (DESIGN.md §5).

Long format `municipality_code,item_code,period,value[,note]`; an empty value declares the figure
missing and the note says why (for a number the note is its explanation). Periods, rounds and
submissions are created as needed; the submissions touched get the status asked for.

All or nothing: every row is checked first (codes, period label, the hard check of the value,
duplicates) and any bad row means nothing is written. Re-importing the same file changes nothing:
unchanged values are not written again and get no history row. Every written value gets a row in
the value history (`HistoricalValue`), like a change made in the web form.

Three ways in, one result:

- `values_import_file` on PostgreSQL with a plain CSV file (the command's usual case): the file's
  bytes go with COPY into a temporary table of text cells, and the checks are set-based SQL that
  mirror the Python checks (`_RowChecker`) — trimming as `str.strip`, codes, the number's syntax,
  size, decimals and range; duplicates by the values' unique constraint (and one aggregate over
  the values that may be updated). Only when SQL finds a bad row does Python look at rows again:
  the first ones SQL refused, through the very checks of the Python path, for the same messages
  and line numbers (the header is line 1 and every row one line, or the file is not plain).
  Whatever this path cannot read exactly as `read_table` does (XLSX, blank or multi-line rows,
  irregular quoting, a row shorter or longer than the header, bad bytes, an unusual header, a
  value SQL refuses but Python accepts) falls back to the Python path.
- `values_import` with a `Table` (XLSX, the demo, the fallback): every row is checked in Python;
  on PostgreSQL the rows are then streamed with COPY into the same temporary table;
- on other databases (SQLite: `make run`, `make test`) `executemany` in batches.

On PostgreSQL values and their history rows are written by two set-based statements (UPDATE of
changed values, INSERT of new ones, each inserting its history rows). The transaction sets
`synchronous_commit = off` (a crash right after the command may lose the import, never half of
it) and a larger `work_mem` for the hash aggregates. Neither path issues a query per row.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from networks import events
from networks.models import Membership, Municipality, Network
from networks.tabular import MAX_CELL_CHARS, XLSX_SUFFIXES, ImportFailed, RowError, Table, read_table

from ..models import DataItem, Period, Round, Submission, SubmissionEvent, Value
from ..validation import check_value_hard
from .periods import period_get_or_create

REQUIRED_COLUMNS = ("municipality_code", "item_code", "period", "value")
OPTIONAL_COLUMNS = ("note",)
BATCH = 2000
MAX_ERRORS = 1000  # a file that is wrong everywhere: the first thousand lines say enough

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


@dataclass
class ValuesReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    periods_created: int = 0
    rounds_created: int = 0
    submissions_created: int = 0
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = _(
            "%(created)d values created, %(updated)d updated, %(unchanged)d unchanged; "
            "%(periods)d periods, %(rounds)d rounds and %(submissions)d submissions created"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "periods": self.periods_created,
            "rounds": self.rounds_created,
            "submissions": self.submissions_created,
        }
        if self.dry_run:
            text += " " + _("(dry run: nothing was saved)")
        return text


# (submission_id, item_id, number, is_missing, missing_reason, explanation)
_ValueRow = tuple[int, int, Decimal | None, bool, str, str]
# (municipality_id, period label) -> {item_id: (line, number, is_missing, missing_reason, explanation)}
_Grouped = dict[tuple[int, str], dict[int, tuple]]


class _DryRun(Exception):
    pass


class _Fallback(Exception):
    """The SQL path cannot read this file exactly as the Python path does: let Python do it."""


def values_import(
    *,
    table: Table,
    network: Network,
    status: str = Submission.Status.SUBMITTED,
    dry_run: bool = False,
    user=None,
    is_demo: bool = False,
) -> ValuesReport:
    """Import a long-format table of values into `network`'s rounds; see the module docstring."""
    _check_status(status)
    return _atomic(dry_run, lambda report: _import_table(table, network, status, user, report, is_demo))


def values_import_file(
    path: str | Path,
    *,
    network: Network,
    status: str = Submission.Status.SUBMITTED,
    dry_run: bool = False,
    user=None,
    is_demo: bool = False,
) -> ValuesReport:
    """Import a CSV or XLSX file: `values_import` with the same result, much faster on PostgreSQL.

    Raises ImportFailed (nothing written) like `read_table` and `values_import` do.
    """
    _check_status(status)
    path = Path(path)
    if connection.vendor != "postgresql":
        return values_import(
            table=read_table(path, required=REQUIRED_COLUMNS),
            network=network,
            status=status,
            dry_run=dry_run,
            user=user,
            is_demo=is_demo,
        )
    try:
        content = path.read_bytes()
    except OSError:
        read_table(path)  # raises ImportFailed: the file cannot be read, in read_table's words
        raise
    plain = _plain_csv(content, path.name)
    if plain is not None:
        try:
            return _atomic(dry_run, lambda report: _import_plain_csv(plain, network, status, user, report, is_demo))
        except _Fallback:
            pass
    return values_import(
        table=read_table(content, name=path.name, required=REQUIRED_COLUMNS),
        network=network,
        status=status,
        dry_run=dry_run,
        user=user,
        is_demo=is_demo,
    )


def _check_status(status: str) -> None:
    if status not in Submission.Status.values:
        raise ValueError(f"unknown submission status {status!r}")


def _atomic(dry_run: bool, work: Callable[[ValuesReport], None]) -> ValuesReport:
    report = ValuesReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                _tune_postgresql()
            work(report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _tune_postgresql() -> None:
    """Settings for this transaction only (SET LOCAL)."""
    with connection.cursor() as cursor:
        # A crash right after the import may lose it, never half of it: no wait for the disk.
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Hash aggregates and sorts over a million rows in memory.
        cursor.execute("SET LOCAL work_mem = '256MB'")


# --- the checks of one row, shared by both paths --------------------------------------------


class _Errors:
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


# municipality_id, period label, item_id, number, is_missing, missing_reason, explanation
_Entry = tuple[int, str, int, Decimal | None, bool, str, str]


class _RowChecker:
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

    def check(self, data: dict[str, str]) -> tuple[list[str], _Entry | None]:
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
        if raw:
            checked = check_value_hard(item, raw)
            if checked.error:
                return [f"{item_code}: {checked.error}"], None
            return [], (municipality_id, period, item.pk, checked.number, False, "", note)
        if not note:
            return [_("the value is empty: give the reason it is missing in the note column")], None
        return [], (municipality_id, period, item.pk, None, True, note, "")

    @staticmethod
    def duplicate(data: dict[str, str], period: str, first_line: int) -> str:
        return _("%(municipality)s %(item)s %(period)s already appears on line %(line)d") % {
            "municipality": data.get("municipality_code", ""),
            "item": data.get("item_code", ""),
            "period": period,
            "line": first_line,
        }


# --- the Python path: a Table ------------------------------------------------------------------


def _parse(table: Table, checker: _RowChecker) -> _Grouped:
    """Check every row; return {(municipality_id, period_label): {item_id: (line, number, ...)}}."""
    errors = _Errors()
    grouped: _Grouped = {}
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


def _import_table(table: Table, network: Network, status: str, user, report: ValuesReport, is_demo: bool) -> None:
    grouped = _parse(table, _RowChecker())

    def write(submission_ids: dict[tuple[int, str], int], new_ids: set[int]) -> tuple[int, int, set[int], int]:
        total = sum(len(values) for values in grouped.values())
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                _create_checked_table(cursor)
                columns = "municipality_id, period, item_id, number, is_missing, missing_reason, explanation"
                with cursor.cursor.copy(f"COPY import_values_checked ({columns}) FROM STDIN") as copy:
                    for (municipality_id, label), values in grouped.items():
                        for item_id, (_line, *value) in values.items():
                            copy.write_row((municipality_id, label, item_id, *value))
            return _write_postgresql(submission_ids, new_ids, user, total=total)
        rows: list[_ValueRow] = [
            (submission_ids[key], item_id, number, is_missing, reason, note)
            for key, values in grouped.items()
            for item_id, (_line, number, is_missing, reason, note) in values.items()
        ]
        created, updated, changed = _write_generic(rows, user)
        return created, updated, changed, total

    _import_pairs(set(grouped), network, status, user, report, is_demo, write)


# --- what both paths share: periods, rounds, submissions, then the values ------------------------


def _import_pairs(
    pairs: set[tuple[int, str]],
    network: Network,
    status: str,
    user,
    report: ValuesReport,
    is_demo: bool,
    write: Callable[[dict[tuple[int, str], int], set[int]], tuple[int, int, set[int], int]],
) -> None:
    """Create what the (municipality_id, period label) pairs need, then `write` the values."""
    members = set(Membership.objects.filter(network=network).values_list("municipality_id", flat=True))
    outsider_ids = {municipality_id for municipality_id, _label in pairs} - members
    if outsider_ids:
        # Allowed (official statistics for every municipality, a member that left), but said.
        outsiders = sorted(Municipality.objects.filter(pk__in=outsider_ids).values_list("code", flat=True))
        report.warnings.append(
            _("not (or no longer) members of network %(network)s: %(codes)s")
            % {"network": network.code, "codes": ", ".join(outsiders)}
        )
    if not pairs:
        return
    labels = {label for _municipality_id, label in pairs}
    periods: dict[str, Period] = {}
    existing_labels = set(Period.objects.filter(label__in=labels).values_list("label", flat=True))
    for label in sorted(labels):
        periods[label] = period_get_or_create(label=label)
    report.periods_created = len(labels - existing_labels)

    rounds = {r.period_id: r for r in Round.objects.filter(network=network, period__in=periods.values())}
    for period in periods.values():
        if period.pk not in rounds:
            rounds[period.pk] = Round.objects.create(network=network, period=period, is_demo=is_demo)
            report.rounds_created += 1

    round_ids = [r.pk for r in rounds.values()]
    submissions = {(s.round_id, s.municipality_id): s for s in Submission.objects.filter(round_id__in=round_ids)}
    key_of = {pair: (rounds[periods[pair[1]].pk].pk, pair[0]) for pair in pairs}
    wanted_keys = set(key_of.values())
    new = _create_submissions(sorted(wanted_keys - set(submissions)), status)
    report.submissions_created = len(new)
    submissions.update({(s.round_id, s.municipality_id): s for s in new})
    transitions = [(s.pk, "") for s in new]  # (submission_id, from_status)
    previously_approved_rounds: set[int] = set()
    status_changed: list[int] = []
    for key in sorted(wanted_keys):
        submission = submissions[key]
        if submission.status != status:
            if submission.status == Submission.Status.APPROVED:
                previously_approved_rounds.add(submission.round_id)
            transitions.append((submission.pk, submission.status))
            status_changed.append(submission.pk)
    if status_changed:
        Submission.objects.filter(pk__in=status_changed).update(status=status, updated_at=timezone.now())
    _create_events(transitions, status, user)

    submission_ids = {pair: submissions[key].pk for pair, key in key_of.items()}
    new_ids = {s.pk for s in new}
    created, updated, changed_submissions, total = write(submission_ids, new_ids)
    report.created, report.updated = created, updated
    report.unchanged = total - created - updated
    if changed_submissions - new_ids:  # new submissions start at version 1: their values are new
        # The values changed: optimistic locking must refuse forms and templates opened before.
        Submission.objects.filter(pk__in=changed_submissions - new_ids).update(version=F("version") + 1)

    affected_rounds = {submissions[key].round_id for key in wanted_keys}
    touched_rounds = {
        round_id
        for round_id in affected_rounds
        if status == Submission.Status.APPROVED or round_id in previously_approved_rounds
    }
    if touched_rounds and (changed_submissions or status_changed):
        for round_id in sorted(touched_rounds):
            events.publish(events.VALUES_CHANGED, round_id=round_id, item_ids=None)


def _create_submissions(keys: list[tuple[int, int]], status: str) -> list[Submission]:
    """New submissions for (round_id, municipality_id) keys, with their pks; version 1, as the
    values the import gives them make it."""
    if connection.vendor != "postgresql":
        new = [Submission(round_id=r, municipality_id=m, status=status, version=1) for r, m in keys]
        return Submission.objects.bulk_create(new, batch_size=BATCH)  # sets the pks (SQLite >= 3.35)
    if not keys:
        return []
    # Thousands of submissions: one statement, without building an INSERT of model instances.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Submission._meta.db_table} (round_id, municipality_id, status, version, updated_at)"  # noqa: S608 - model table  # nosec B608
            " SELECT round_id, municipality_id, %s, 1, %s FROM unnest(%s::bigint[], %s::bigint[])"
            " AS k(round_id, municipality_id) RETURNING id, round_id, municipality_id",
            [status, timezone.now(), [r for r, _m in keys], [m for _r, m in keys]],
        )
        return [
            Submission(pk=pk, round_id=round_id, municipality_id=municipality_id, status=status, version=1)
            for pk, round_id, municipality_id in cursor.fetchall()
        ]


def _create_events(events: list[tuple[int, str]], status: str, user) -> None:
    """The workflow events of the import: (submission_id, from_status) -> `status`."""
    message = _("imported from a file")
    if connection.vendor != "postgresql":
        SubmissionEvent.objects.bulk_create(
            [
                SubmissionEvent(submission_id=pk, from_status=old, to_status=status, user=user, message=message)
                for pk, old in events
            ],
            batch_size=BATCH,
        )
        return
    if not events:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SubmissionEvent._meta.db_table}"  # noqa: S608 - model table  # nosec B608
            " (submission_id, from_status, to_status, at, message, user_id)"
            " SELECT submission_id, from_status, %s, %s, %s, %s"
            " FROM unnest(%s::bigint[], %s::text[]) AS e(submission_id, from_status)",
            [
                status,
                timezone.now(),
                message,
                getattr(user, "pk", None),
                [e[0] for e in events],
                [e[1] for e in events],
            ],
        )


def _write_generic(rows: list[_ValueRow], user) -> tuple[int, int, set[int]]:
    """Plain parameterised INSERT/UPDATE through `executemany` (model instances cost too much here)."""
    ops = connection.ops
    value_table = ops.quote_name(Value._meta.db_table)
    history_table = ops.quote_name(Value.history.model._meta.db_table)
    columns = "submission_id, item_id, number, is_missing, missing_reason, explanation"
    submission_list = sorted({row[0] for row in rows})

    def current() -> dict[tuple[int, int], tuple]:
        found: dict[tuple[int, int], tuple] = {}
        for start in range(0, len(submission_list), 500):
            for value_id, *fields in Value.objects.filter(
                submission_id__in=submission_list[start : start + 500]
            ).values_list("id", "submission_id", "item_id", "number", "is_missing", "missing_reason", "explanation"):
                found[(fields[0], fields[1])] = (value_id, *fields)
        return found

    existing = current()
    to_create: list[_ValueRow] = []
    to_update: list[_ValueRow] = []
    for row in rows:
        old = existing.get((row[0], row[1]))
        if old is None:
            to_create.append(row)
        elif old[3:] != row[2:]:  # Decimal("1.50") == Decimal("1.5"): the number, not its spelling
            to_update.append(row)

    def adapt(row: _ValueRow) -> list:
        number = None if row[2] is None else ops.adapt_decimalfield_value(row[2], 38, 15)
        return [row[0], row[1], number, row[3], row[4], row[5]]

    with connection.cursor() as cursor:
        for start in range(0, len(to_create), BATCH):
            cursor.executemany(
                f"INSERT INTO {value_table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608 - model table  # nosec B608
                [adapt(row) for row in to_create[start : start + BATCH]],
            )
        for start in range(0, len(to_update), BATCH):
            cursor.executemany(
                f"UPDATE {value_table} SET number = %s, is_missing = %s, missing_reason = %s, explanation = %s"  # noqa: S608  # nosec B608
                " WHERE submission_id = %s AND item_id = %s",
                [[*adapt(row)[2:], row[0], row[1]] for row in to_update[start : start + BATCH]],
            )
    ids = {key: found[0] for key, found in current().items()} if to_create else {}
    now = ops.adapt_datetimefield_value(timezone.now())
    user_id = getattr(user, "pk", None)
    history = [
        [
            ids[(row[0], row[1])] if kind == "+" else existing[(row[0], row[1])][0],
            *adapt(row),
            now,
            kind,
            user_id,
        ]
        for kind, changed_rows in (("+", to_create), ("~", to_update))
        for row in changed_rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(history), BATCH):
            cursor.executemany(
                f"INSERT INTO {history_table} (id, {columns}, history_date, history_type, history_user_id)"  # noqa: S608  # nosec B608
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                history[start : start + BATCH],
            )
    changed = {row[0] for row in to_create} | {row[0] for row in to_update}
    return len(to_create), len(to_update), changed


# --- PostgreSQL: temporary tables and set-based statements ---------------------------------------


def _create_checked_table(cursor) -> None:
    """`import_values_checked`: one row per value of the file, what `_write_postgresql` reads."""
    cursor.execute(
        "CREATE TEMPORARY TABLE import_values_checked ("
        "municipality_id bigint NOT NULL, period text NOT NULL, item_id bigint NOT NULL, number numeric, "
        "is_missing boolean NOT NULL, missing_reason text NOT NULL, explanation text NOT NULL"
        ") ON COMMIT DROP"
    )


def _write_postgresql(
    submission_ids: dict[tuple[int, str], int],
    new_ids: set[int],
    user,
    *,
    total: int,
    duplicates: Callable[[], NoReturn] | None = None,
) -> tuple[int, int, set[int], int]:
    """Merge `import_values_checked` into the values: one UPDATE and one INSERT, each writing its
    history rows. Values of submissions created by this import can only be new.

    `duplicates` (rows not checked for duplicates yet: the SQL path) is called, and raises, when
    two rows of the file are one value: found by a query for the rows that may UPDATE, by the
    values' unique constraint for the rows INSERTed.
    """
    value_table = connection.ops.quote_name(Value._meta.db_table)
    history_table = connection.ops.quote_name(Value.history.model._meta.db_table)
    columns = "submission_id, item_id, number, is_missing, missing_reason, explanation"
    history_columns = f"id, {columns}, history_date, history_type, history_user_id"
    now = timezone.now()
    user_id = getattr(user, "pk", None)
    source = (
        "SELECT s.submission_id, c.item_id, c.number, c.is_missing, c.missing_reason, c.explanation, s.existed"
        " FROM import_values_checked AS c JOIN import_values_submissions AS s"
        " ON s.municipality_id = c.municipality_id AND s.period = c.period"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE import_values_submissions (municipality_id bigint NOT NULL, period text NOT NULL,"
            " submission_id bigint NOT NULL, existed boolean NOT NULL) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY import_values_submissions FROM STDIN") as copy:
            for (municipality_id, label), submission_id in submission_ids.items():
                copy.write_row((municipality_id, label, submission_id, submission_id not in new_ids))
        cursor.execute("ANALYZE import_values_submissions")
        changed: set[int] = set()
        updated = 0
        if len(new_ids) < len(submission_ids):
            if duplicates is not None:
                cursor.execute(
                    "SELECT 1 FROM import_values_checked AS c JOIN import_values_submissions AS s"
                    " ON s.municipality_id = c.municipality_id AND s.period = c.period WHERE s.existed"
                    " GROUP BY c.municipality_id, c.period, c.item_id HAVING count(*) > 1 LIMIT 1"
                )
                if cursor.fetchone() is not None:
                    duplicates()
            cursor.execute(
                f"WITH changed AS ("  # noqa: S608 - table names from the models, values as parameters  # nosec B608
                f" UPDATE {value_table} AS v SET number = t.number, is_missing = t.is_missing,"
                f" missing_reason = t.missing_reason, explanation = t.explanation"
                f" FROM ({source} WHERE s.existed) AS t"
                f" WHERE v.submission_id = t.submission_id AND v.item_id = t.item_id"
                f" AND (v.number IS DISTINCT FROM t.number OR v.is_missing <> t.is_missing"
                f" OR v.missing_reason <> t.missing_reason OR v.explanation <> t.explanation)"
                f" RETURNING v.id, v.submission_id, v.item_id, v.number, v.is_missing, v.missing_reason,"
                f" v.explanation)"
                f", history AS (INSERT INTO {history_table} ({history_columns})"
                f" SELECT id, {columns}, %s, '~', %s FROM changed RETURNING submission_id)"
                f" SELECT submission_id, count(*) FROM history GROUP BY submission_id",
                [now, user_id],
            )
            for submission_id, count in cursor.fetchall():
                changed.add(submission_id)
                updated += count
        try:
            with transaction.atomic():  # a savepoint: a duplicate is named, not an IntegrityError
                cursor.execute(
                    f"WITH added AS ("  # noqa: S608 - table names from the models, values as parameters  # nosec B608
                    f" INSERT INTO {value_table} ({columns})"
                    f" SELECT {columns} FROM ({source}) AS t"
                    f" WHERE NOT t.existed OR NOT EXISTS (SELECT 1 FROM {value_table} AS v"
                    f" WHERE v.submission_id = t.submission_id AND v.item_id = t.item_id)"
                    # A submission's values together in the table, as the engine reads them.
                    f" ORDER BY t.submission_id, t.item_id"
                    f" RETURNING id, {columns})"
                    f", history AS (INSERT INTO {history_table} ({history_columns})"
                    f" SELECT id, {columns}, %s, '+', %s FROM added RETURNING submission_id)"
                    f" SELECT submission_id, count(*) FROM history GROUP BY submission_id",
                    [now, user_id],
                )
        except IntegrityError as exc:
            diag = getattr(exc.__cause__, "diag", None)
            if duplicates is None or getattr(diag, "constraint_name", None) != "value_unique":
                raise
            duplicates()
        created = 0
        for submission_id, count in cursor.fetchall():
            changed.add(submission_id)
            created += count
        cursor.execute("DROP TABLE import_values_submissions, import_values_checked")
    return created, updated, changed, total


# --- the SQL path: a plain CSV file straight into PostgreSQL ------------------------------------


@dataclass(frozen=True)
class _PlainCsv:
    body: bytes  # the rows, after the header line
    delimiter: str
    width: int  # cells in the header line: every row has exactly as many
    columns: list[str]  # read_table's column names
    lines: int  # lines in the body: one row each


def _plain_csv(content: bytes, name: str) -> _PlainCsv | None:
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
    return _PlainCsv(body, delimiter, width, columns, lines)


def _quotes_plain(body: bytes, delimiter: str) -> bool:
    """Every quote opens or closes a whole quoted cell (`"1 234,5"`, `"a ""b"" c"`) on one line.

    COPY and Python's csv read such cells alike; elsewhere they part (`ab"c`, ` "x"`).
    """
    d = re.escape(delimiter.encode())
    cell = rb'(?:"(?:[^"\r\n]|"")*"|[^"' + d + rb"\r\n]*)"
    line = re.compile(cell + rb"(?:" + d + cell + rb")*\r?")
    return all(line.fullmatch(text) for text in body.split(b"\n") if b'"' in text)


def _import_plain_csv(
    plain: _PlainCsv, network: Network, status: str, user, report: ValuesReport, is_demo: bool
) -> None:
    """The SQL path: COPY, classify, report the bad rows or write."""
    rows = _CsvRows(plain)
    pairs = rows.load()
    _import_pairs(
        pairs,
        network,
        status,
        user,
        report,
        is_demo,
        lambda ids, new: rows.write(ids, new, user),
    )


class _CsvRows:
    """A plain CSV file in `import_values_raw` (its cells) and `import_values_checked` (one row
    per value: ids, the number, `bad` and `odd`), and the messages of its bad rows."""

    def __init__(self, plain: _PlainCsv) -> None:
        self.plain = plain
        self.raw = [f"c{n}" for n in range(1, plain.width + 1)]
        self.cell = {name: self.raw[index] for index, name in enumerate(plain.columns)}
        self.checker = _RowChecker()
        self.valid: list[str] = []
        self.total = 0

    def load(self) -> set[tuple[int, str]]:
        """COPY and check the rows; their (municipality_id, period label) pairs, or ImportFailed.

        Duplicates are found later: by the unique constraint of the values, or before an UPDATE
        (`_write_postgresql`), and then worded here (`report_errors`).
        """
        import psycopg

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
                raise _Fallback from None  # bad bytes, NUL, a blank line, a row of another width
            if cursor.cursor.rowcount != self.plain.lines:
                raise _Fallback  # a line `\.` ends COPY's data early
            self._classify(cursor)
            cursor.execute(
                "SELECT municipality_id, period, bool_or(bad), bool_or(odd), count(*)"
                " FROM import_values_checked GROUP BY 1, 2"
            )
            groups = cursor.fetchall()
            if any(odd for *_key, _bad, odd, _count in groups):
                raise _Fallback  # read_table refuses long cells and extra cells before any other check
            labels = {label for _municipality_id, label, *_rest in groups}
            self.valid = sorted(label for label in labels if self.checker.label(label) is not None)
            if any(bad or label not in self.valid for _municipality_id, label, bad, _odd, _count in groups):
                self.report_errors()
            self.total = sum(count for *_rest, count in groups)
            if not groups:
                cursor.execute("DROP TABLE import_values_raw, import_values_checked")
        return {(municipality_id, label) for municipality_id, label, *_rest in groups}

    def _classify(self, cursor) -> None:
        """`import_values_checked` from `import_values_raw`, the checks of `_RowChecker` in SQL.

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
            " t.value = '' AS is_missing,"
            " CASE WHEN t.value = '' THEN t.note ELSE '' END AS missing_reason,"
            " CASE WHEN t.value = '' THEN '' ELSE t.note END AS explanation, t.odd"
            " FROM (SELECT n, municipality_code, item_code, period, value, note, odd,"
            " CASE WHEN strpos(value, '.') = 0 AND length(value) - length(replace(value, ',', '')) = 1"
            " THEN replace(value, ',', '.') ELSE value END AS cleaned"
            f" FROM (SELECT n, {cells}, {cell('municipality_code')} AS municipality_code,"
            f" {cell('item_code')} AS item_code, {cell('period')} AS period,"
            f" {value} AS value, {cell('note')} AS note, {odd} AS odd"
            f" FROM import_values_raw OFFSET 0) AS s WHERE NOT ({blank}) OFFSET 0) AS t"
            f" LEFT JOIN {Municipality._meta.db_table} AS m ON m.code = t.municipality_code"
            f" LEFT JOIN {DataItem._meta.db_table} AS i ON i.code = t.item_code OFFSET 0) AS c",  # nosec B608
            {"ws": WHITESPACE, "number": SQL_NUMBER, "longest": MAX_CELL_CHARS},
        )

    def write(
        self, submission_ids: dict[tuple[int, str], int], new_ids: set[int], user
    ) -> tuple[int, int, set[int], int]:
        result = _write_postgresql(submission_ids, new_ids, user, total=self.total, duplicates=self.report_errors)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE import_values_raw")
        return result

    def report_errors(self) -> NoReturn:
        """Raise ImportFailed for the first rows SQL refused (bad ones, duplicates), worded and
        numbered by `_RowChecker`, the way `_parse` does."""
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
            raise _Fallback  # nothing SQL can name: let Python look
        errors = _Errors()
        for n, first in flagged:
            data = dict(zip(self.plain.columns, [(c or "").strip() for c in cells[n]], strict=False))
            line = n + 1  # the header is line 1
            messages, entry = self.checker.check(data)
            for message in messages:
                errors.add(line, message)
            if not messages:
                if first is None:
                    raise _Fallback  # SQL refused what Python accepts (digits of another script, …)
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
