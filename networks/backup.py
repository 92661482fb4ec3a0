"""Export everything one network owns to a single JSON document, and import it into another installation.

The document uses natural keys only (municipality and catalogue codes, period labels, usernames),
never database ids, so it can be imported into an empty installation or one that already holds
other networks. Attachments travel inside it (base64). Passwords never leave the installation:
imported accounts get an unusable password and sign in after a password reset. Stored results
are derived: they are recomputed after import.

This module is the frame: the document's format and version, the network itself, the people it
names, the helpers every section shares and the driver. Each app registers the section it owns in
`AppConfig.ready()` (`networks.sections.backup_section_register`), because a lower app may not
import the apps above it: here the municipalities, memberships and roles; `indicators.backup` the
catalogue, periods, rounds, submissions, values with their full history and query threads;
`learning.backup` practice, improvement plans and meetings.

Export runs the sections from the top layer down: a section writes the objects it owns together
with those the sections above it name (a plan's indicator, a meeting's host), so those must have
said what they name first (`ExportContext.named`). Import runs from the bottom up, so that every
object exists before a higher section refers to it, all in one transaction.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q

from .errors import NetworksError
from .models import Membership, Municipality, Network, Role
from .sections import backup_sections

FORMAT = "benchlearning-network"
VERSION = 1


class BackupError(NetworksError):
    """The document cannot be imported; nothing was written."""


# --- plain field values -------------------------------------------------------------------------


def _dump(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def fields_dump(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The object's own (non-relational, non-key) concrete fields, JSON-ready."""
    return {
        field.name: _dump(field.value_from_object(obj))
        for field in obj._meta.concrete_fields
        if not field.primary_key
        and not field.is_relation
        and not isinstance(field, models.FileField)
        and field.name not in exclude
    }


def fields_load(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    """Field values back from `fields_dump` output, converted by each field's own parser."""
    return {name: model._meta.get_field(name).to_python(value) for name, value in data.items()}


def own(row: dict[str, Any], *relations: str) -> dict[str, Any]:
    """The row without the keys that name related objects: what `fields_load` can read."""
    return {key: value for key, value in row.items() if key not in relations}


def stamps(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    """The row's auto_now/auto_now_add timestamps, which creating the object overwrites."""
    auto = [
        f.name
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    return {name: model._meta.get_field(name).to_python(data[name]) for name in auto if name in data}


def stamps_restore(model: type[models.Model], objs: list[models.Model], rows: list[dict[str, Any]]) -> None:
    """Put back the timestamps (`stamps` of each row) that creating `objs` overwrote."""
    if not objs or not rows or not rows[0]:
        return
    names = list(rows[0])
    for obj, values in zip(objs, rows, strict=True):
        for name, value in values.items():
            setattr(obj, name, value)
    model.objects.bulk_update(objs, names, batch_size=500)


class People:
    """Usernames for user ids (one query per person, remembered), and everybody the export names."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}

    def __call__(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self.names:
            self.names[user_id] = get_user_model().objects.get(pk=user_id).get_username()
        return self.names[user_id]


# --- what the sections share --------------------------------------------------------------------


@dataclass
class ExportContext:
    network: Network
    people: People = field(default_factory=People)
    # Ids of objects a section names but a lower section owns and writes (municipalities,
    # indicators, periods), by model: the sections above add to it, the owner reads it.
    named: defaultdict[type[models.Model], set[int]] = field(default_factory=lambda: defaultdict(set))


@dataclass
class ImportContext:
    data: dict[str, Any]
    network: Network
    users: dict[str, Any]
    # The objects recreated or found so far, by model and natural key, for the sections above.
    objects: defaultdict[type[models.Model], dict[str, models.Model]] = field(default_factory=lambda: defaultdict(dict))

    def user(self, username: str | None):
        return self.users[username] if username else None

    def user_id(self, username: str | None) -> int | None:
        return self.users[username].pk if username else None


# --- the networks section: municipalities, memberships, roles -----------------------------------


def networks_export(context: ExportContext) -> dict[str, Any]:
    network, people = context.network, context.people
    memberships = list(network.memberships.select_related("municipality"))
    # The network's own roles (its coordinators, the roles its invitations gave) and the roles an
    # administrator gave its members for every network; a member's role in another network is not
    # this network's.
    roles = list(
        Role.objects.filter(
            Q(network=network) | Q(municipality_id__in=[m.municipality_id for m in memberships], network__isnull=True)
        ).select_related("municipality")
    )
    municipalities = _with_successors(
        context.named[Municipality]
        | {m.municipality_id for m in memberships}
        | {r.municipality_id for r in roles if r.municipality_id}
    )
    code = {m.pk: m.code for m in municipalities}
    return {
        "municipalities": sorted(
            (
                {**fields_dump(m), "successor": code.get(m.successor_id) if m.successor_id else None}
                for m in municipalities
            ),
            key=lambda m: m["code"],
        ),
        "memberships": sorted(
            ({"municipality": code[m.municipality_id], **fields_dump(m)} for m in memberships),
            key=lambda m: (m["municipality"], m["joined"] or "", m["left"] or ""),
        ),
        "roles": sorted(
            (
                {
                    "user": people(r.user_id),
                    "kind": r.kind,
                    "municipality": code[r.municipality_id] if r.municipality_id else None,
                    "in_network": bool(r.municipality_id and r.network_id),
                }
                for r in roles
            ),
            key=lambda r: (r["kind"], r["municipality"] or "", r["user"]),
        ),
    }


def _with_successors(ids: Iterable[int]) -> list[Municipality]:
    """The municipalities with their successors (and theirs), so the links survive the move."""
    found: dict[int, Municipality] = {}
    wanted = set(ids)
    while wanted:
        batch = list(Municipality.objects.filter(pk__in=wanted))
        found.update((m.pk, m) for m in batch)
        wanted = {m.successor_id for m in batch if m.successor_id and m.successor_id not in found}
    return list(found.values())


def networks_restore(context: ImportContext) -> None:
    data, network = context.data, context.network
    municipalities = context.objects[Municipality]
    rows = data["municipalities"]
    existing = {m.code: m for m in Municipality.objects.filter(code__in=[r["code"] for r in rows])}
    created = []
    for row in rows:
        municipality = existing.get(row["code"])
        if municipality is None:
            municipality = Municipality.objects.create(**fields_load(Municipality, own(row, "successor")))
            created.append((municipality, row["successor"]))
        municipalities[row["code"]] = municipality
    for municipality, successor in created:
        if successor:
            municipality.successor = municipalities[successor]
            municipality.save(update_fields=["successor"])
    for row in data["memberships"]:
        Membership.objects.create(
            network=network,
            municipality=municipalities[row["municipality"]],
            **fields_load(Membership, own(row, "municipality")),
        )
    for row in data["roles"]:
        municipality = municipalities[row["municipality"]] if row["municipality"] else None
        Role.objects.get_or_create(
            user=context.users[row["user"]],
            kind=row["kind"],
            municipality=municipality,
            network=network if (municipality is None or row.get("in_network")) else None,
        )


# --- the driver ---------------------------------------------------------------------------------


def network_export(*, network: Network) -> dict[str, Any]:
    """Everything `network` owns, as a JSON-ready dict (deterministic order: natural keys)."""
    context = ExportContext(network=network)
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "network": fields_dump(network)}
    for _name, section in reversed(backup_sections()):
        data.update(section.export(context))
    users = get_user_model().objects.filter(pk__in=list(context.people.names))
    data["users"] = sorted(
        (
            {
                "username": u.get_username(),
                "email": u.email,
                "first_name": u.first_name,
                "last_name": u.last_name,
                "is_active": u.is_active,
            }
            for u in users
        ),
        key=lambda u: u["username"],
    )
    return data


def network_export_json(*, network: Network) -> str:
    return json.dumps(network_export(network=network), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


@transaction.atomic
def network_import(*, data: dict[str, Any]) -> Network:
    """Recreate an exported network; all or nothing. Refuses when its code exists already."""
    try:
        return _network_import(data)
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise BackupError(f"the document is incomplete or damaged: {exc!r}") from exc


def _network_import(data: dict[str, Any]) -> Network:
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise BackupError(f"not a network export of format {FORMAT} version {VERSION}")
    code = data["network"]["code"]
    if Network.objects.filter(code=code).exists():
        raise BackupError(f"network {code} already exists in this installation; nothing was imported")
    users = _people_restore(data["users"])
    network = Network.objects.create(**fields_load(Network, data["network"]))
    context = ImportContext(data=data, network=network, users=users)
    for _name, section in backup_sections():
        section.restore(context)
    return network


def _people_restore(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The named people by username: those this installation knows, the others created without
    a usable password."""
    model = get_user_model()
    users = {}
    for row in rows:
        user = model.objects.filter(**{model.USERNAME_FIELD: row["username"]}).first()
        if user is None:
            user = model(**{model.USERNAME_FIELD: row["username"]})
            for name in ("email", "first_name", "last_name", "is_active"):
                setattr(user, name, row[name])
            user.set_unusable_password()
            user.save()
        users[row["username"]] = user
    return users
