"""`import_catalogue`: data items, indicators and network indicator sets from one file (docs/architecture.md).

Columns `code,kind,name,name_en,unit,decimals,polarity,formula,min,max,influence,in_index,weight,
networks,definition`; only `code`, `kind` and `name` are required and a missing contract column
means empty, `neutral` or `no`. Optional extra columns (`definition_en`, `instructions`,
`instructions_en`, `theme`, `theme_en`, `source`) fill the bilingual fields; when absent they
leave existing text alone. All or nothing; re-importing the same file changes nothing (and adds
no history).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from networks import events
from networks.imports import ImportReport, columns_ignored_warn
from networks.models import Network
from networks.tabular import ImportFailed, RowError, Table, parse_decimal, parse_yes_no

from ..formula import FormulaError, parse_formula, validate_formula
from ..models import DataItem, Indicator, NetworkIndicator, Polarity, Uncertainty
from ..validation import number_size_error

CONTRACT_COLUMNS = (
    "code",
    "kind",
    "name",
    "name_en",
    "unit",
    "decimals",
    "polarity",
    "formula",
    "min",
    "max",
    "influence",
    "in_index",
    "weight",
    "networks",
    "definition",
)
# Optional contract columns: short names, the English unit, reform and uncertainty flags.
OPTIONAL_COLUMNS = ("short_name", "short_name_en", "unit_en", "additive", "uncertainty")
EXTRA_COLUMNS = ("definition_en", "instructions", "instructions_en", "theme", "theme_en", "source")
# Codes must be usable in formulas (indicators/formula.py CODE).
# An indicator's fields its networks' stored results depend on: a change recomputes them.
RESULT_FIELDS = ("formula", "polarity", "in_index", "weight")
ITEM_CODE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$")
MAX_DECIMALS = 15


@dataclass
class CatalogueReport:
    items: ImportReport = field(default_factory=ImportReport)
    indicators: ImportReport = field(default_factory=ImportReport)
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return _("data items: %(items)s; indicators: %(indicators)s") % {
            "items": self.items,
            "indicators": self.indicators,
        }


@dataclass
class _Parsed:
    line: int
    kind: str
    fields: dict
    networks: list[str]
    formula_codes: tuple[str, ...] = ()


def _decimal(row_line: int, column: str, text: str, errors: list[RowError]) -> Decimal | None:
    if not text:
        return None
    try:
        number = parse_decimal(text)
    except ValueError as exc:
        errors.append(RowError(row_line, f"{column}: {exc}"))
        return None
    # What a value's column holds (38 digits, 15 after the point): a longer number would be
    # rounded or refused by the database. The weight's narrower range is checked on top.
    error = number_size_error(number)
    if error:
        errors.append(RowError(row_line, f"{column}: {error}"))
        return None
    return number


def _parse_row(row, present: set[str], errors: list[RowError]) -> _Parsed | None:
    line = row.line
    code = row.get("code")
    kind = row.get("kind").lower()
    count = len(errors)
    if not code:
        errors.append(RowError(line, _("code is empty")))
    elif not ITEM_CODE_RE.match(code):
        errors.append(
            RowError(
                line,
                _("%(code)s is not a valid code (a letter or _ first, then letters, digits, _ or .; at most 64)")
                % {"code": repr(code)},
            )
        )
    if kind not in ("item", "indicator"):
        errors.append(RowError(line, _("kind must be item or indicator, not %(kind)s") % {"kind": repr(kind)}))
    name = row.get("name")
    if not name:
        errors.append(RowError(line, _("name is empty")))
    fields: dict = {"name": name, "name_en": row.get("name_en"), "unit": row.get("unit")}
    for column in ("short_name", "short_name_en", "unit_en"):
        if column in present:
            fields[column] = row.get(column)
    for column, limit in (
        ("name", 300),
        ("name_en", 300),
        ("unit", 64),
        ("unit_en", 64),
        ("short_name", 80),
        ("short_name_en", 80),
        ("theme", 200),
        ("theme_en", 200),
    ):
        if len(row.get(column)) > limit:
            errors.append(
                RowError(line, _("%(column)s is longer than %(max)d characters") % {"column": column, "max": limit})
            )
    decimals_text = row.get("decimals")
    if decimals_text:
        # ASCII digits, at most two: `int()` refuses 5,000 digits with a ValueError of its own,
        # and str.isdigit() is true for `²` and other digits int() does not read.
        if (
            not (decimals_text.isascii() and decimals_text.isdigit() and len(decimals_text) <= 2)
            or int(decimals_text) > MAX_DECIMALS
        ):
            errors.append(
                RowError(
                    line,
                    _("decimals must be a whole number from 0 to %(max)d, not %(value)s")
                    % {"max": MAX_DECIMALS, "value": repr(decimals_text)},
                )
            )
        else:
            fields["decimals"] = int(decimals_text)
    else:
        fields["decimals"] = 0 if kind == "item" else 1
    fields["min_value"] = _decimal(line, "min", row.get("min"), errors)
    fields["max_value"] = _decimal(line, "max", row.get("max"), errors)
    if (
        fields["min_value"] is not None
        and fields["max_value"] is not None
        and fields["max_value"] < fields["min_value"]
    ):
        errors.append(RowError(line, _("max is below min")))
    for column in ("theme", "theme_en"):
        if column in present:
            fields[column] = row.get(column)
    networks = row.get("networks").split()

    if kind == "item":
        instructions = row.get("instructions") if "instructions" in present else row.get("definition")
        fields["instructions"] = instructions
        if "instructions_en" in present:
            fields["instructions_en"] = row.get("instructions_en")
        elif "definition_en" in present:
            fields["instructions_en"] = row.get("definition_en")
        if "source" in present:
            source = row.get("source").lower() or DataItem.Source.ENTERED
            if source not in DataItem.Source.values:
                errors.append(
                    RowError(
                        line,
                        _("source must be %(choices)s, not %(value)s")
                        % {"choices": " or ".join(DataItem.Source.values), "value": repr(source)},
                    )
                )
            fields["source"] = source
        if "additive" in present:
            try:
                fields["additive"] = parse_yes_no(row.get("additive"))
            except ValueError as exc:
                errors.append(RowError(line, f"additive: {exc}"))
        for column in ("polarity", "formula", "influence", "in_index", "weight", "uncertainty"):
            if row.get(column):
                errors.append(
                    RowError(line, _("%(column)s applies to indicators, not to data items") % {"column": column})
                )
    elif kind == "indicator":
        polarity = row.get("polarity").lower() or Polarity.NEUTRAL
        if polarity not in Polarity.values:
            errors.append(
                RowError(
                    line, _("polarity must be higher, lower or neutral, not %(value)s") % {"value": repr(polarity)}
                )
            )
        fields["polarity"] = polarity
        fields["formula"] = row.get("formula")
        for column, name_ in (("influence", "can_influence"), ("in_index", "in_index")):
            try:
                fields[name_] = parse_yes_no(row.get(column))
            except ValueError as exc:
                errors.append(RowError(line, f"{column}: {exc}"))
        weight = _decimal(line, "weight", row.get("weight"), errors)
        if weight is None:
            weight = Decimal(1)
        elif weight < 0 or weight.adjusted() >= 6:
            errors.append(RowError(line, _("weight must be from 0 to 999999")))
        fields["weight"] = weight
        if "uncertainty" in present:
            uncertainty = row.get("uncertainty").lower()
            if uncertainty not in ("", *Uncertainty.values):
                errors.append(
                    RowError(
                        line,
                        _("uncertainty must be poisson, binomial or empty, not %(value)s")
                        % {"value": repr(uncertainty)},
                    )
                )
            fields["uncertainty"] = uncertainty
        fields["definition"] = row.get("definition")
        if "definition_en" in present:
            fields["definition_en"] = row.get("definition_en")
        for column in ("instructions", "instructions_en", "source"):
            if row.get(column):
                errors.append(
                    RowError(line, _("%(column)s applies to data items, not to indicators") % {"column": column})
                )
    if len(errors) > count:
        return None
    return _Parsed(line=line, kind=kind, fields=fields, networks=networks)


def _changed(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


@transaction.atomic
def catalogue_import(*, table: Table) -> CatalogueReport:
    """Upsert data items and indicators by code and set each indicator's network membership."""
    errors: list[RowError] = []
    report = CatalogueReport()
    columns_ignored_warn(table=table, known=CONTRACT_COLUMNS + OPTIONAL_COLUMNS + EXTRA_COLUMNS, report=report)
    present = set(table.columns)
    items: dict[str, _Parsed] = {}
    indicators: dict[str, _Parsed] = {}
    for row in table.rows:
        parsed = _parse_row(row, present, errors)
        if parsed is None:
            continue
        code = row.get("code")
        target = items if parsed.kind == "item" else indicators
        if code in target:
            errors.append(
                RowError(
                    row.line,
                    _("%(kind)s %(code)s already appears on line %(line)d")
                    % {"kind": parsed.kind, "code": code, "line": target[code].line},
                )
            )
            continue
        target[code] = parsed

    # An indicator without a formula is the data item of the same code (created when unknown).
    existing_item_codes = set(DataItem.objects.values_list("code", flat=True))
    implicit_items: dict[str, _Parsed] = {}
    for code, parsed in indicators.items():
        if not parsed.fields["formula"]:
            parsed.fields["formula"] = code
            if code not in items and code not in existing_item_codes:
                item_fields = {
                    k: v
                    for k, v in parsed.fields.items()
                    if k
                    in (
                        "name",
                        "name_en",
                        "unit",
                        "unit_en",
                        "short_name",
                        "short_name_en",
                        "decimals",
                        "min_value",
                        "max_value",
                        "theme",
                        "theme_en",
                    )
                }
                item_fields["instructions"] = parsed.fields["definition"]
                implicit_items[code] = _Parsed(parsed.line, "item", item_fields, parsed.networks)
    known_codes = existing_item_codes | set(items) | set(implicit_items)
    for parsed in indicators.values():
        try:
            formula = validate_formula(parsed.fields["formula"], known_codes)
        except FormulaError as exc:
            errors.append(RowError(parsed.line, _("formula: %(error)s") % {"error": exc.message}))
        else:
            parsed.formula_codes = formula.codes_in_order

    network_ids = dict(Network.objects.values_list("code", "id"))
    for parsed in [*items.values(), *indicators.values()]:
        unknown = sorted(set(parsed.networks) - set(network_ids))
        if unknown:
            errors.append(
                RowError(parsed.line, _("networks: unknown network code(s): %(codes)s") % {"codes": ", ".join(unknown)})
            )
    if errors:
        raise ImportFailed(errors)

    # Data items first: the indicators' formulas refer to them.
    existing_items = {i.code: i for i in DataItem.objects.filter(code__in=[*items, *implicit_items])}
    item_networks = {
        (item_id, network_id)
        for item_id, network_id in DataItem.networks.through.objects.values_list("dataitem_id", "network_id")
    }
    for code, parsed in [*items.items(), *implicit_items.items()]:
        item = existing_items.get(code)
        changed = False
        if item is None:
            item = DataItem.objects.create(code=code, **parsed.fields)
            report.items.created += 1
        elif code in items and _changed(item, parsed.fields):
            item.save()
            changed = True
        if code in items:
            wanted = {network_ids[c] for c in parsed.networks}
            current = {n for i, n in item_networks if i == item.pk}
            if wanted != current:
                item.networks.set(wanted)
                changed = True
        elif parsed.networks and item.pk not in {i for i, _n in item_networks}:
            item.networks.set([network_ids[c] for c in parsed.networks])
        if code in existing_items:
            report.items.updated += changed
            report.items.unchanged += not changed

    item_ids = dict(DataItem.objects.values_list("code", "id"))
    existing_indicators = {
        i.code: i for i in Indicator.objects.filter(code__in=list(indicators)).prefetch_related("items")
    }
    links = {
        (link.indicator_id, link.network_id): link
        for link in NetworkIndicator.objects.filter(indicator__code__in=list(indicators))
    }
    # The networks whose stored results the import makes untrue: recomputed after it.
    stale_networks: set[int] = set()
    for position, (code, parsed) in enumerate(indicators.items()):
        indicator = existing_indicators.get(code)
        changed = False
        wanted_items = {item_ids[c] for c in parsed.formula_codes}
        wanted_networks = {network_ids[c] for c in parsed.networks}
        if indicator is None:
            indicator = Indicator.objects.create(code=code, **parsed.fields)
            indicator.items.set(wanted_items)
            report.indicators.created += 1
        else:
            if any(name in parsed.fields and getattr(indicator, name) != parsed.fields[name] for name in RESULT_FIELDS):
                stale_networks |= wanted_networks | {n for i, n in links if i == indicator.pk}
            if _changed(indicator, parsed.fields):
                indicator.save()
                changed = True
            if {i.pk for i in indicator.items.all()} != wanted_items:
                indicator.items.set(wanted_items)
                changed = True
        # The network's indicator set: rows keep the file's order.
        for (indicator_id, network_id), link in links.items():
            if indicator_id == indicator.pk and network_id not in wanted_networks:
                link.delete()
                changed = True
                stale_networks.add(network_id)
        for network_id in wanted_networks:
            link = links.get((indicator.pk, network_id))
            if link is None:
                NetworkIndicator.objects.create(network_id=network_id, indicator=indicator, position=position)
                changed = changed or code in existing_indicators
                stale_networks.add(network_id)
            elif link.position != position:
                link.position = position
                link.save(update_fields=["position"])
                changed = True
        if code in existing_indicators:
            report.indicators.updated += changed
            report.indicators.unchanged += not changed
    for network_id in sorted(stale_networks):
        events.publish(events.NETWORK_CHANGED, network_id=network_id, period_id=None, reason="catalogue imported")
    return report


# --- the coordinator's indicator set and indicator edits -----------------------------------------


@transaction.atomic
def network_indicators_set(*, network: Network, indicators) -> None:
    """The network's indicator set becomes exactly `indicators`, in the given order.

    A changed set changes the network's results (the composite index among them): recompute.
    """
    wanted = [indicator.pk for indicator in indicators]
    removed, _counts = NetworkIndicator.objects.filter(network=network).exclude(indicator_id__in=wanted).delete()
    existing = {link.indicator_id: link for link in NetworkIndicator.objects.filter(network=network)}
    added = 0
    for position, indicator_id in enumerate(wanted):
        link = existing.get(indicator_id)
        if link is None:
            NetworkIndicator.objects.create(network=network, indicator_id=indicator_id, position=position)
            added += 1
        elif link.position != position:
            link.position = position
            link.save(update_fields=["position"])
    if removed or added:
        events.publish(events.NETWORK_CHANGED, network_id=network.pk, period_id=None, reason="indicator set changed")


@transaction.atomic
def indicator_update(*, indicator, user=None):
    """Save an edited (and `full_clean`ed) indicator; its items follow its formula.

    A change of a field results depend on (`RESULT_FIELDS`: the formula, polarity, whether it
    is in the composite index and its weight there) marks every round of the networks that use
    the indicator stale.
    """
    before = Indicator.objects.get(pk=indicator.pk)
    indicator._history_user = user
    indicator.save()
    codes = parse_formula(indicator.formula).codes
    indicator.items.set(DataItem.objects.filter(code__in=codes))
    if any(getattr(before, name) != getattr(indicator, name) for name in RESULT_FIELDS):
        for network_id in NetworkIndicator.objects.filter(indicator=indicator).values_list("network_id", flat=True):
            events.publish(
                events.NETWORK_CHANGED,
                network_id=network_id,
                period_id=None,
                reason=f"indicator {indicator.code} changed",
            )
    return indicator
