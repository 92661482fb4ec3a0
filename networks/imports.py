"""The CSV/XLSX imports of the bottom app: municipalities and networks with their members.

They follow the command-line contract (docs/architecture.md): all or nothing, every bad row
reported with its line number, re-importing the same file changes nothing (unchanged rows are not
even saved, so their history stays clean). `ImportReport` is the report every import of counted
rows gives (the catalogue's and the peer groups' too).

It reads no file (`networks.tabular` gives the `Table`) and holds none of the coordinator
workspace's writes (`networks.services`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Membership, Municipality, Network, SuccessorShare
from .services import CODE_RE, fields_apply, network_policy_changed
from .tabular import ImportFailed, Row, RowError, Table, parse_date, parse_decimal, parse_yes_no

MUNICIPALITY_COLUMNS = (
    "code",
    "name",
    "name_en",
    "kind",
    "region",
    "valid_from",
    "valid_to",
    "successor_code",
    "split",
)
# Who took over what of a unit at a reform (docs/official.md, "History across a reform").
SHARE_COLUMNS = ("predecessor_code", "successor_code", "share", "note", "source")
NETWORK_COLUMNS = ("code", "name", "name_en", "public", "members")
# Beyond the contract's columns a networks file may describe the network further.
NETWORK_EXTRA_COLUMNS = ("theme", "theme_en", "description", "description_en")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def _check_code(row_line: int, code: str, errors: list[RowError], what: str = "code") -> bool:
    if not code:
        errors.append(RowError(row_line, _("%(column)s is empty") % {"column": what}))
        return False
    if not CODE_RE.match(code):
        errors.append(
            RowError(
                row_line, _("%(code)s is not a valid code (letters, digits, _ . -; at most 32)") % {"code": repr(code)}
            )
        )
        return False
    return True


def _row_code(row: Row, parsed: dict[str, tuple], errors: list[RowError]) -> str | None:
    """The row's code, or None (and the error) when it is empty, invalid or already on a line."""
    code = row.get("code")
    if not _check_code(row.line, code, errors):
        return None
    if code in parsed:
        errors.append(
            RowError(
                row.line,
                _("code %(code)s already appears on line %(line)d") % {"code": code, "line": parsed[code][0]},
            )
        )
        return None
    return code


def columns_ignored_warn(*, table: Table, known: tuple[str, ...], report) -> None:
    """Say which columns of the file an import does not read (into `report.warnings`)."""
    ignored = [c for c in table.columns if c not in known]
    if ignored:
        report.warnings.append(_("ignored column(s): %(columns)s") % {"columns": ", ".join(ignored)})


@transaction.atomic
def municipalities_import(*, table: Table) -> ImportReport:
    """Upsert municipalities by code from a table with `code,name` and optional columns.

    Optional columns that are absent leave existing values alone; any column outside the
    contract becomes an attribute (an empty cell removes that attribute).
    """
    errors: list[RowError] = []
    attribute_columns = [c for c in table.columns if c not in MUNICIPALITY_COLUMNS]
    present = set(table.columns)
    parsed: dict[str, tuple[int, dict, dict, str]] = {}
    for row in table.rows:
        code = _row_code(row, parsed, errors)
        if code is None:
            continue
        fields: dict = {}
        name = row.get("name")
        if not name:
            errors.append(RowError(row.line, _("name is empty")))
        fields["name"] = name
        for column in ("name_en", "kind", "region"):
            if column in present:
                fields[column] = row.get(column)
        for column in ("valid_from", "valid_to"):
            if column in present:
                try:
                    fields[column] = parse_date(row.get(column))
                except ValueError as exc:
                    errors.append(RowError(row.line, f"{column}: {exc}"))
        if "split" in present:
            try:
                fields["split"] = parse_yes_no(row.get("split"))
            except ValueError as exc:
                errors.append(RowError(row.line, f"split: {exc}"))
        if fields.get("valid_from") and fields.get("valid_to") and fields["valid_to"] < fields["valid_from"]:
            errors.append(RowError(row.line, _("valid_to is before valid_from")))
        for column, limit in (("name", 200), ("name_en", 200), ("kind", 64), ("region", 100)):
            if len(fields.get(column) or "") > limit:
                errors.append(
                    RowError(
                        row.line, _("%(column)s is longer than %(max)d characters") % {"column": column, "max": limit}
                    )
                )
        attributes = {c: row.get(c) for c in attribute_columns}
        successor = row.get("successor_code") if "successor_code" in present else None
        if successor == code:
            errors.append(RowError(row.line, _("a municipality cannot be its own successor")))
        parsed[code] = (row.line, fields, attributes, successor)

    existing = {m.code: m for m in Municipality.objects.filter(code__in=list(parsed))}
    named_successors = {s for *_, s in parsed.values() if s}
    known_codes = set(parsed) | set(
        Municipality.objects.filter(code__in=named_successors).values_list("code", flat=True)
    )
    for line, _fields, _attrs, successor in parsed.values():
        if successor and successor not in known_codes:
            errors.append(
                RowError(line, _("successor_code %(code)s is not a known municipality") % {"code": successor})
            )
    if errors:
        raise ImportFailed(errors)

    report = ImportReport()
    saved: dict[str, Municipality] = {}
    changed: set[str] = set()
    for code, (_line, fields, attributes, _successor) in parsed.items():
        municipality = existing.get(code)
        merged = dict(municipality.attributes) if municipality else {}
        for key, value in attributes.items():
            if value:
                merged[key] = value
            else:
                merged.pop(key, None)
        fields = {**fields, "attributes": merged}
        if municipality is None:
            municipality = Municipality.objects.create(code=code, **fields)
        elif fields_apply(municipality, fields):
            municipality.save()
            changed.add(code)
        saved[code] = municipality

    # Successors second: a file may name a successor further down.
    successor_ids = dict(Municipality.objects.filter(code__in=named_successors).values_list("code", "id"))
    for code, (_line, _fields, _attrs, successor) in parsed.items():
        if successor is None:  # no successor_code column: leave the link alone
            continue
        municipality = saved[code]
        target_id = successor_ids.get(successor) if successor else None
        if municipality.successor_id != target_id:
            municipality.successor_id = target_id
            municipality.save(update_fields=["successor"])
            changed.add(code)

    for code in parsed:
        if code not in existing:
            report.created += 1
        elif code in changed:
            report.updated += 1
        else:
            report.unchanged += 1
    return report


@transaction.atomic
def successor_shares_import(*, table: Table) -> ImportReport:
    """The shares of divided units: `predecessor_code,successor_code,share[,note,source]`.

    A share is a number with 0 < share ≤ 1 (decimal comma or point; `40%` is 0.4) or empty: the
    successor took a part of the predecessor whose size is not given (a sum over it is missing).
    Each predecessor the file names gets exactly the file's rows (rows for successors it no longer
    lists are removed); the shares of one predecessor add up to at most 1.
    """
    errors: list[RowError] = []
    report = ImportReport()
    columns_ignored_warn(table=table, known=SHARE_COLUMNS, report=report)
    codes = {code for row in table.rows for code in (row.get("predecessor_code"), row.get("successor_code")) if code}
    municipalities = {m.code: m for m in Municipality.objects.filter(code__in=codes)}
    parsed: dict[tuple[int, int], tuple[int, dict]] = {}
    totals: dict[int, tuple[Decimal, int]] = {}
    for row in table.rows:
        ends = []
        for column in ("predecessor_code", "successor_code"):
            code = row.get(column)
            if not _check_code(row.line, code, errors, what=column):
                ends.append(None)
            elif code not in municipalities:
                errors.append(
                    RowError(
                        row.line,
                        _("%(column)s %(code)s is not a known municipality") % {"column": column, "code": code},
                    )
                )
                ends.append(None)
            else:
                ends.append(municipalities[code])
        predecessor, successor = ends
        share: Decimal | None = None
        text = row.get("share")
        if text:
            try:
                percent = text.endswith("%")
                share = parse_decimal(text.rstrip("%").strip())
                if percent:
                    share = share / 100
                if not share.is_finite() or not 0 < share <= 1:
                    raise ValueError(
                        _("%(value)s is not a share: more than 0 and at most 1 (or 100%%)") % {"value": repr(text)}
                    )
                if share != share.quantize(Decimal("0.000001")):
                    raise ValueError(_("%(value)s: at most six decimals") % {"value": repr(text)})
            except ValueError as exc:
                errors.append(RowError(row.line, f"share: {exc}"))
                share = None
        fields = {"share": share, "note": row.get("note"), "source": row.get("source")}
        for column in ("note", "source"):
            if len(fields[column]) > 300:
                errors.append(
                    RowError(
                        row.line, _("%(column)s is longer than %(max)d characters") % {"column": column, "max": 300}
                    )
                )
        if predecessor is None or successor is None:
            continue
        if predecessor.pk == successor.pk:
            errors.append(RowError(row.line, _("a municipality cannot be its own successor")))
            continue
        key = (predecessor.pk, successor.pk)
        if key in parsed:
            errors.append(
                RowError(row.line, _("the same pair already appears on line %(line)d") % {"line": parsed[key][0]})
            )
            continue
        parsed[key] = (row.line, fields)
        total, _first = totals.get(predecessor.pk, (Decimal(0), row.line))
        totals[predecessor.pk] = (total + (share or 0), _first)
    by_id = {m.pk: m for m in municipalities.values()}
    for predecessor_id, (total, line) in totals.items():
        if total > 1:
            errors.append(
                RowError(
                    line,
                    _("the shares of %(name)s add up to %(total)s, more than 1")
                    % {"name": by_id[predecessor_id].name, "total": total.normalize()},
                )
            )
    if errors:
        raise ImportFailed(errors)

    existing = {
        (s.predecessor_id, s.successor_id): s for s in SuccessorShare.objects.filter(predecessor_id__in=list(totals))
    }
    for key, (_line, fields) in parsed.items():
        share = existing.get(key)
        if share is None:
            SuccessorShare.objects.create(predecessor_id=key[0], successor_id=key[1], **fields)
            report.created += 1
        elif fields_apply(share, fields):
            share.save()
            report.updated += 1
        else:
            report.unchanged += 1
    removed = [share for key, share in existing.items() if key not in parsed]
    for share in removed:
        share.delete()
    if removed:
        report.warnings.append(
            _("removed %(count)d share(s) no longer listed: %(pairs)s")
            % {"count": len(removed), "pairs": ", ".join(f"{s.predecessor.code} → {s.successor.code}" for s in removed)}
        )
    return report


@transaction.atomic
def networks_import(*, table: Table) -> ImportReport:
    """Upsert networks by code; `members` (codes or `*`) becomes the set of open memberships.

    A municipality no longer listed has its membership ended (its last day is yesterday); a
    newly listed one joins today. A file without a `members` column leaves memberships alone.
    """
    errors: list[RowError] = []
    report = ImportReport()
    columns_ignored_warn(table=table, known=NETWORK_COLUMNS + NETWORK_EXTRA_COLUMNS, report=report)
    present = set(table.columns)
    all_codes = set(Municipality.objects.values_list("code", flat=True))
    parsed: dict[str, tuple[int, dict, list[str] | None]] = {}
    for row in table.rows:
        code = _row_code(row, parsed, errors)
        if code is None:
            continue
        fields: dict = {"name": row.get("name")}
        if not fields["name"]:
            errors.append(RowError(row.line, _("name is empty")))
        for column in ("name_en", *NETWORK_EXTRA_COLUMNS):
            if column in present:
                fields[column] = row.get(column)
        if "public" in present:
            try:
                public = parse_yes_no(row.get("public"))
            except ValueError as exc:
                errors.append(RowError(row.line, f"public: {exc}"))
            else:
                fields["policy"] = Network.Policy.PUBLIC if public else Network.Policy.MEMBERS
        members: list[str] | None = None
        if "members" in present:
            raw = row.get("members").split()
            if raw == ["*"]:
                members = sorted(Municipality.objects.current().values_list("code", flat=True))
            else:
                if "*" in raw:
                    errors.append(RowError(row.line, _("members: * stands alone (every current municipality)")))
                unknown = sorted({c for c in raw if c != "*"} - all_codes)
                if unknown:
                    errors.append(
                        RowError(
                            row.line,
                            _("members: unknown municipality code(s): %(codes)s") % {"codes": ", ".join(unknown)},
                        )
                    )
                members = sorted(set(raw) - {"*"})
        parsed[code] = (row.line, fields, members)
    if errors:
        raise ImportFailed(errors)

    today = timezone.localdate()
    last_day = today - datetime.timedelta(days=1)  # `left` is the last day of membership
    existing = {n.code: n for n in Network.objects.filter(code__in=list(parsed))}
    municipality_ids = dict(Municipality.objects.values_list("code", "id"))
    for code, (_line, fields, members) in parsed.items():
        network = existing.get(code)
        changed = False
        if network is None:
            network = Network.objects.create(code=code, **fields)
            report.created += 1
        else:
            policy = network.policy
            if fields_apply(network, fields):
                network.save()
                changed = True
                network_policy_changed(network, policy)
        if members is not None:
            wanted = {municipality_ids[c] for c in members}
            open_memberships = {m.municipality_id: m for m in network.memberships.filter(left__isnull=True)}
            for municipality_id in wanted - set(open_memberships):
                Membership.objects.create(network=network, municipality_id=municipality_id, joined=today)
                changed = True
            for municipality_id in set(open_memberships) - wanted:
                membership = open_memberships[municipality_id]
                if membership.joined and membership.joined > last_day:
                    membership.delete()  # joined today and dropped today: never really a member
                else:
                    membership.left = last_day
                    membership.save()
                changed = True
        if code in existing:
            if changed:
                report.updated += 1
            else:
                report.unchanged += 1
    return report
