"""Export everything one network owns to a single JSON document, and import it into another installation.

The document uses natural keys only (municipality and catalogue codes, period labels, usernames),
never database ids, so it can be imported into an empty installation or one that already holds
other networks. Attachments travel inside it (base64). Passwords never leave the installation:
imported accounts get an unusable password and sign in after a password reset.

What it holds: the network; the municipalities it refers to (members, hosts, successors); its
memberships; the people with a role in it (coordinators of the network, staff and viewers of its
members) and everybody named in its records; the catalogue its indicator set uses; periods and
rounds; submissions with their workflow events, values with their full change history (also of
values removed since) and query threads; practice cases with attachments, improvement plans with
targets and actions, and meetings. Stored results are derived: they are recomputed after import.
"""

from __future__ import annotations

import base64
import datetime
import json
import posixpath
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Q

from indicators.models import (
    DataItem,
    Indicator,
    NetworkIndicator,
    Period,
    Round,
    Submission,
    SubmissionEvent,
    Value,
    ValueQuery,
)
from learning.models import (
    ImprovementPlan,
    Meeting,
    PlanAction,
    PlanTarget,
    PracticeAttachment,
    PracticeCase,
    Tag,
)

from .errors import NetworksError
from .models import Membership, Municipality, Network, Role

FORMAT = "benchlearning-network"
VERSION = 1

HistoricalValue = Value.history.model


class BackupError(NetworksError):
    """The document cannot be imported; nothing was written."""


# --- plain field values -------------------------------------------------------------------------


def _dump(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def _fields(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The object's own (non-relational, non-key) concrete fields, JSON-ready."""
    return {
        field.name: _dump(field.value_from_object(obj))
        for field in obj._meta.concrete_fields
        if not field.primary_key
        and not field.is_relation
        and not isinstance(field, models.FileField)
        and field.name not in exclude
    }


def _load(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    """Field values back from `_fields` output, converted by each field's own parser."""
    return {name: model._meta.get_field(name).to_python(value) for name, value in data.items()}


class _People:
    """Usernames for user ids (one query per person, remembered), and everybody the export names."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}

    def __call__(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self.names:
            self.names[user_id] = get_user_model().objects.get(pk=user_id).get_username()
        return self.names[user_id]


# --- export -------------------------------------------------------------------------------------


def _history_row(row: models.Model, people: _People) -> dict[str, Any]:
    data = _fields(row, exclude=("id",))
    data["history_user"] = people(row.history_user_id)
    return data


def network_export(*, network: Network) -> dict[str, Any]:
    """Everything `network` owns, as a JSON-ready dict (deterministic order: natural keys)."""
    people = _People()
    municipality_ids: set[int] = set()

    memberships = list(network.memberships.select_related("municipality"))
    municipality_ids.update(m.municipality_id for m in memberships)

    links = list(NetworkIndicator.objects.filter(network=network).select_related("indicator"))
    rounds = list(Round.objects.filter(network=network).select_related("period").prefetch_related("indicators"))
    submissions = list(
        Submission.objects.filter(round__network=network).select_related("round__period", "municipality")
    )
    municipality_ids.update(s.municipality_id for s in submissions)
    submission_ids = [s.pk for s in submissions]
    events = defaultdict(list)
    for event in SubmissionEvent.objects.filter(submission_id__in=submission_ids).order_by("at", "pk"):
        events[event.submission_id].append(event)
    values = defaultdict(list)
    for value in Value.objects.filter(submission_id__in=submission_ids).select_related("item"):
        values[value.submission_id].append(value)
    history = defaultdict(list)
    for row in HistoricalValue.objects.filter(submission_id__in=submission_ids).order_by("history_date", "history_id"):
        history[row.id].append(row)
    queries = defaultdict(list)
    for query in ValueQuery.objects.filter(submission_id__in=submission_ids).select_related("item"):
        queries[query.submission_id].append(query)

    cases = list(
        PracticeCase.objects.filter(network=network)
        .select_related("municipality", "period")
        .prefetch_related("tags", "indicators", "attachments")
    )
    plans = list(
        ImprovementPlan.objects.filter(network=network)
        .select_related("municipality")
        .prefetch_related("targets__indicator", "targets__baseline_period", "targets__target_period", "actions")
    )
    meetings = list(Meeting.objects.filter(network=network).select_related("host").prefetch_related("attendees"))
    municipality_ids.update(c.municipality_id for c in cases)
    municipality_ids.update(p.municipality_id for p in plans)
    municipality_ids.update(m.host_id for m in meetings if m.host_id)

    # The network's own roles (its coordinators, the roles its invitations gave) and the roles an
    # administrator gave its members for every network; a member's role in another network is not
    # this network's.
    roles = list(
        Role.objects.filter(
            Q(network=network) | Q(municipality_id__in=[m.municipality_id for m in memberships], network__isnull=True)
        ).select_related("municipality")
    )

    # The catalogue: the indicator set, indicators named elsewhere, their items, the network's
    # context items, and every item a value, history row or query names.
    indicator_ids = {link.indicator_id for link in links}
    for round_ in rounds:
        indicator_ids.update(i.pk for i in round_.indicators.all())
    for case in cases:
        indicator_ids.update(i.pk for i in case.indicators.all())
    for plan in plans:
        indicator_ids.update(t.indicator_id for t in plan.targets.all())
    indicators = list(Indicator.objects.filter(pk__in=indicator_ids).prefetch_related("items"))
    item_ids = {item.pk for indicator in indicators for item in indicator.items.all()}
    item_ids.update(network.data_items.values_list("pk", flat=True))
    item_ids.update(v.item_id for rows in values.values() for v in rows)
    item_ids.update(r.item_id for rows in history.values() for r in rows)
    item_ids.update(q.item_id for rows in queries.values() for q in rows)
    items = {item.pk: item for item in DataItem.objects.filter(pk__in=item_ids)}
    context_item_ids = set(network.data_items.values_list("pk", flat=True))

    period_ids = {r.period_id for r in rounds}
    period_ids.update(c.period_id for c in cases if c.period_id)
    for plan in plans:
        for target in plan.targets.all():
            period_ids.add(target.target_period_id)
            if target.baseline_period_id:
                period_ids.add(target.baseline_period_id)
    periods = {p.pk: p for p in Period.objects.filter(pk__in=period_ids)}

    # Municipalities, with their successors (and theirs) so the links survive the move.
    municipalities: dict[int, Municipality] = {}
    wanted = set(municipality_ids) | {r.municipality_id for r in roles if r.municipality_id}
    while wanted:
        found = list(Municipality.objects.filter(pk__in=wanted))
        municipalities.update((m.pk, m) for m in found)
        wanted = {m.successor_id for m in found if m.successor_id and m.successor_id not in municipalities}
    code = {pk: m.code for pk, m in municipalities.items()}

    def value_entry(item_id: int, value: Value | None, rows: list) -> dict[str, Any]:
        entry: dict[str, Any] = {"item": items[item_id].code}
        if value is not None:
            entry.update(_fields(value))
        entry["history"] = [_history_row(row, people) for row in rows]
        return entry

    submission_data = []
    for submission in submissions:
        current = {v.pk: v for v in values[submission.pk]}
        value_rows = [value_entry(v.item_id, v, history.get(v.pk, [])) for v in current.values()]
        value_rows.sort(key=lambda e: e["item"])
        removed = [
            value_entry(rows[0].item_id, None, rows)
            for value_id, rows in history.items()
            if value_id not in current and rows[0].submission_id == submission.pk
        ]
        removed.sort(key=lambda e: (e["item"], e["history"][0]["history_date"]))
        submission_data.append(
            {
                "period": submission.round.period.label,
                "municipality": code[submission.municipality_id],
                **_fields(submission),
                "events": [
                    {**_fields(e), "user": people(e.user_id)} for e in events[submission.pk]
                ],  # already ordered by (at, pk)
                "values": value_rows,
                "removed_values": removed,
                "queries": sorted(
                    (
                        {**_fields(q), "item": q.item.code, "author": people(q.author_id)}
                        for q in queries[submission.pk]
                    ),
                    key=lambda q: (q["item"], q["at"]),
                ),
            }
        )
    submission_data.sort(key=lambda s: (s["period"], s["municipality"]))

    def attachment_entry(attachment: PracticeAttachment) -> dict[str, Any]:
        with attachment.file.open("rb") as fh:
            content = fh.read()
        return {
            **_fields(attachment),
            "file_name": posixpath.basename(attachment.file.name),
            "content": base64.b64encode(content).decode("ascii"),
        }

    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "network": _fields(network),
        "municipalities": sorted(
            (
                {**_fields(m), "successor": code.get(m.successor_id) if m.successor_id else None}
                for m in municipalities.values()
            ),
            key=lambda m: m["code"],
        ),
        "memberships": sorted(
            ({"municipality": code[m.municipality_id], **_fields(m)} for m in memberships),
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
        "data_items": sorted(
            ({**_fields(item), "context": item.pk in context_item_ids} for item in items.values()),
            key=lambda i: i["code"],
        ),
        "indicators": sorted(
            ({**_fields(i), "items": sorted(item.code for item in i.items.all())} for i in indicators),
            key=lambda i: i["code"],
        ),
        "indicator_set": sorted(
            ({"indicator": link.indicator.code, "position": link.position} for link in links),
            key=lambda link: (link["position"], link["indicator"]),
        ),
        "periods": sorted((_fields(p) for p in periods.values()), key=lambda p: (p["start"], p["label"])),
        "rounds": sorted(
            (
                {
                    "period": r.period.label,
                    **_fields(r),
                    "indicators": sorted(i.code for i in r.indicators.all()),
                }
                for r in rounds
            ),
            key=lambda r: r["period"],
        ),
        "submissions": submission_data,
        "practice_cases": sorted(
            (
                {
                    **_fields(c),
                    "municipality": code[c.municipality_id],
                    "period": c.period.label if c.period else None,
                    "submitted_by": people(c.submitted_by_id),
                    "tags": sorted(t.name for t in c.tags.all()),
                    "indicators": sorted(i.code for i in c.indicators.all()),
                    "attachments": sorted(
                        (attachment_entry(a) for a in c.attachments.all()), key=lambda a: (a["name"], a["uploaded_at"])
                    ),
                }
                for c in cases
            ),
            key=lambda c: (c["municipality"], c["created_at"], c["title"]),
        ),
        "plans": sorted(
            (
                {
                    **_fields(p),
                    "municipality": code[p.municipality_id],
                    "targets": sorted(
                        (
                            {
                                **_fields(t),
                                "indicator": t.indicator.code,
                                "baseline_period": t.baseline_period.label if t.baseline_period else None,
                                "target_period": t.target_period.label,
                            }
                            for t in p.targets.all()
                        ),
                        key=lambda t: t["indicator"],
                    ),
                    "actions": [_fields(a) for a in p.actions.all()],  # model order: due date, then creation
                }
                for p in plans
            ),
            key=lambda p: (p["municipality"], p["created_at"], p["title"]),
        ),
        "meetings": sorted(
            (
                {
                    **_fields(m),
                    "host": code[m.host_id] if m.host_id else None,
                    "attendees": sorted(people(u.pk) for u in m.attendees.all()),
                }
                for m in meetings
            ),
            key=lambda m: (m["date"], m["title"]),
        ),
    }
    users = get_user_model().objects.filter(pk__in=list(people.names))
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


# --- import -------------------------------------------------------------------------------------


def _restore(objs: list[models.Model], stamps: list[dict[str, Any]], model: type[models.Model]) -> None:
    """Put back auto_now/auto_now_add timestamps that creation overwrote."""
    if not objs or not stamps or not stamps[0]:
        return
    names = list(stamps[0])
    for obj, values in zip(objs, stamps, strict=True):
        for name, value in values.items():
            setattr(obj, name, value)
    model.objects.bulk_update(objs, names, batch_size=500)


def _stamps(model: type[models.Model], data: dict[str, Any]) -> dict[str, Any]:
    auto = [
        f.name
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    return {name: model._meta.get_field(name).to_python(data[name]) for name in auto if name in data}


class _Importer:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.users: dict[str, Any] = {}
        self.municipalities: dict[str, Municipality] = {}
        self.items: dict[str, DataItem] = {}
        self.indicators: dict[str, Indicator] = {}
        self.periods: dict[str, Period] = {}
        self.rounds: dict[str, Round] = {}

    def user(self, username: str | None):
        return self.users[username] if username else None

    def user_id(self, username: str | None) -> int | None:
        return self.users[username].pk if username else None

    def run(self) -> Network:
        data = self.data
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise BackupError(f"not a network export of format {FORMAT} version {VERSION}")
        code = data["network"]["code"]
        if Network.objects.filter(code=code).exists():
            raise BackupError(f"network {code} already exists in this installation; nothing was imported")
        self._people()
        self._municipalities()
        network = Network.objects.create(**_load(Network, data["network"]))
        for row in data["memberships"]:
            Membership.objects.create(
                network=network,
                municipality=self.municipalities[row["municipality"]],
                **_load(Membership, _own(row, "municipality")),
            )
        for row in data["roles"]:
            municipality = self.municipalities[row["municipality"]] if row["municipality"] else None
            Role.objects.get_or_create(
                user=self.users[row["user"]],
                kind=row["kind"],
                municipality=municipality,
                network=network if (municipality is None or row.get("in_network")) else None,
            )
        self._catalogue(network)
        self._rounds(network)
        self._submissions()
        self._learning(network)
        return network

    def _people(self) -> None:
        model = get_user_model()
        for row in self.data["users"]:
            user = model.objects.filter(**{model.USERNAME_FIELD: row["username"]}).first()
            if user is None:
                user = model(**{model.USERNAME_FIELD: row["username"]})
                for name in ("email", "first_name", "last_name", "is_active"):
                    setattr(user, name, row[name])
                user.set_unusable_password()
                user.save()
            self.users[row["username"]] = user

    def _municipalities(self) -> None:
        rows = self.data["municipalities"]
        existing = {m.code: m for m in Municipality.objects.filter(code__in=[r["code"] for r in rows])}
        created = []
        for row in rows:
            municipality = existing.get(row["code"])
            if municipality is None:
                municipality = Municipality.objects.create(**_load(Municipality, _own(row, "successor")))
                created.append((municipality, row["successor"]))
            self.municipalities[row["code"]] = municipality
        for municipality, successor in created:
            if successor:
                municipality.successor = self.municipalities[successor]
                municipality.save(update_fields=["successor"])

    def _catalogue(self, network: Network) -> None:
        data = self.data
        for row in data["data_items"]:
            item = DataItem.objects.filter(code=row["code"]).first()
            if item is None:
                item = DataItem.objects.create(**_load(DataItem, _own(row, "context")))
            if row["context"]:
                item.networks.add(network)
            self.items[row["code"]] = item
        for row in data["indicators"]:
            indicator = Indicator.objects.filter(code=row["code"]).first()
            if indicator is None:
                indicator = Indicator.objects.create(**_load(Indicator, _own(row, "items")))
                indicator.items.set([self.items[c] for c in row["items"]])
            self.indicators[row["code"]] = indicator
        NetworkIndicator.objects.bulk_create(
            NetworkIndicator(network=network, indicator=self.indicators[row["indicator"]], position=row["position"])
            for row in data["indicator_set"]
        )
        for row in data["periods"]:
            period = Period.objects.filter(label=row["label"]).first()
            if period is None:
                period = Period.objects.create(**_load(Period, row))
            self.periods[row["label"]] = period

    def _rounds(self, network: Network) -> None:
        for row in self.data["rounds"]:
            round_ = Round.objects.create(
                network=network, period=self.periods[row["period"]], **_load(Round, _own(row, "period", "indicators"))
            )
            round_.indicators.set([self.indicators[c] for c in row["indicators"]])
            self.rounds[row["period"]] = round_

    def _submissions(self) -> None:
        rows = self.data["submissions"]
        submissions = Submission.objects.bulk_create(
            Submission(
                round=self.rounds[row["period"]],
                municipality=self.municipalities[row["municipality"]],
                **_load(
                    Submission,
                    _own(row, "period", "municipality", "events", "values", "removed_values", "queries"),
                ),
            )
            for row in rows
        )
        _restore(submissions, [_stamps(Submission, row) for row in rows], Submission)
        events, event_stamps, values, value_rows, queries, query_stamps = [], [], [], [], [], []
        for submission, row in zip(submissions, rows, strict=True):
            for event in row["events"]:
                events.append(
                    SubmissionEvent(
                        submission=submission,
                        user_id=self.user_id(event["user"]),
                        **_load(SubmissionEvent, _own(event, "user")),
                    )
                )
                event_stamps.append(_stamps(SubmissionEvent, event))
            for entry in row["values"]:
                values.append(
                    Value(
                        submission=submission,
                        item=self.items[entry["item"]],
                        **_load(Value, _own(entry, "item", "history")),
                    )
                )
                value_rows.append(entry)
            for query in row["queries"]:
                queries.append(
                    ValueQuery(
                        submission=submission,
                        item=self.items[query["item"]],
                        author_id=self.user_id(query["author"]),
                        **_load(ValueQuery, _own(query, "item", "author")),
                    )
                )
                query_stamps.append(_stamps(ValueQuery, query))
        _restore(SubmissionEvent.objects.bulk_create(events, batch_size=1000), event_stamps, SubmissionEvent)
        _restore(ValueQuery.objects.bulk_create(queries, batch_size=1000), query_stamps, ValueQuery)
        # Removed values first: their placeholders must not meet the current value of the same item.
        history = []
        for submission, row in zip(submissions, rows, strict=True):
            for entry in row["removed_values"]:
                history.extend(self._removed(submission, entry))
        # bulk_create sends no signals: the values get exactly the exported history, nothing more.
        values = Value.objects.bulk_create(values, batch_size=1000)
        for value, entry in zip(values, value_rows, strict=True):
            history.extend(self._history(value.pk, value.submission_id, value.item_id, entry["history"]))
        HistoricalValue.objects.bulk_create(history, batch_size=1000)

    def _history(self, value_id: int, submission_id: int, item_id: int, rows: list[dict]) -> list[models.Model]:
        return [
            HistoricalValue(
                id=value_id,
                submission_id=submission_id,
                item_id=item_id,
                history_user_id=self.user_id(row["history_user"]),
                **_load(HistoricalValue, _own(row, "history_user")),
            )
            for row in rows
        ]

    def _removed(self, submission: Submission, entry: dict) -> list[models.Model]:
        """History of a value removed since: its id is reserved (a row created and removed without
        history), so no later value can share the id and inherit someone else's history."""
        last = entry["history"][-1]
        placeholder = Value(
            submission=submission,
            item=self.items[entry["item"]],
            **_load(Value, {k: last[k] for k in ("number", "is_missing", "missing_reason", "explanation")}),
        )
        placeholder.skip_history_when_saving = True
        placeholder.save()
        value_id = placeholder.pk
        placeholder.delete()
        HistoricalValue.objects.filter(id=value_id).delete()  # the deletion's own row: not part of the story
        return self._history(value_id, submission.pk, placeholder.item_id, entry["history"])

    def _learning(self, network: Network) -> None:
        data = self.data
        for row in data["practice_cases"]:
            case = PracticeCase.objects.create(
                network=network,
                municipality=self.municipalities[row["municipality"]],
                period=self.periods[row["period"]] if row["period"] else None,
                submitted_by=self.user(row["submitted_by"]),
                **_load(
                    PracticeCase,
                    _own(row, "municipality", "period", "submitted_by", "tags", "indicators", "attachments"),
                ),
            )
            PracticeCase.objects.filter(pk=case.pk).update(**_stamps(PracticeCase, row))
            case.tags.set([Tag.objects.get_or_create(name=name)[0] for name in row["tags"]])
            case.indicators.set([self.indicators[c] for c in row["indicators"]])
            for entry in row["attachments"]:
                attachment = PracticeAttachment(
                    case=case, **_load(PracticeAttachment, _own(entry, "file_name", "content"))
                )
                attachment.file.save(entry["file_name"], ContentFile(base64.b64decode(entry["content"])), save=True)
                PracticeAttachment.objects.filter(pk=attachment.pk).update(**_stamps(PracticeAttachment, entry))
        for row in data["plans"]:
            plan = ImprovementPlan.objects.create(
                network=network,
                municipality=self.municipalities[row["municipality"]],
                **_load(ImprovementPlan, _own(row, "municipality", "targets", "actions")),
            )
            ImprovementPlan.objects.filter(pk=plan.pk).update(**_stamps(ImprovementPlan, row))
            for target in row["targets"]:
                PlanTarget.objects.create(
                    plan=plan,
                    indicator=self.indicators[target["indicator"]],
                    baseline_period=self.periods[target["baseline_period"]] if target["baseline_period"] else None,
                    target_period=self.periods[target["target_period"]],
                    **_load(PlanTarget, _own(target, "indicator", "baseline_period", "target_period")),
                )
            for action in row["actions"]:
                PlanAction.objects.create(plan=plan, **_load(PlanAction, action))
        for row in data["meetings"]:
            meeting = Meeting.objects.create(
                network=network,
                host=self.municipalities[row["host"]] if row["host"] else None,
                **_load(Meeting, _own(row, "host", "attendees")),
            )
            meeting.attendees.set([self.users[name] for name in row["attendees"]])


def _own(row: dict[str, Any], *relations: str) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in relations}


@transaction.atomic
def network_import(*, data: dict[str, Any]) -> Network:
    """Recreate an exported network; all or nothing. Refuses when its code exists already."""
    try:
        return _Importer(data).run()
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise BackupError(f"the document is incomplete or damaged: {exc!r}") from exc
