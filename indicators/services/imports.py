"""`import_values`: many figures at once, for coordinators and official statistics (docs/architecture.md).

Long format `municipality_code,item_code,period,value[,note]`; an empty value declares the figure
missing and the note says why (for a number the note is its explanation). A value that is a
statistics office's marker (`…` or `...`, `-`, `.`, `..`) declares it missing with that status
(`Value.missing_status`); the note, or else the marker's label, is the reason. Periods, rounds and
submissions are created as needed; the submissions touched get the status asked for.

All or nothing: every row is checked first (codes, period label, the hard check of the value,
duplicates) and any bad row means nothing is written. Re-importing the same file changes nothing:
unchanged values are not written again and get no history row. Every written value gets a row in
the value history (`HistoricalValue`), like a change made in the web form.

This module is the import's entry and its coordinator: it picks the path, creates the periods,
rounds and submissions the file needs and hands on. It does not read files (`networks.tabular`,
`import_csv`), check rows (`import_checks`, `import_csv`), write values and their history (the
values service's bulk path, `values`) or change a submission's status (the workflow's bulk
transitions, `submissions`). Three ways in, one result:

- `values_import_file` on PostgreSQL with a plain CSV file (the command's usual case): COPY and
  set-based checks in SQL (`import_csv`); whatever that path cannot read exactly as `read_table`
  does falls back to the Python path;
- `values_import` with a `Table` (XLSX, the demo, the fallback): every row is checked in Python
  (`import_checks`); on PostgreSQL the rows are then streamed with COPY into the same staging
  table as the SQL path's;
- on other databases (SQLite: `make run`, `make test`) `executemany` in batches.

On PostgreSQL values and their history rows are written by two set-based statements (UPDATE of
changed values, INSERT of new ones, each inserting its history rows). The transaction sets
`synchronous_commit = off` (a crash right after the command may lose the import, never half of
it) and a larger `work_mem` for the hash aggregates. Neither path issues a query per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils.translation import gettext as _

from networks import events
from networks.models import Membership, Municipality, Network
from networks.tabular import Table, read_table

from ..models import Period, Round, Submission
from ..words import IMPORTED_FROM_A_FILE
from .import_checks import REQUIRED_COLUMNS, RowChecker, rows_check
from .import_csv import CsvRows, Fallback, PlainCsv, plain_csv
from .periods import period_get_or_create
from .submissions import IMPORT_MOVES, submissions_bulk_create, submissions_bulk_transition
from .values import (
    BulkValue,
    values_bulk_save,
    values_bulk_save_staged,
    values_staging_create,
    values_statistics_refresh,
)

__all__ = ["REQUIRED_COLUMNS", "ValuesReport", "values_import", "values_import_file"]


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


class _DryRun(Exception):
    pass


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
    plain = plain_csv(content, path.name)
    if plain is not None:
        try:
            return _atomic(dry_run, lambda report: _import_plain_csv(plain, network, status, user, report, is_demo))
        except Fallback:
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
            # Fresh planner statistics for the recomputes that run after the commit.
            values_statistics_refresh(written=report.created + report.updated)
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


def _import_table(table: Table, network: Network, status: str, user, report: ValuesReport, is_demo: bool) -> None:
    grouped = rows_check(table, RowChecker())

    def write(submission_ids: dict[tuple[int, str], int], new_ids: set[int]) -> tuple[int, int, set[int], int]:
        total = sum(len(values) for values in grouped.values())
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                values_staging_create(cursor)
                columns = (
                    "municipality_id, period, item_id, number, is_missing, missing_reason, explanation, missing_status"
                )
                with cursor.cursor.copy(f"COPY import_values_checked ({columns}) FROM STDIN") as copy:
                    for (municipality_id, label), values in grouped.items():
                        for item_id, (_line, *value) in values.items():
                            copy.write_row((municipality_id, label, item_id, *value))
            return values_bulk_save_staged(submission_ids=submission_ids, new_ids=new_ids, user=user, total=total)
        rows: list[BulkValue] = [
            (submission_ids[key], item_id, number, is_missing, reason, note, status)
            for key, values in grouped.items()
            for item_id, (_line, number, is_missing, reason, note, status) in values.items()
        ]
        created, updated, changed = values_bulk_save(rows=rows, user=user, new_ids=new_ids)
        return created, updated, changed, total

    _import_pairs(set(grouped), network, status, user, report, is_demo, write)


def _import_plain_csv(
    plain: PlainCsv, network: Network, status: str, user, report: ValuesReport, is_demo: bool
) -> None:
    """The SQL path: COPY, classify, report the bad rows or write."""
    rows = CsvRows(plain)
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
    message = IMPORTED_FROM_A_FILE  # a key, translated where it is shown (indicators/words.py)
    new_keys = sorted(wanted_keys - set(submissions))
    new = submissions_bulk_create(keys=new_keys, status=status, user=user, message=message)
    report.submissions_created = len(new)
    existing = [submissions[key] for key in sorted(wanted_keys) if key in submissions]
    previously_approved_rounds = {
        s.round_id for s in existing if s.status == Submission.Status.APPROVED and status != Submission.Status.APPROVED
    }
    status_changed = submissions_bulk_transition(
        submissions=existing, to_status=status, user=user, message=message, moves=IMPORT_MOVES
    )
    submissions.update({(s.round_id, s.municipality_id): s for s in new})

    submission_ids = {pair: submissions[key].pk for pair, key in key_of.items()}
    new_ids = {s.pk for s in new}
    # The values service bumps the versions of the submissions whose values changed.
    created, updated, changed_submissions, total = write(submission_ids, new_ids)
    report.created, report.updated = created, updated
    report.unchanged = total - created - updated

    affected_rounds = {submissions[key].round_id for key in wanted_keys}
    touched_rounds = {
        round_id
        for round_id in affected_rounds
        if status == Submission.Status.APPROVED or round_id in previously_approved_rounds
    }
    if touched_rounds and (changed_submissions or status_changed):
        for round_id in sorted(touched_rounds):
            events.publish(events.VALUES_CHANGED, round_id=round_id, item_ids=None)
