"""Peer groups: which municipalities each one is compared with (docs/statistics.md, "Populations").

A peer group definition (`network`, `all`, `kind`, `region`, `attr:NAME`, `custom:NAME`,
`nearest:K`) becomes a *membership frame*: rows ``municipality_id``, ``group_key`` (the
partition the engine groups by) and ``focal`` (the row's figures are stored). Pure pandas on
the frames the service loads; the only configuration comes in as arguments.

What it is not: a reader or writer of results. The one function here that touches the database
is `peer_groups_import`, which saves the `custom:NAME` groups' members from a file; the groups a
scope computes are chosen and read by `selectors.default_peer_groups` / `custom_group_members`.

Populations (decided here, documented for users):

* ``network`` — the municipalities with an approved submission in the network's round.
* ``all`` — every municipality with an approved submission for the period in the network, or in
  another network whose round is published and public (the service reads only those values:
  `selectors.entering_submissions`).
* ``kind``, ``region``, ``attr:NAME``, ``custom:NAME``, ``nearest:K`` — drawn from ``all``:
  the municipalities of the same kind/region/attribute value, of the saved list, or nearest,
  wherever they report. Municipalities with an empty kind/region/attribute form no group.
* ``nearest:K`` — one group per focal municipality (``group_key`` = its code): itself and its
  K nearest on the context variables (standardised, Euclidean; see ``engine``). Only the focal
  municipality's row is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from networks.imports import ImportReport
from networks.models import Municipality
from networks.tabular import ImportFailed, RowError, Table

from . import engine
from .errors import ComparisonsError
from .models import PeerGroup, PeerGroupMember

FIXED_PEER_GROUPS = ("network", "all", "kind", "region")
PEER_GROUP_RE = re.compile(r"^(network|all|kind|region|attr:.+|custom:.+|nearest:[1-9][0-9]*)$")
MEMBERSHIP_COLUMNS = ["municipality_id", "group_key", "focal"]


class PeerGroupError(ComparisonsError, ValueError):
    pass


def check_peer_group(name: str) -> str:
    if not PEER_GROUP_RE.match(name):
        raise PeerGroupError(
            f"unknown peer group {name!r}: use network, all, kind, region, attr:NAME, custom:NAME or nearest:K"
        )
    return name


def _attribute_text(value: object) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def grouping_attributes(municipalities: pd.DataFrame, focal_ids: Iterable[int]) -> list[str]:
    """Attributes that form groups: their values repeat across the population.

    An attribute qualifies when at least one focal municipality has it and some value is shared
    by two municipalities (area in km² or an ISO code do not repeat; a family group does).
    """
    focal = set(focal_ids)
    names: set[str] = set()
    for attributes in municipalities["attributes"]:
        names.update(attributes or {})
    chosen = []
    for name in sorted(names):
        texts = municipalities["attributes"].map(lambda attributes, n=name: _attribute_text((attributes or {}).get(n)))
        present = texts != ""
        if not (present & municipalities.index.isin(focal)).any():
            continue
        if texts[present].duplicated().any():
            chosen.append(name)
    return chosen


def _frame(ids: np.ndarray, keys: np.ndarray, focal: set[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"municipality_id": ids.astype(np.int64), "group_key": keys.astype(object)})
    frame["focal"] = frame["municipality_id"].isin(focal)
    # Groups without a focal municipality are never stored; do not compute them.
    wanted = frame.groupby("group_key")["focal"].transform("any")
    return frame[wanted].reset_index(drop=True)


def membership(
    name: str,
    *,
    municipalities: pd.DataFrame,
    focal_ids: Iterable[int],
    network_code: str,
    network_ids: Iterable[int],
    custom: Mapping[str, set[int]] | None = None,
    neighbours: Mapping[int, list[int]] | None = None,
) -> pd.DataFrame:
    """The membership frame of one peer group.

    ``municipalities``: indexed by id, columns ``code``, ``kind``, ``region``, ``attributes``
    (dict) — the ``all`` population. ``focal_ids``: the network's reporting municipalities.
    ``network_ids``: the network population. ``custom``: saved groups by name. ``neighbours``:
    for ``nearest:K``, each focal municipality's K nearest (ids, nearest first).
    """
    focal = set(focal_ids)
    ids = municipalities.index.to_numpy(dtype=np.int64)
    if name == "network":
        members = np.array(sorted(set(network_ids)), dtype=np.int64)
        return _frame(members, np.full(len(members), network_code, dtype=object), focal)
    if name == "all":
        return _frame(ids, np.full(len(ids), "all", dtype=object), focal)
    if name in ("kind", "region"):
        keys = municipalities[name].fillna("").astype(str).str.strip().to_numpy(dtype=object)
        present = keys != ""
        return _frame(ids[present], keys[present], focal)
    if name.startswith("attr:"):
        attribute = name[len("attr:") :]
        keys = np.array(
            [_attribute_text((attributes or {}).get(attribute)) for attributes in municipalities["attributes"]],
            dtype=object,
        )
        present = keys != ""
        return _frame(ids[present], keys[present], focal)
    if name.startswith("custom:"):
        group = name[len("custom:") :]
        members = np.array(sorted(set((custom or {}).get(group, set())) & set(ids.tolist())), dtype=np.int64)
        return _frame(members, np.full(len(members), group, dtype=object), focal)
    if name.startswith("nearest:"):
        codes = municipalities["code"]
        rows_ids: list[int] = []
        rows_keys: list[str] = []
        rows_focal: list[bool] = []
        for focal_id in sorted(focal):
            if focal_id not in codes.index or not (neighbours or {}).get(focal_id):
                continue  # no complete context: no nearest-neighbour group
            key = codes[focal_id]
            for member in [focal_id, *neighbours[focal_id]]:
                rows_ids.append(member)
                rows_keys.append(key)
                rows_focal.append(member == focal_id)
        return pd.DataFrame(
            {
                "municipality_id": np.array(rows_ids, dtype=np.int64),
                "group_key": np.array(rows_keys, dtype=object),
                "focal": np.array(rows_focal, dtype=bool),
            }
        )
    raise PeerGroupError(f"unknown peer group {name!r}")


def context_frame(*, municipalities: pd.DataFrame, wide_items: pd.DataFrame, variables: Iterable[str]) -> pd.DataFrame:
    """Context variables per municipality (index id): a data item's approved value for the
    period, or else a municipality attribute of that name (e.g. ``area_km2``)."""
    columns = {}
    for variable in variables:
        if variable in wide_items.columns:
            column = wide_items[variable].reindex(municipalities.index)
        else:
            column = pd.to_numeric(
                municipalities["attributes"].map(lambda attributes, v=variable: (attributes or {}).get(v)),
                errors="coerce",
            )
        columns[variable] = column.astype("float64")
    return pd.DataFrame(columns, index=municipalities.index)


def nearest(
    context: pd.DataFrame, *, focal_ids: Iterable[int], k: int
) -> tuple[dict[int, list[int]], dict[tuple[int, int], dict[str, float]]]:
    """Each focal municipality's k nearest (ids) and each pair's distance contributions."""
    labelled = context.copy()
    labelled.index = [str(i) for i in context.index]
    found = engine.nearest_neighbours(labelled, k)
    focal = {str(i) for i in focal_ids}
    neighbours: dict[int, list[int]] = {}
    contributions: dict[tuple[int, int], dict[str, float]] = {}
    standard = engine.standardise_context(labelled)
    row_of = {code: row for row, code in enumerate(standard.index)}
    data = standard.to_numpy(dtype=np.float64)
    variables = [str(column) for column in standard.columns]
    for code in sorted(focal & set(found)):
        near = found[code]
        if not near:
            continue
        neighbours[int(code)] = [int(other) for other in near]
        # Same arithmetic as engine.distance_contributions, without re-standardising per pair.
        difference = data[row_of[code]] - data[[row_of[other] for other in near]]
        squared = difference * difference
        totals = squared.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(totals > 0, squared / totals, 0.0)
        for other, row in zip(near, shares.tolist(), strict=True):
            contributions[(int(code), int(other))] = dict(zip(variables, row, strict=True))
    return neighbours, contributions


# --- saved custom groups: the import -------------------------------------------------------------

PEER_GROUP_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")


@transaction.atomic
def peer_groups_import(*, table: Table) -> ImportReport:
    """`group,municipality_code`: each group named in the file gets exactly the listed members.

    All or nothing: any bad row (empty or invalid group name, unknown municipality, a member
    listed twice) writes nothing and every bad row is reported with its line number. Groups not
    in the file are left alone; re-importing the same file changes nothing.
    """
    errors: list[RowError] = []
    known = dict(Municipality.objects.values_list("code", "pk"))
    wanted: dict[str, set[int]] = {}
    seen: dict[tuple[str, str], int] = {}
    for row in table.rows:
        name, code = row.get("group"), row.get("municipality_code")
        if not name:
            errors.append(RowError(row.line, _("group is empty")))
        elif not PEER_GROUP_NAME_RE.match(name):
            errors.append(
                RowError(
                    row.line, _("%(name)s is not a valid group name (letters, digits, _ . -)") % {"name": repr(name)}
                )
            )
        if not code:
            errors.append(RowError(row.line, _("municipality_code is empty")))
        elif code not in known:
            errors.append(RowError(row.line, _("unknown municipality code %(code)s") % {"code": code}))
        if not name or not code:
            continue
        if (name, code) in seen:
            errors.append(
                RowError(
                    row.line,
                    _("%(code)s is already in group %(name)s on line %(line)d")
                    % {"code": code, "name": name, "line": seen[(name, code)]},
                )
            )
            continue
        seen[(name, code)] = row.line
        if code in known:
            wanted.setdefault(name, set()).add(known[code])
    if errors:
        raise ImportFailed(errors)
    report = ImportReport()
    existing = {group.name: group for group in PeerGroup.objects.filter(name__in=list(wanted))}
    current: dict[int, set[int]] = {}
    for group_id, municipality_id in PeerGroupMember.objects.filter(group__name__in=list(wanted)).values_list(
        "group_id", "municipality_id"
    ):
        current.setdefault(group_id, set()).add(municipality_id)
    for name, members in sorted(wanted.items()):
        group = existing.get(name)
        if group is None:
            group = PeerGroup.objects.create(name=name)
            report.created += 1
        else:
            have = current.get(group.pk, set())
            if have == members:
                report.unchanged += 1
                continue
            report.updated += 1
            PeerGroupMember.objects.filter(group=group, municipality_id__in=have - members).delete()
            members = members - have
        PeerGroupMember.objects.bulk_create(PeerGroupMember(group=group, municipality_id=m) for m in sorted(members))
    return report
