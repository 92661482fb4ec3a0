"""The indicators app's section of the network document (the frame is `networks.backup`).

It writes the catalogue the network uses (its indicator set, the indicators and periods the
sections above name, every data item a value, history row or query refers to, the network's
context items), the periods, the rounds, and the submissions with their workflow events, their
values with the full change history (also of values removed since) and their query threads.
Catalogue entries and periods an installation holds already are reused on import, not duplicated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db import models

from networks.backup import ExportContext, ImportContext, People, fields_dump, fields_load, own, stamps, stamps_restore
from networks.models import Municipality

from .models import DataItem, Indicator, NetworkIndicator, Period, Round, Submission, SubmissionEvent, Value, ValueQuery

HistoricalValue = Value.history.model


# --- export -------------------------------------------------------------------------------------


@dataclass
class _Records:
    """The network's submissions and, by submission (history: by value id), what hangs off them."""

    submissions: list[Submission]
    events: dict[int, list[SubmissionEvent]]
    values: dict[int, list[Value]]
    history: dict[int, list[models.Model]]
    queries: dict[int, list[ValueQuery]]

    @classmethod
    def of(cls, network) -> _Records:
        submissions = list(
            Submission.objects.filter(round__network=network).select_related("round__period", "municipality")
        )
        ids = [s.pk for s in submissions]
        events, values, history, queries = defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list)
        for event in SubmissionEvent.objects.filter(submission_id__in=ids).order_by("at", "pk"):
            events[event.submission_id].append(event)
        for value in Value.objects.filter(submission_id__in=ids).select_related("item"):
            values[value.submission_id].append(value)
        for row in HistoricalValue.objects.filter(submission_id__in=ids).order_by("history_date", "history_id"):
            history[row.id].append(row)
        for query in ValueQuery.objects.filter(submission_id__in=ids).select_related("item"):
            queries[query.submission_id].append(query)
        return cls(submissions, events, values, history, queries)

    def item_ids(self) -> set[int]:
        ids = {v.item_id for rows in self.values.values() for v in rows}
        ids.update(r.item_id for rows in self.history.values() for r in rows)
        ids.update(q.item_id for rows in self.queries.values() for q in rows)
        return ids


def indicators_export(context: ExportContext) -> dict[str, Any]:
    network = context.network
    links = list(NetworkIndicator.objects.filter(network=network).select_related("indicator"))
    rounds = list(Round.objects.filter(network=network).select_related("period").prefetch_related("indicators"))
    records = _Records.of(network)
    context.named[Municipality].update(s.municipality_id for s in records.submissions)

    indicator_ids = context.named[Indicator] | {link.indicator_id for link in links}
    for round_ in rounds:
        indicator_ids.update(i.pk for i in round_.indicators.all())
    indicators = list(Indicator.objects.filter(pk__in=indicator_ids).prefetch_related("items"))
    context_item_ids = set(network.data_items.values_list("pk", flat=True))
    item_ids = {item.pk for indicator in indicators for item in indicator.items.all()}
    item_ids |= context_item_ids | records.item_ids()
    items = {item.pk: item for item in DataItem.objects.filter(pk__in=item_ids)}
    periods = Period.objects.filter(pk__in=context.named[Period] | {r.period_id for r in rounds})

    return {
        "data_items": sorted(
            ({**fields_dump(item), "context": item.pk in context_item_ids} for item in items.values()),
            key=lambda i: i["code"],
        ),
        "indicators": sorted(
            ({**fields_dump(i), "items": sorted(item.code for item in i.items.all())} for i in indicators),
            key=lambda i: i["code"],
        ),
        "indicator_set": sorted(
            ({"indicator": link.indicator.code, "position": link.position} for link in links),
            key=lambda link: (link["position"], link["indicator"]),
        ),
        "periods": sorted((fields_dump(p) for p in periods), key=lambda p: (p["start"], p["label"])),
        "rounds": sorted(
            (
                {"period": r.period.label, **fields_dump(r), "indicators": sorted(i.code for i in r.indicators.all())}
                for r in rounds
            ),
            key=lambda r: r["period"],
        ),
        "submissions": _submissions_export(records, items, context.people),
    }


def _submissions_export(records: _Records, items: dict[int, DataItem], people: People) -> list[dict[str, Any]]:
    def value_entry(item_id: int, value: Value | None, rows: list) -> dict[str, Any]:
        entry: dict[str, Any] = {"item": items[item_id].code}
        if value is not None:
            entry.update(fields_dump(value))
        entry["history"] = [
            {**fields_dump(row, exclude=("id",)), "history_user": people(row.history_user_id)} for row in rows
        ]
        return entry

    data = []
    for submission in records.submissions:
        current = {v.pk: v for v in records.values[submission.pk]}
        values = [value_entry(v.item_id, v, records.history.get(v.pk, [])) for v in current.values()]
        values.sort(key=lambda e: e["item"])
        removed = [
            value_entry(rows[0].item_id, None, rows)
            for value_id, rows in records.history.items()
            if value_id not in current and rows[0].submission_id == submission.pk
        ]
        removed.sort(key=lambda e: (e["item"], e["history"][0]["history_date"]))
        data.append(
            {
                "period": submission.round.period.label,
                "municipality": submission.municipality.code,
                **fields_dump(submission),
                # already ordered by (at, pk)
                "events": [{**fields_dump(e), "user": people(e.user_id)} for e in records.events[submission.pk]],
                "values": values,
                "removed_values": removed,
                "queries": sorted(
                    (
                        {**fields_dump(q), "item": q.item.code, "author": people(q.author_id)}
                        for q in records.queries[submission.pk]
                    ),
                    key=lambda q: (q["item"], q["at"]),
                ),
            }
        )
    data.sort(key=lambda s: (s["period"], s["municipality"]))
    return data


# --- import -------------------------------------------------------------------------------------


def indicators_restore(context: ImportContext) -> None:
    _catalogue_restore(context)
    periods, indicators = context.objects[Period], context.objects[Indicator]
    for row in context.data["rounds"]:
        round_ = Round.objects.create(
            network=context.network,
            period=periods[row["period"]],
            **fields_load(Round, own(row, "period", "indicators")),
        )
        round_.indicators.set([indicators[c] for c in row["indicators"]])
        context.objects[Round][row["period"]] = round_
    _SubmissionsRestore(context).run()


def _catalogue_restore(context: ImportContext) -> None:
    data, network = context.data, context.network
    items, indicators, periods = context.objects[DataItem], context.objects[Indicator], context.objects[Period]
    for row in data["data_items"]:
        item = DataItem.objects.filter(code=row["code"]).first()
        if item is None:
            item = DataItem.objects.create(**fields_load(DataItem, own(row, "context")))
        if row["context"]:
            item.networks.add(network)
        items[row["code"]] = item
    for row in data["indicators"]:
        indicator = Indicator.objects.filter(code=row["code"]).first()
        if indicator is None:
            indicator = Indicator.objects.create(**fields_load(Indicator, own(row, "items")))
            indicator.items.set([items[c] for c in row["items"]])
        indicators[row["code"]] = indicator
    NetworkIndicator.objects.bulk_create(
        NetworkIndicator(network=network, indicator=indicators[row["indicator"]], position=row["position"])
        for row in data["indicator_set"]
    )
    for row in data["periods"]:
        period = Period.objects.filter(label=row["label"]).first()
        if period is None:
            period = Period.objects.create(**fields_load(Period, row))
        periods[row["label"]] = period


class _SubmissionsRestore:
    """The submissions in bulk, then their events, queries, values and the values' history."""

    def __init__(self, context: ImportContext) -> None:
        self.context = context
        self.items = context.objects[DataItem]
        self.rows = context.data["submissions"]

    def run(self) -> None:
        rounds, municipalities = self.context.objects[Round], self.context.objects[Municipality]
        submissions = Submission.objects.bulk_create(
            Submission(
                round=rounds[row["period"]],
                municipality=municipalities[row["municipality"]],
                **fields_load(
                    Submission, own(row, "period", "municipality", "events", "values", "removed_values", "queries")
                ),
            )
            for row in self.rows
        )
        stamps_restore(Submission, submissions, [stamps(Submission, row) for row in self.rows])
        pairs = list(zip(submissions, self.rows, strict=True))
        self._events_and_queries(pairs)
        # Removed values first: their placeholders must not meet the current value of the same item.
        history = [
            row
            for submission, data in pairs
            for entry in data["removed_values"]
            for row in self._removed(submission, entry)
        ]
        values, entries = [], []
        for submission, data in pairs:
            for entry in data["values"]:
                values.append(
                    Value(
                        submission=submission,
                        item=self.items[entry["item"]],
                        **fields_load(Value, own(entry, "item", "history")),
                    )
                )
                entries.append(entry)
        # bulk_create sends no signals: the values get exactly the exported history, nothing more.
        values = Value.objects.bulk_create(values, batch_size=1000)
        for value, entry in zip(values, entries, strict=True):
            history.extend(self._history(value.pk, value.submission_id, value.item_id, entry["history"]))
        HistoricalValue.objects.bulk_create(history, batch_size=1000)

    def _events_and_queries(self, pairs: list[tuple[Submission, dict[str, Any]]]) -> None:
        user_id = self.context.user_id
        events, event_stamps, queries, query_stamps = [], [], [], []
        for submission, row in pairs:
            for event in row["events"]:
                events.append(
                    SubmissionEvent(
                        submission=submission,
                        user_id=user_id(event["user"]),
                        **fields_load(SubmissionEvent, own(event, "user")),
                    )
                )
                event_stamps.append(stamps(SubmissionEvent, event))
            for query in row["queries"]:
                queries.append(
                    ValueQuery(
                        submission=submission,
                        item=self.items[query["item"]],
                        author_id=user_id(query["author"]),
                        **fields_load(ValueQuery, own(query, "item", "author")),
                    )
                )
                query_stamps.append(stamps(ValueQuery, query))
        stamps_restore(SubmissionEvent, SubmissionEvent.objects.bulk_create(events, batch_size=1000), event_stamps)
        stamps_restore(ValueQuery, ValueQuery.objects.bulk_create(queries, batch_size=1000), query_stamps)

    def _history(self, value_id: int, submission_id: int, item_id: int, rows: list[dict]) -> list[models.Model]:
        return [
            HistoricalValue(
                id=value_id,
                submission_id=submission_id,
                item_id=item_id,
                history_user_id=self.context.user_id(row["history_user"]),
                **fields_load(HistoricalValue, own(row, "history_user")),
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
            **fields_load(Value, {k: last[k] for k in ("number", "is_missing", "missing_reason", "explanation")}),
        )
        placeholder.skip_history_when_saving = True
        placeholder.save()
        value_id = placeholder.pk
        placeholder.delete()
        HistoricalValue.objects.filter(id=value_id).delete()  # the deletion's own row: not part of the story
        return self._history(value_id, submission.pk, placeholder.item_id, entry["history"])
