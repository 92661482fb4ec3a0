"""Saving submissions' values: exact numbers, a history row for every change, no lost update.

Every write of a value and its history goes through this module, by one of two paths of the same
rule (a value is a number or declared missing with a reason; an unchanged value is not written
again and gets no history row; a change gets one history row: the value's fields, when, `+` new,
`~` changed or `-` removed, and who):

- the row path, `submission_values_save`: one submission, through the models (the staff form and
  the Excel upload), with the optimistic lock of the submission's version;
- the bulk path, `values_bulk_save` (any database) and `values_bulk_save_staged` (PostgreSQL,
  set-based SQL): many submissions' values at once for `import_values`, without a query per row.
  The rows come checked by `check_value_hard` like the form's (or by its SQL mirror in
  `import_csv`) and shaped like the row path's (`number` None when missing, `missing_reason`
  and `missing_status` only when missing, stripped text); the history rows have the row path's
  columns. `import_official` writes through `values_bulk_save` too.

It is not where values are checked (`indicators.validation`) or where submissions change status
(`submissions`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import NoReturn

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from networks import events

from ..errors import IndicatorsError
from ..models import Submission, Value


class ConcurrentEditError(IndicatorsError):
    """Someone saved the submission after this edit began; nothing of this edit was saved."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else saved this submission after you opened it. Nothing of your change was saved: "
                "reload the page to see their values, then enter your change again."
            )
        )


@dataclass(frozen=True)
class ValueInput:
    """What a form, an upload or an import says about one data item."""

    number: Decimal | None = None
    is_missing: bool = False
    missing_reason: str = ""
    explanation: str = ""
    missing_status: str = ""  # a statistics office's marker (`…`, `-`, `.`, `..`) of a missing value

    @property
    def is_empty(self) -> bool:
        return self.number is None and not self.is_missing


@transaction.atomic
def submission_values_save(
    *, submission: Submission, user, values: Mapping[int, ValueInput], expected_version: int
) -> list[int]:
    """Apply `values` (by data item id) to the submission; return the ids of changed items.

    Refuses with ConcurrentEditError, changing nothing, when the submission's version is no
    longer `expected_version` (the version the editor's page or upload was based on). An empty
    input removes the value (the history keeps it). Unchanged values are not saved again, so the
    history holds real changes only.
    """
    bumped = Submission.objects.filter(pk=submission.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if not bumped:
        raise ConcurrentEditError
    submission.version = expected_version + 1
    existing = {value.item_id: value for value in Value.objects.select_for_update().filter(submission=submission)}
    changed: list[int] = []
    for item_id, given in values.items():
        value = existing.get(item_id)
        if given.is_empty:
            if value is not None:
                value._history_user = user
                value.delete()
                changed.append(item_id)
            continue
        fields = {
            "number": None if given.is_missing else given.number,
            "is_missing": given.is_missing,
            "missing_reason": given.missing_reason.strip() if given.is_missing else "",
            "missing_status": given.missing_status if given.is_missing else "",
            "explanation": given.explanation.strip(),
            # The municipality's own figure replaces a reconstructed one (reform.py).
            "reconstructed": False,
        }
        if value is None:
            value = Value(submission=submission, item_id=item_id, **fields)
        elif all(_same(getattr(value, name), new) for name, new in fields.items()):
            continue
        else:
            for name, new in fields.items():
                setattr(value, name, new)
        value._history_user = user
        value.save()
        changed.append(item_id)
    if changed and submission.status == Submission.Status.APPROVED:
        # Approved values feed the stored results: they must be recomputed.
        events.publish(events.VALUES_CHANGED, round_id=submission.round_id, item_ids=changed)
    return changed


def _same(old, new) -> bool:
    # Decimal("1.50") == Decimal("1.5") numerically; the stored number is what matters.
    return old == new


# --- the bulk path ----------------------------------------------------------------------------

# A value's own columns, in the order of `BulkValue` after its two keys.
VALUE_FIELDS = "number, is_missing, missing_reason, explanation, missing_status"

# (submission_id, item_id, number, is_missing, missing_reason, explanation, missing_status)
BulkValue = tuple[int, int, Decimal | None, bool, str, str, str]
BULK_BATCH = 2000


@transaction.atomic
def values_bulk_save(*, rows: list[BulkValue], user, new_ids: set[int]) -> tuple[int, int, set[int]]:
    """The bulk path on any database: plain parameterised INSERT/UPDATE through `executemany`
    (model instances cost too much here). Returns (created, updated, ids of changed submissions).

    `rows` are checked and shaped already (see "the bulk path" above); unchanged values are not
    written again and get no history row.
    """
    ops = connection.ops
    value_table = ops.quote_name(Value._meta.db_table)
    history_table = ops.quote_name(Value.history.model._meta.db_table)
    columns = f"submission_id, item_id, {VALUE_FIELDS}"
    submission_list = sorted({row[0] for row in rows})

    # A figure written here is the municipality's own (or the office's): it replaces a value
    # reconstructed from the predecessors (reform.py) even when the numbers agree.
    reconstructed: set[tuple[int, int]] = set()

    def current() -> dict[tuple[int, int], tuple]:
        found: dict[tuple[int, int], tuple] = {}
        for start in range(0, len(submission_list), 500):
            for value_id, *fields, rebuilt in Value.objects.filter(
                submission_id__in=submission_list[start : start + 500]
            ).values_list("id", "submission_id", "item_id", *VALUE_FIELDS.split(", "), "reconstructed"):
                found[(fields[0], fields[1])] = (value_id, *fields)
                if rebuilt:
                    reconstructed.add((fields[0], fields[1]))
        return found

    existing = current()
    to_create: list[BulkValue] = []
    to_update: list[BulkValue] = []
    for row in rows:
        old = existing.get((row[0], row[1]))
        if old is None:
            to_create.append(row)
        elif old[3:] != row[2:] or (row[0], row[1]) in reconstructed:  # 1.50 == 1.5: the number, not its spelling
            to_update.append(row)

    def adapt(row: BulkValue) -> list:
        number = None if row[2] is None else ops.adapt_decimalfield_value(row[2], 38, 15)
        return [row[0], row[1], number, row[3], row[4], row[5], row[6]]

    with connection.cursor() as cursor:
        for start in range(0, len(to_create), BULK_BATCH):
            cursor.executemany(
                f"INSERT INTO {value_table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)",  # noqa: S608 - model table  # nosec B608
                [adapt(row) for row in to_create[start : start + BULK_BATCH]],
            )
        for start in range(0, len(to_update), BULK_BATCH):
            cursor.executemany(
                f"UPDATE {value_table} SET number = %s, is_missing = %s, missing_reason = %s, explanation = %s,"  # noqa: S608  # nosec B608
                " missing_status = %s, reconstructed = %s WHERE submission_id = %s AND item_id = %s",
                [[*adapt(row)[2:], False, row[0], row[1]] for row in to_update[start : start + BULK_BATCH]],
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
        for start in range(0, len(history), BULK_BATCH):
            cursor.executemany(
                f"INSERT INTO {history_table} (id, {columns}, history_date, history_type, history_user_id)"  # noqa: S608  # nosec B608
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                history[start : start + BULK_BATCH],
            )
    changed = {row[0] for row in to_create} | {row[0] for row in to_update}
    _versions_bump(changed - new_ids)
    return len(to_create), len(to_update), changed


def values_staging_create(cursor) -> None:
    """`import_values_checked`: one row per value to save, checked and shaped, keyed by
    (municipality, period label); what `values_bulk_save_staged` reads."""
    cursor.execute(
        "CREATE TEMPORARY TABLE import_values_checked ("
        "municipality_id bigint NOT NULL, period text NOT NULL, item_id bigint NOT NULL, number numeric, "
        "is_missing boolean NOT NULL, missing_reason text NOT NULL, explanation text NOT NULL,"
        " missing_status text NOT NULL DEFAULT ''"
        ") ON COMMIT DROP"
    )


@transaction.atomic
def values_bulk_save_staged(
    *,
    submission_ids: dict[tuple[int, str], int],
    new_ids: set[int],
    user,
    total: int,
    duplicates: Callable[[], NoReturn] | None = None,
) -> tuple[int, int, set[int], int]:
    """The bulk path on PostgreSQL: merge `import_values_checked` into the values, one UPDATE and
    one INSERT, each writing its history rows. `submission_ids` maps the staged rows'
    (municipality_id, period label) to their submission; returns (created, updated, ids of changed
    submissions, rows staged). Values of submissions created by this import can only be new.

    `duplicates` (rows not checked for duplicates yet: the SQL path) is called, and raises, when
    two rows of the file are one value: found by a query for the rows that may UPDATE, by the
    values' unique constraint for the rows INSERTed.
    """
    value_table = connection.ops.quote_name(Value._meta.db_table)
    history_table = connection.ops.quote_name(Value.history.model._meta.db_table)
    columns = f"submission_id, item_id, {VALUE_FIELDS}"
    history_columns = f"id, {columns}, history_date, history_type, history_user_id"
    now = timezone.now()
    user_id = getattr(user, "pk", None)
    source = (
        "SELECT s.submission_id, c.item_id, c.number, c.is_missing, c.missing_reason, c.explanation,"
        " c.missing_status, s.existed"
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
                f" missing_reason = t.missing_reason, explanation = t.explanation, missing_status = t.missing_status,"
                f" reconstructed = FALSE"
                f" FROM ({source} WHERE s.existed) AS t"
                f" WHERE v.submission_id = t.submission_id AND v.item_id = t.item_id"
                f" AND (v.number IS DISTINCT FROM t.number OR v.is_missing <> t.is_missing"
                f" OR v.missing_reason <> t.missing_reason OR v.explanation <> t.explanation"
                f" OR v.missing_status <> t.missing_status OR v.reconstructed)"
                f" RETURNING v.id, v.submission_id, v.item_id, v.number, v.is_missing, v.missing_reason,"
                f" v.explanation, v.missing_status)"
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
    _versions_bump(changed - new_ids)
    return created, updated, changed, total


def _versions_bump(submission_ids: set[int]) -> None:
    """The values of these submissions changed: optimistic locking must refuse the forms and
    templates opened before, as after a save by the row path. (A submission created with its
    values starts at version 1: its values are new.)"""
    if submission_ids:
        Submission.objects.filter(pk__in=submission_ids).update(version=F("version") + 1)


# --- after a bulk write --------------------------------------------------------------------------

# A bulk write of at least this many values, and of at least a tenth of the values there were,
# refreshes the planner statistics (docs/architecture.md, "Recompute").
ANALYZE_AFTER_ROWS = 10_000
ANALYZE_AFTER_SHARE = 0.1


def values_statistics_refresh(*, written: int) -> bool:
    """After a bulk write on PostgreSQL: ANALYZE the values, their history and the submissions
    when the write was large for the table. Returns whether it did.

    The recomputes the write asks for run right after its commit, long before autovacuum's
    analyze: planned on the statistics of the table before the load (empty, on a first import),
    their reads of the values would join row by row. Called in the writing transaction, before
    the commit: ANALYZE samples the transaction's own new rows, and the new statistics become
    visible with them. Not on a dry run (the row estimates ANALYZE writes are not rolled back).
    """
    if connection.vendor != "postgresql" or written < ANALYZE_AFTER_ROWS:
        return False
    tables = [model._meta.db_table for model in (Value, Value.history.model, Submission)]
    with connection.cursor() as cursor:
        # reltuples: -1 (PostgreSQL 14+) or 0 before the table's first ANALYZE.
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [tables[0]])
        row = cursor.fetchone()
        before = max(row[0], 0) if row else 0
        if written < ANALYZE_AFTER_SHARE * before:
            return False
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))
    return True


# --- values reconstructed across a reform --------------------------------------------------------

# (number, is_missing, missing_reason, explanation) of a reconstructed value
Reconstructed = tuple[Decimal | None, bool, str, str]


@transaction.atomic
def values_reconstructed_save(
    *,
    create: Mapping[tuple[int, int], Reconstructed],
    update: Mapping[int, Reconstructed],
    delete: list[int],
    user,
) -> None:
    """The writes of `reform.reconstruct`: new values (by (submission_id, item_id)), changes of
    reconstructed values (by value id) and removals (by value id), each with its history row;
    every value written is marked reconstructed. The caller has left out what is unchanged."""
    now = timezone.now()
    new = [
        Value(
            submission_id=submission_id,
            item_id=item_id,
            number=number,
            is_missing=is_missing,
            missing_reason=reason,
            explanation=explanation,
            reconstructed=True,
        )
        for (submission_id, item_id), (number, is_missing, reason, explanation) in create.items()
    ]
    if new:
        bulk_create_with_history(new, Value, batch_size=BULK_BATCH, default_user=user, default_date=now)
    changed = list(Value.objects.filter(pk__in=list(update)))
    for value in changed:
        value.number, value.is_missing, value.missing_reason, value.explanation = update[value.pk]
        value.missing_status = ""
        value.reconstructed = True
    if changed:
        bulk_update_with_history(
            changed,
            Value,
            ["number", "is_missing", "missing_reason", "explanation", "missing_status", "reconstructed"],
            batch_size=BULK_BATCH,
            default_user=user,
            default_date=now,
        )
    touched = {submission_id for submission_id, _item in create} | {value.submission_id for value in changed}
    for value in Value.objects.filter(pk__in=delete, reconstructed=True):
        touched.add(value.submission_id)
        value._history_user = user
        value.delete()
    _versions_bump(touched)
