"""`import_series_breaks`: the break notes of series (a data item in a municipality), docs/official.md.

Columns `municipality_code,item_code,period,note`: from `period` on the municipality's figures
of the item are not comparable with the earlier ones, and the note says why. All or nothing,
every bad row named by its line; a break already stored gets the file's note, so importing the
same file again changes nothing. Periods are created as needed, like import_values does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from networks.models import Municipality
from networks.tabular import ImportFailed, Table

from ..models import DataItem, Period, SeriesBreak
from .import_checks import Errors
from .periods import period_get_or_create

REQUIRED_COLUMNS = ("municipality_code", "item_code", "period", "note")


@dataclass
class BreaksReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return _("%(created)d breaks created, %(updated)d updated, %(unchanged)d unchanged") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


@transaction.atomic
def series_breaks_import(*, table: Table) -> BreaksReport:
    municipalities = dict(Municipality.objects.values_list("code", "id"))
    items = dict(DataItem.objects.values_list("code", "id"))
    errors = Errors()
    wanted: dict[tuple[int, int, str], str] = {}
    lines: dict[tuple[int, int, str], int] = {}
    for row in table.rows:
        municipality_code, item_code = row.get("municipality_code"), row.get("item_code")
        label, note = row.get("period").strip(), row.get("note")
        messages = []
        if municipality_code not in municipalities:
            messages.append(_("unknown municipality code %(code)s") % {"code": repr(municipality_code)})
        if item_code not in items:
            messages.append(_("unknown data item code %(code)s") % {"code": repr(item_code)})
        try:
            Period.bounds_from_label(label)
        except ValueError as exc:
            messages.append(str(exc))
        if not note:
            messages.append(_("the note is empty: say why the series is not comparable before this period"))
        for message in messages:
            errors.add(row.line, message)
        if messages:
            continue
        key = (municipalities[municipality_code], items[item_code], label)
        if key in lines:
            errors.add(
                row.line,
                _("%(municipality)s %(item)s %(period)s already appears on line %(line)d")
                % {"municipality": municipality_code, "item": item_code, "period": label, "line": lines[key]},
            )
            continue
        lines[key] = row.line
        wanted[key] = note
    if errors.errors:
        raise ImportFailed(errors.errors)
    report = BreaksReport()
    periods = {label: period_get_or_create(label=label) for label in sorted({key[2] for key in wanted})}
    existing = {
        (b.municipality_id, b.item_id, b.period.label): b
        for b in SeriesBreak.objects.filter(period__in=periods.values()).select_related("period")
    }
    for key, note in wanted.items():
        municipality_id, item_id, label = key
        found = existing.get(key)
        if found is None:
            SeriesBreak.objects.create(
                municipality_id=municipality_id, item_id=item_id, period=periods[label], note=note
            )
            report.created += 1
        elif found.note != note:
            found.note = note
            found.save(update_fields=["note"])
            report.updated += 1
        else:
            report.unchanged += 1
    return report
