"""`import_official`: a statistics office's table in, as official values of one data item.

A table downloaded from a statistics database (the PxWeb family: CSV, XLSX, PxWeb JSON,
JSON-stat, PC-Axis; read by `official_tables`) becomes values of one data item without
retyping (docs/official.md):

1. the dimensions: the time gives the periods (`2024`, `2022K1` → `2022-Q1`); the area is the
   dimension whose categories are municipalities (`official_areas`: by code or name; the
   country, regions, towns and parishes are skipped and counted); every other dimension with
   more than one value must be fixed with `--select DIMENSION=VALUE` (by code or label);
2. the cells: a number, checked like a typed one (`check_value_hard`), or one of the offices'
   markers `…` (not available), `-` (nil), `.` (not applicable), `..` (confidential), which
   make a missing value with that status (`Value.missing_status`) — never a 0;
3. all or nothing: every bad cell is reported with its line or position and nothing is written;
4. where the values go: an official value belongs to no single network, so it is written into
   every network that uses the item (in its indicator set or as a context figure), for every
   municipality the table names, as `import_values` writes a file: periods, rounds and
   submissions are created as needed, new submissions approved (no staff workflow). A
   submission that exists keeps its status (a municipality's draft is not approved behind its
   staff's back); the value waits there for its approval. The value's explanation records the
   source (table, office, file). Values are written by the values service's bulk path (history
   rows, no rewrite of unchanged values), and approved changes publish `values_changed`.

Re-importing the same file changes nothing. The counts are per figure of the table (a
municipality and a period), however many networks receive it.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from networks import events
from networks.models import Membership, Municipality, Network
from networks.tabular import ImportFailed, parse_decimal

from ..errors import IndicatorsError
from ..models import DataItem, MissingStatus, Period, Round, Submission, Value
from ..validation import check_value_hard, number_size_error
from .import_checks import Errors
from .official_areas import Areas, depth_of, fold
from .official_tables import Cell, Dimension, OfficialTable, is_time_code, is_time_name, table_read
from .periods import period_get_or_create
from .submissions import submissions_bulk_create
from .values import BulkValue, values_bulk_save, values_statistics_refresh

# The offices' markers of a cell without a figure, as written in the files ("..." is how a
# plain-text file writes "…").
MARKERS = {"…": "…", "...": "…", "-": "-", ".": ".", "..": ".."}
# At most this many names in a list a message repeats (values of a dimension, codes).
SHOWN = 25
# At most this many examples of each outcome (new, changed, unchanged) in a report.
EXAMPLES = 5
AREA_NAMES = {"area", "region", "territorial unit", "teritoriālā vienība", "municipality", "novads", "geo"}


class OfficialError(IndicatorsError):
    """The table cannot be imported as asked (item, networks, dimensions); nothing was written."""


@dataclass
class OfficialReport:
    item: str
    table: str
    networks: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    areas_matched: int = 0
    areas_skipped: int = 0
    periods_created: int = 0
    rounds_created: int = 0
    submissions_created: int = 0
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)
    # For a preview (the upload page): each area of the table, what it became, a few figures
    # of each outcome, and how many cells carried each status marker.
    areas: list[AreaRow] = field(default_factory=list)
    examples: dict[str, list[Change]] = field(default_factory=dict)
    markers: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        text = _(
            "%(table)s → %(item)s (networks %(networks)s): %(created)d created, %(updated)d updated, "
            "%(unchanged)d unchanged; %(matched)d municipalities, %(skipped)d areas skipped (not municipalities); "
            "%(periods)d periods, %(rounds)d rounds and %(submissions)d submissions created"
        ) % {
            "table": self.table,
            "item": self.item,
            "networks": ", ".join(self.networks),
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "matched": self.areas_matched,
            "skipped": self.areas_skipped,
            "periods": self.periods_created,
            "rounds": self.rounds_created,
            "submissions": self.submissions_created,
        }
        if self.dry_run:
            text += " " + _("(dry run: nothing was saved)")
        return text


@dataclass(frozen=True)
class AreaRow:
    """An area of the table: the municipality it is (id), or why it was skipped."""

    label: str
    municipality_id: int | None
    reason: str = ""


@dataclass(frozen=True)
class Change:
    """One figure's outcome for a preview: `kind` is "created", "updated" or "unchanged"; `before`
    and `after` are the number or the status marker (`before` empty when created)."""

    kind: str
    municipality_id: int
    period: str
    before: str
    after: str


@dataclass(frozen=True)
class Figure:
    """One value of the table for the portal: a municipality's figure for a period."""

    number: Decimal | None
    status: str  # a MissingStatus when missing, else ""
    where: str  # the cell, for messages


@dataclass
class Plan:
    """What the table says, checked: the figures by (municipality id, period label)."""

    table: OfficialTable
    figures: dict[tuple[int, str], Figure]
    areas_matched: int
    areas_skipped: int
    warnings: list[str]
    areas: list[AreaRow] = field(default_factory=list)


def official_import(
    path: str | Path,
    *,
    item_code: str,
    selections: Sequence[str] = (),
    dry_run: bool = False,
    user=None,
    name: str = "",
    periods: Collection[str] | None = None,
) -> OfficialReport:
    """Import a downloaded table as official values of `item_code`; see the module docstring.

    `name`: the file's name as downloaded, when `path` is a stored copy (the upload page);
    `periods`: only these periods of the table (labels such as `2024`), the others left alone. Raises
    OfficialError (the item, the networks, the dimensions) or ImportFailed (the file, its cells)
    with nothing written.
    """
    item = DataItem.objects.filter(code=item_code.strip()).first()
    if item is None:
        raise OfficialError(_("unknown data item %(code)s") % {"code": repr(item_code)})
    networks = list(Network.objects.filter(Q(indicators__items=item) | Q(data_items=item)).distinct().order_by("code"))
    if not networks:
        raise OfficialError(
            _(
                "no network uses data item %(code)s (in its indicator set or as a context figure): "
                "add it to a network first, the values would reach no one"
            )
            % {"code": item.code}
        )
    table = table_read(Path(path), name=name)
    plan = official_plan(table, item=item, selections=selections, only=periods)
    report = OfficialReport(
        item=item.code,
        table=table.table or table.name,
        networks=[network.code for network in networks],
        areas_matched=plan.areas_matched,
        areas_skipped=plan.areas_skipped,
        dry_run=dry_run,
        warnings=list(plan.warnings),
        areas=list(plan.areas),
        markers=dict(sorted(Counter(f.status for f in plan.figures.values() if f.status).items())),
    )
    if item.source != DataItem.Source.OFFICIAL:
        report.warnings.append(
            _("data item %(code)s is entered by the municipalities, not official: its values are imported all the same")
            % {"code": item.code}
        )

    class _DryRun(Exception):
        pass

    try:
        with transaction.atomic():
            written = _write(plan, item=item, networks=networks, user=user, report=report)
            if dry_run:
                raise _DryRun
            # Fresh planner statistics for the recomputes that run after the commit.
            values_statistics_refresh(written=written)
    except _DryRun:
        pass
    return report


# --- the plan: dimensions, areas, periods, cells ------------------------------------------------


def official_plan(
    table: OfficialTable, *, item: DataItem, selections: Sequence[str] = (), only: Collection[str] | None = None
) -> Plan:
    """The checked figures of `table` for `item` (nothing written). Raises OfficialError for the
    dimensions, ImportFailed for the periods, areas and cells. `only`: these period labels alone."""
    chosen = _selections(table, selections)
    time = _time_dimension(table)
    areas = Areas()
    area = _area_dimension(table, time, areas)
    problems = []
    for position, dimension in enumerate(table.dimensions):
        if position in (time, area) or position in chosen or len(dimension.categories) == 1:
            continue
        problems.append(
            _(
                'the table has %(count)d values of "%(dimension)s": '
                'choose one with --select "%(dimension)s=VALUE" (%(values)s)'
            )
            % {"count": len(dimension.categories), "dimension": dimension.name, "values": _values(dimension)}
        )
    if problems:
        raise OfficialError("; ".join(problems))

    def wanted(cell: Cell) -> bool:
        return all(cell.keys[position] == category for position, category in chosen.items())

    errors = Errors()
    periods: dict[int, str] = {}
    bounds: list[tuple[datetime.date, datetime.date]] = []
    time_dimension = table.dimensions[time]
    for position, category in enumerate(time_dimension.categories):
        if time in chosen and chosen[time] != position:
            continue
        label, problem = period_of(category.code, category.label)
        if problem:
            errors.add(0, problem)
            continue
        if only is not None and label not in only:
            continue
        periods[position] = label
        _kind, start, end = Period.bounds_from_label(label)
        bounds.append((start, end))
    area_dimension = table.dimensions[area]
    area_positions = [p for p in range(len(area_dimension.categories)) if area not in chosen or chosen[area] == p]
    matched = areas.match([area_dimension.categories[p] for p in area_positions], periods=bounds)
    municipality_of = {area_positions[n]: pk for n, pk in matched.municipality_ids.items()}
    for message in matched.errors:
        errors.add(0, message)
    warnings = []
    if matched.unknown:
        warnings.append(
            _("skipped as no municipality of the portal has their names: %(labels)s")
            % {"labels": _shown(matched.unknown)}
        )

    figures: dict[tuple[int, str], Figure] = {}
    for cell in table.cells:
        if not wanted(cell) or cell.keys[time] not in periods:
            continue
        municipality_id = municipality_of.get(cell.keys[area])
        label = periods[cell.keys[time]]
        area_label = area_dimension.categories[cell.keys[area]].label.strip()
        where = _("%(place)s (%(area)s, %(period)s)") % {"place": cell.place, "area": area_label, "period": label}
        figure, problem = _figure(cell, item, where, checked=municipality_id is not None)
        if problem:
            errors.add(cell.line, f"{where}: {problem}")
            continue
        if municipality_id is None:
            continue
        key = (municipality_id, label)
        previous = figures.get(key)
        if previous is not None and (previous.number, previous.status) != (figure.number, figure.status):
            errors.add(
                cell.line,
                _("%(where)s: another figure for the same municipality and period at %(first)s")
                % {"where": where, "first": previous.where},
            )
            continue
        figures.setdefault(key, figure)
        if errors.full:
            break
    if errors.errors:
        raise ImportFailed(errors.errors)
    unknown = set(matched.unknown)
    rows = []
    for position in area_positions:
        label = area_dimension.categories[position].label.strip()
        pk = municipality_of.get(position)
        if pk is not None:
            rows.append(AreaRow(label, pk))
        elif label in unknown:
            rows.append(AreaRow(label, None, _("looks like a municipality, but the portal has none of this name")))
        elif depth_of(area_dimension.categories[position].label):
            rows.append(AreaRow(label, None, _("a part of a larger area (a town or a parish)")))
        else:
            rows.append(AreaRow(label, None, _("not a municipality (the country or a region)")))
    return Plan(table, figures, matched.matched, len(matched.skipped), warnings, rows)


def official_choices(table: OfficialTable) -> list[Dimension]:
    """The dimensions that must be fixed with a selection (neither the time nor the area, and
    with more than one value), for the upload page to offer. Raises OfficialError as
    `official_plan` does when the table has no time or no area dimension."""
    time = _time_dimension(table)
    area = _area_dimension(table, time, Areas())
    return [
        dimension
        for position, dimension in enumerate(table.dimensions)
        if position not in (time, area) and len(dimension.categories) > 1
    ]


def _selections(table: OfficialTable, selections: Sequence[str]) -> dict[int, int]:
    """--select DIMENSION=VALUE, by code or label: dimension position → category position."""
    chosen: dict[int, int] = {}
    problems = []
    for text in selections:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            problems.append(_("--select needs DIMENSION=VALUE, not %(text)s") % {"text": repr(text)})
            continue
        position = _position(table.dimensions, name)
        if position is None:
            problems.append(
                _("the table has no dimension %(name)s; its dimensions: %(dimensions)s")
                % {"name": repr(name.strip()), "dimensions": ", ".join(d.name for d in table.dimensions)}
            )
            continue
        dimension = table.dimensions[position]
        if position in chosen:
            problems.append(_('"%(dimension)s" is selected twice') % {"dimension": dimension.name})
            continue
        category = _position(dimension.categories, value)
        if category is None:
            problems.append(
                _('"%(dimension)s" has no value %(value)s; its values: %(values)s')
                % {"dimension": dimension.name, "value": repr(value.strip()), "values": _values(dimension)}
            )
            continue
        chosen[position] = category
    if problems:
        raise OfficialError("; ".join(problems))
    return chosen


def _position(candidates, given: str) -> int | None:
    """The position of the dimension or category ``given`` names by its code or label, or None."""
    return next((n for n, c in enumerate(candidates) if _same(given, c.code) or _same(given, c.label)), None)


def _same(given: str, name: str) -> bool:
    return " ".join(given.split()).casefold() == " ".join(name.split()).casefold() and bool(name.strip())


def _values(dimension: Dimension) -> str:
    names = [c.label.strip() if c.code == c.label else f"{c.code} {c.label.strip()}" for c in dimension.categories]
    return _shown(names)


def _shown(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (_(" and %(count)d more") % {"count": len(names) - SHOWN} if len(names) > SHOWN else "")


def _time_dimension(table: OfficialTable) -> int:
    dims = table.dimensions
    for test in (
        lambda d: d.role == "time",
        lambda d: is_time_name(d.code) or is_time_name(d.label),
        lambda d: all(is_time_code(c.code) for c in d.categories),
    ):
        found = [n for n, d in enumerate(dims) if test(d)]
        if found:
            return found[0]
    raise OfficialError(
        _("the table has no time dimension (years or other periods); its dimensions: %(dimensions)s")
        % {"dimensions": ", ".join(d.name for d in dims)}
    )


def _area_dimension(table: OfficialTable, time: int, areas: Areas) -> int:
    """The dimension whose categories are municipalities: the file's word, else the most matches."""
    dims = [(n, d) for n, d in enumerate(table.dimensions) if n != time]
    said = [n for n, d in dims if d.role == "area"]
    if said:
        return said[0]
    counts = {n: areas.count_matches(d.categories) for n, d in dims}
    best = max(counts.values(), default=0)
    if best == 0:
        raise OfficialError(
            _(
                "no dimension of the table names municipalities of the portal (by code or name); "
                "its dimensions: %(dimensions)s"
            )
            % {"dimensions": ", ".join(d.name for _n, d in dims)}
        )
    tied = [n for n, count in counts.items() if count == best]
    named = [
        n for n in tied if fold(table.dimensions[n].label) in AREA_NAMES or fold(table.dimensions[n].code) in AREA_NAMES
    ]
    return (named or tied)[0]


def period_of(code: str, label: str) -> tuple[str, str]:
    """The portal's period label for an office's time code (`2024`, `2022K1` → `2022-Q1`,
    `2024-25`), or a problem."""
    for text in (code, label):
        compact = text.strip().upper().replace(" ", "")
        if match := re.fullmatch(r"([0-9]{4})", compact):
            label_ = match.group(1)
        elif match := re.fullmatch(r"([0-9]{4})-?[QK]([1-4])", compact):
            label_ = f"{match.group(1)}-Q{match.group(2)}"
        elif match := re.fullmatch(r"([0-9]{4})[-/]([0-9]{2})", compact):
            label_ = f"{match.group(1)}-{match.group(2)}"
        elif re.fullmatch(r"([0-9]{4})-?M([0-9]{1,2})", compact):
            return "", _("%(period)s: monthly periods are not supported (2024, 2024-25 or 2024-Q1)") % {
                "period": repr(text.strip())
            }
        else:
            continue
        try:
            Period.bounds_from_label(label_)
        except ValueError as exc:
            return "", str(exc)
        return label_, ""
    return "", _("%(period)s is not a period (2024, 2024-25, 2024-Q1 or 2024K1)") % {"period": repr(label.strip())}


def _figure(cell: Cell, item: DataItem, where: str, *, checked: bool) -> tuple[Figure | None, str]:
    """The cell as a figure, or why it is not one. `checked`: the item's range applies (a
    municipality's figure; the country's total need only be a number)."""
    value = cell.value
    if isinstance(value, str):
        value = value.strip()
        if value in MARKERS:
            return Figure(None, MARKERS[value], where), ""
        if not value:
            value = None
    if value is None:
        return None, _("the cell is empty: a figure or a status marker (… - . ..) is expected")
    if checked:
        result = check_value_hard(item, value)
        if result.error:
            return None, result.error
        return Figure(result.number, "", where), ""
    try:
        number = value if isinstance(value, Decimal) else parse_decimal(value)
    except ValueError as exc:
        return None, str(exc)
    error = number_size_error(number) if number.is_finite() else _("not a number")
    return (None, error) if error else (Figure(number, "", where), "")


# --- writing: every network that uses the item ---------------------------------------------------


def _write(plan: Plan, *, item: DataItem, networks: list[Network], user, report: OfficialReport) -> int:
    """Write the plan's figures in every network; returns the number of values written."""
    figures = plan.figures
    if not figures:
        return 0
    table = plan.table
    explanation = source_text(table)
    labels = sorted({label for _pk, label in figures})
    existing_labels = set(Period.objects.filter(label__in=labels).values_list("label", flat=True))
    periods = {label: period_get_or_create(label=label) for label in labels}
    report.periods_created = len(set(labels) - existing_labels)
    municipality_ids = sorted({pk for pk, _label in figures})
    # Per figure: what happened to it in any network ("~" beats "+" beats "="), and what it was.
    outcome: dict[tuple[int, str], str] = {}
    written = 0
    was: dict[tuple[int, str], tuple] = {}
    for network in networks:
        rounds = {r.period_id: r for r in Round.objects.filter(network=network, period__in=periods.values())}
        for period in periods.values():
            if period.pk not in rounds:
                rounds[period.pk] = Round.objects.create(network=network, period=period)
                report.rounds_created += 1
        round_of = {label: rounds[period.pk] for label, period in periods.items()}
        submissions = {
            (s.round_id, s.municipality_id): s
            for s in Submission.objects.filter(round__in=round_of.values(), municipality_id__in=municipality_ids)
        }
        wanted = {(round_of[label].pk, pk) for pk, label in figures}
        new = submissions_bulk_create(
            keys=sorted(wanted - set(submissions)),
            status=Submission.Status.APPROVED,
            user=user,
            message=_("official statistics: %(table)s") % {"table": report.table},
        )
        report.submissions_created += len(new)
        submissions.update({(s.round_id, s.municipality_id): s for s in new})
        new_ids = {s.pk for s in new}
        rows: list[BulkValue] = []
        for (pk, label), figure in figures.items():
            submission = submissions[(round_of[label].pk, pk)]
            missing = figure.number is None
            reason = f"{figure.status} {MissingStatus(figure.status).label}" if missing else ""
            rows.append((submission.pk, item.pk, figure.number, missing, reason, explanation, figure.status))
        before = {
            submission_id: fields
            for submission_id, *fields in Value.objects.filter(
                submission_id__in=[row[0] for row in rows], item=item
            ).values_list("submission_id", "number", "is_missing", "missing_reason", "explanation", "missing_status")
        }
        changed_rounds: set[int] = set()
        submission_of = {s.pk: s for s in submissions.values()}
        for (pk, label), row in zip(figures, rows, strict=True):
            old = before.get(row[0])
            kind = "+" if old is None else "=" if tuple(old) == row[2:] else "~"
            if (pk, label) not in outcome or "=+~".index(kind) > "=+~".index(outcome[(pk, label)]):
                was[(pk, label)] = tuple(old) if old is not None else None
            outcome[(pk, label)] = max(outcome.get((pk, label), "="), kind, key="=+~".index)
            if kind != "=" and submission_of[row[0]].status == Submission.Status.APPROVED:
                changed_rounds.add(submission_of[row[0]].round_id)
        created, updated, _changed = values_bulk_save(rows=rows, user=user, new_ids=new_ids)
        written += created + updated
        waiting = sorted({s.municipality_id for s in submission_of.values() if s.status != Submission.Status.APPROVED})
        if waiting:
            report.warnings.append(
                _(
                    "network %(network)s: %(count)d submissions are not approved yet; their official values "
                    "enter the results when they are"
                )
                % {"network": network.code, "count": len(waiting)}
            )
        _warn_outsiders(network, municipality_ids, report)
        rounds_with_new = {s.round_id for s in new}
        for round_id in sorted(changed_rounds):
            # A new submission adds the municipality to every indicator's population.
            item_ids = None if round_id in rounds_with_new else [item.pk]
            events.publish(events.VALUES_CHANGED, round_id=round_id, item_ids=item_ids)
    report.created = sum(1 for kind in outcome.values() if kind == "+")
    report.updated = sum(1 for kind in outcome.values() if kind == "~")
    report.unchanged = sum(1 for kind in outcome.values() if kind == "=")
    kinds = {"+": "created", "~": "updated", "=": "unchanged"}
    for (pk, label), kind in sorted(outcome.items(), key=lambda entry: (entry[0][1], entry[0][0])):
        shown = report.examples.setdefault(kinds[kind], [])
        if len(shown) < EXAMPLES:
            figure = figures[(pk, label)]
            old = was.get((pk, label))
            before = "" if old is None else (old[4] or _("missing")) if old[1] else _plain(old[0])
            after = figure.status if figure.number is None else _plain(figure.number)
            shown.append(Change(kinds[kind], pk, label, before, after))
    return written


def _plain(number: Decimal | None) -> str:
    """A stored number as the office writes it: no exponent, no trailing zeros."""
    if number is None:
        return ""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _warn_outsiders(network: Network, municipality_ids: list[int], report: OfficialReport) -> None:
    members = set(Membership.objects.filter(network=network).values_list("municipality_id", flat=True))
    outsiders = sorted(
        Municipality.objects.filter(pk__in=set(municipality_ids) - members).values_list("code", flat=True)
    )
    if outsiders:
        report.warnings.append(
            ngettext(
                "network %(network)s: %(count)d municipality is not (or no longer) a member: %(codes)s",
                "network %(network)s: %(count)d municipalities are not (or no longer) members: %(codes)s",
                len(outsiders),
            )
            % {"network": network.code, "count": len(outsiders), "codes": _shown(outsiders)}
        )


def source_text(table: OfficialTable) -> str:
    """What an official value records of its source: the table, the office, the file."""
    what = table.table or table.title[:120]
    if table.source:
        what = f"{what} ({table.source})"
    return _("Official statistics: %(table)s; file %(file)s") % {"table": what, "file": table.name}
