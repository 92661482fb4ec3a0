"""`import_values`: many figures at once, for coordinators and official statistics (DESIGN.md §5).

Long format `municipality_code,item_code,period,value[,note]`; an empty value declares the figure
missing and the note says why (for a number the note is its explanation). Periods, rounds and
submissions are created as needed; the submissions touched get the status asked for.

All or nothing: every row is checked first (codes, period label, the hard check of the value,
duplicates) and any bad row means nothing is written. Re-importing the same file changes nothing:
unchanged values are not written again and get no history row. Every written value gets a row in
the value history (`HistoricalValue`), like a change made in the web form.

Two write paths with the same result: on PostgreSQL the rows are streamed with COPY into a
temporary table and merged with two set-based statements (which also write the history rows); on
other databases `bulk_create`/`bulk_update` in batches. Neither issues a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from networks.models import Membership, Municipality, Network
from networks.tabular import ImportFailed, RowError, Table

from ..models import DataItem, Period, Round, Submission, SubmissionEvent, Value
from ..validation import check_value_hard
from .periods import period_get_or_create

REQUIRED_COLUMNS = ("municipality_code", "item_code", "period", "value")
OPTIONAL_COLUMNS = ("note",)
BATCH = 2000
MAX_ERRORS = 1000  # a file that is wrong everywhere: the first thousand lines say enough


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
    if status not in Submission.Status.values:
        raise ValueError(f"unknown submission status {status!r}")
    report = ValuesReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            _import(table=table, network=network, status=status, user=user, report=report, is_demo=is_demo)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _parse(table: Table, network: Network) -> tuple[dict[tuple[int, str], dict[int, tuple]], set[str], list[str]]:
    """Check every row; return {(municipality_id, period_label): {item_id: (line, number, missing, reason, note)}}."""
    errors: list[RowError] = []
    municipalities = dict(Municipality.objects.values_list("code", "id"))
    members = set(Membership.objects.filter(network=network).values_list("municipality_id", flat=True))
    items = {item.code: item for item in DataItem.objects.all()}
    labels: dict[str, str | None] = {}  # label as written -> normalised label, or None when invalid
    grouped: dict[tuple[int, str], dict[int, tuple]] = {}
    outsiders: set[str] = set()

    def fail(line: int, message: str) -> None:
        if len(errors) < MAX_ERRORS:
            errors.append(RowError(line, message))
        elif len(errors) == MAX_ERRORS:
            errors.append(RowError(line, _("more problems follow; fix these first")))

    for row in table.rows:
        data = row.data
        line = row.line
        municipality_code = data.get("municipality_code", "")
        item_code = data.get("item_code", "")
        label = data.get("period", "")
        raw = data.get("value", "")
        note = data.get("note", "")
        municipality_id = municipalities.get(municipality_code)
        bad = False
        if municipality_id is None:
            fail(line, _("unknown municipality code %(code)s") % {"code": repr(municipality_code)})
            bad = True
        elif municipality_id not in members:
            # Allowed (official statistics for every municipality, a member that left), but said.
            outsiders.add(municipality_code)
        item = items.get(item_code)
        if item is None:
            fail(line, _("unknown data item code %(code)s") % {"code": repr(item_code)})
            bad = True
        if label not in labels:
            try:
                Period.bounds_from_label(label)
            except ValueError:
                labels[label] = None
            else:
                labels[label] = label.strip()
        period = labels[label]
        if period is None:
            fail(line, _("%(label)s is not a period label (2024, 2024-25 or 2024-Q1)") % {"label": repr(label)})
            bad = True
        if bad:
            continue
        if raw:
            checked = check_value_hard(item, raw)
            if checked.error:
                fail(line, f"{item_code}: {checked.error}")
                continue
            entry = (line, checked.number, False, "", note)
        else:
            if not note:
                fail(line, _("the value is empty: give the reason it is missing in the note column"))
                continue
            entry = (line, None, True, note, "")
        values = grouped.setdefault((municipality_id, period), {})
        previous = values.get(item.pk)
        if previous is not None:
            fail(
                line,
                _("%(municipality)s %(item)s %(period)s already appears on line %(line)d")
                % {"municipality": municipality_code, "item": item_code, "period": period, "line": previous[0]},
            )
            continue
        values[item.pk] = entry
    if errors:
        raise ImportFailed(errors)
    return grouped, {label for label in labels.values() if label}, sorted(outsiders)


def _import(*, table: Table, network: Network, status: str, user, report: ValuesReport, is_demo: bool) -> None:
    grouped, labels, outsiders = _parse(table, network)
    if outsiders:
        report.warnings.append(
            _("not (or no longer) members of network %(network)s: %(codes)s")
            % {"network": network.code, "codes": ", ".join(outsiders)}
        )
    if not grouped:
        return
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
    wanted_keys = {(rounds[periods[label].pk].pk, municipality_id) for municipality_id, label in grouped}
    new = [
        Submission(round_id=round_id, municipality_id=municipality_id, status=status)
        for round_id, municipality_id in sorted(wanted_keys - set(submissions))
    ]
    Submission.objects.bulk_create(new, batch_size=BATCH)  # sets the pks (PostgreSQL, SQLite >= 3.35)
    report.submissions_created = len(new)
    submissions.update({(s.round_id, s.municipality_id): s for s in new})
    message = _("imported from a file")
    events = [SubmissionEvent(submission=s, from_status="", to_status=status, user=user, message=message) for s in new]
    previously_approved_rounds: set[int] = set()
    status_changed: list[int] = []
    for key in sorted(wanted_keys):
        submission = submissions[key]
        if submission.status != status:
            if submission.status == Submission.Status.APPROVED:
                previously_approved_rounds.add(submission.round_id)
            events.append(
                SubmissionEvent(
                    submission=submission, from_status=submission.status, to_status=status, user=user, message=message
                )
            )
            status_changed.append(submission.pk)
    if status_changed:
        Submission.objects.filter(pk__in=status_changed).update(status=status, updated_at=timezone.now())
    SubmissionEvent.objects.bulk_create(events, batch_size=BATCH)

    rows: list[_ValueRow] = []
    for (municipality_id, label), values in grouped.items():
        submission_id = submissions[(rounds[periods[label].pk].pk, municipality_id)].pk
        for item_id, (_line, number, is_missing, reason, note) in values.items():
            rows.append((submission_id, item_id, number, is_missing, reason, note))

    if connection.vendor == "postgresql":
        created, updated, changed_submissions = _write_postgresql(rows, user)
    else:
        created, updated, changed_submissions = _write_generic(rows, user)
    report.created, report.updated = created, updated
    report.unchanged = len(rows) - created - updated
    if changed_submissions:
        # The values changed: optimistic locking must refuse forms and templates opened before.
        Submission.objects.filter(pk__in=changed_submissions).update(version=F("version") + 1)

    affected_rounds = {submissions[key].round_id for key in wanted_keys}
    touched_rounds = {
        round_id
        for round_id in affected_rounds
        if status == Submission.Status.APPROVED or round_id in previously_approved_rounds
    }
    if touched_rounds and (changed_submissions or status_changed):
        from comparisons.triggers import results_stale

        for round_id in sorted(touched_rounds):
            results_stale(round_id=round_id, item_ids=None)


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


def _write_postgresql(rows: list[_ValueRow], user) -> tuple[int, int, set[int]]:
    """COPY into a temporary table, then one UPDATE and one INSERT, each writing its history rows."""
    value_table = connection.ops.quote_name(Value._meta.db_table)
    history_table = connection.ops.quote_name(Value.history.model._meta.db_table)
    columns = "submission_id, item_id, number, is_missing, missing_reason, explanation"
    history_columns = f"id, {columns}, history_date, history_type, history_user_id"
    now = timezone.now()
    user_id = getattr(user, "pk", None)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE import_values_rows ("
            "submission_id bigint NOT NULL, item_id bigint NOT NULL, number numeric(38, 15), "
            "is_missing boolean NOT NULL, missing_reason text NOT NULL, explanation text NOT NULL"
            ") ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY import_values_rows ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute("ANALYZE import_values_rows")
        cursor.execute(
            f"WITH changed AS ("  # noqa: S608 - table names from the models, values as parameters  # nosec B608
            f" UPDATE {value_table} AS v SET number = t.number, is_missing = t.is_missing,"
            f" missing_reason = t.missing_reason, explanation = t.explanation"
            f" FROM import_values_rows AS t"
            f" WHERE v.submission_id = t.submission_id AND v.item_id = t.item_id"
            f" AND (v.number IS DISTINCT FROM t.number OR v.is_missing <> t.is_missing"
            f" OR v.missing_reason <> t.missing_reason OR v.explanation <> t.explanation)"
            f" RETURNING v.id, v.submission_id, v.item_id, v.number, v.is_missing, v.missing_reason, v.explanation)"
            f", history AS (INSERT INTO {history_table} ({history_columns})"
            f" SELECT id, {columns}, %s, '~', %s FROM changed RETURNING submission_id)"
            f" SELECT count(*), array_agg(DISTINCT submission_id) FROM history",
            [now, user_id],
        )
        updated, updated_ids = cursor.fetchone()
        cursor.execute(
            f"WITH added AS ("  # noqa: S608 - table names from the models, values as parameters  # nosec B608
            f" INSERT INTO {value_table} ({columns})"
            f" SELECT {columns} FROM import_values_rows AS t"
            f" WHERE NOT EXISTS (SELECT 1 FROM {value_table} AS v"
            f" WHERE v.submission_id = t.submission_id AND v.item_id = t.item_id)"
            f" RETURNING id, {columns})"
            f", history AS (INSERT INTO {history_table} ({history_columns})"
            f" SELECT id, {columns}, %s, '+', %s FROM added RETURNING submission_id)"
            f" SELECT count(*), array_agg(DISTINCT submission_id) FROM history",
            [now, user_id],
        )
        created, created_ids = cursor.fetchone()
        cursor.execute("DROP TABLE import_values_rows")
    return created, updated, set(updated_ids or ()) | set(created_ids or ())
