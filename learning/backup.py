"""The learning app's section of the network document (the frame is `networks.backup`).

It writes the network's practice cases with their attachments (the files' bytes in base64), its
improvement plans with their targets and actions, and its meetings. The municipalities,
indicators and periods these name are written by the sections that own them, which read them from
`ExportContext.named`.
"""

from __future__ import annotations

import base64
import posixpath
from typing import Any

from django.core.files.base import ContentFile

from indicators.models import Indicator, Period
from networks.backup import ExportContext, ImportContext, fields_dump, fields_load, own, stamps
from networks.models import Municipality

from .models import ImprovementPlan, Meeting, PlanAction, PlanTarget, PracticeAttachment, PracticeCase, Tag

# --- export -------------------------------------------------------------------------------------


def learning_export(context: ExportContext) -> dict[str, Any]:
    network, named = context.network, context.named
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
    named[Municipality].update(c.municipality_id for c in cases)
    named[Municipality].update(p.municipality_id for p in plans)
    named[Municipality].update(m.host_id for m in meetings if m.host_id)
    for case in cases:
        named[Indicator].update(i.pk for i in case.indicators.all())
        if case.period_id:
            named[Period].add(case.period_id)
    for plan in plans:
        for target in plan.targets.all():
            named[Indicator].add(target.indicator_id)
            named[Period].add(target.target_period_id)
            if target.baseline_period_id:
                named[Period].add(target.baseline_period_id)
    people = context.people
    return {
        "practice_cases": sorted(
            (_case_entry(c, people) for c in cases), key=lambda c: (c["municipality"], c["created_at"], c["title"])
        ),
        "plans": sorted(
            (_plan_entry(p) for p in plans), key=lambda p: (p["municipality"], p["created_at"], p["title"])
        ),
        "meetings": sorted(
            (
                {
                    **fields_dump(m),
                    "host": m.host.code if m.host_id else None,
                    "attendees": sorted(people(u.pk) for u in m.attendees.all()),
                }
                for m in meetings
            ),
            key=lambda m: (m["date"], m["title"]),
        ),
    }


def _case_entry(case: PracticeCase, people) -> dict[str, Any]:
    return {
        **fields_dump(case),
        "municipality": case.municipality.code,
        "period": case.period.label if case.period else None,
        "submitted_by": people(case.submitted_by_id),
        "tags": sorted(t.name for t in case.tags.all()),
        "indicators": sorted(i.code for i in case.indicators.all()),
        "attachments": sorted(
            (_attachment_entry(a) for a in case.attachments.all()), key=lambda a: (a["name"], a["uploaded_at"])
        ),
    }


def _attachment_entry(attachment: PracticeAttachment) -> dict[str, Any]:
    with attachment.file.open("rb") as fh:
        content = fh.read()
    return {
        **fields_dump(attachment),
        "file_name": posixpath.basename(attachment.file.name),
        "content": base64.b64encode(content).decode("ascii"),
    }


def _plan_entry(plan: ImprovementPlan) -> dict[str, Any]:
    return {
        **fields_dump(plan),
        "municipality": plan.municipality.code,
        "targets": sorted(
            (
                {
                    **fields_dump(t),
                    "indicator": t.indicator.code,
                    "baseline_period": t.baseline_period.label if t.baseline_period else None,
                    "target_period": t.target_period.label,
                }
                for t in plan.targets.all()
            ),
            key=lambda t: t["indicator"],
        ),
        "actions": [fields_dump(a) for a in plan.actions.all()],  # model order: due date, then creation
    }


# --- import -------------------------------------------------------------------------------------


def learning_restore(context: ImportContext) -> None:
    municipalities = context.objects[Municipality]
    for row in context.data["practice_cases"]:
        _case_restore(context, row)
    for row in context.data["plans"]:
        _plan_restore(context, row)
    for row in context.data["meetings"]:
        meeting = Meeting.objects.create(
            network=context.network,
            host=municipalities[row["host"]] if row["host"] else None,
            **fields_load(Meeting, own(row, "host", "attendees")),
        )
        meeting.attendees.set([context.users[name] for name in row["attendees"]])


def _case_restore(context: ImportContext, row: dict[str, Any]) -> None:
    periods = context.objects[Period]
    case = PracticeCase.objects.create(
        network=context.network,
        municipality=context.objects[Municipality][row["municipality"]],
        period=periods[row["period"]] if row["period"] else None,
        submitted_by=context.user(row["submitted_by"]),
        **fields_load(
            PracticeCase, own(row, "municipality", "period", "submitted_by", "tags", "indicators", "attachments")
        ),
    )
    PracticeCase.objects.filter(pk=case.pk).update(**stamps(PracticeCase, row))
    case.tags.set([Tag.objects.get_or_create(name=name)[0] for name in row["tags"]])
    case.indicators.set([context.objects[Indicator][c] for c in row["indicators"]])
    for entry in row["attachments"]:
        attachment = PracticeAttachment(
            case=case, **fields_load(PracticeAttachment, own(entry, "file_name", "content"))
        )
        attachment.file.save(entry["file_name"], ContentFile(base64.b64decode(entry["content"])), save=True)
        PracticeAttachment.objects.filter(pk=attachment.pk).update(**stamps(PracticeAttachment, entry))


def _plan_restore(context: ImportContext, row: dict[str, Any]) -> None:
    periods = context.objects[Period]
    plan = ImprovementPlan.objects.create(
        network=context.network,
        municipality=context.objects[Municipality][row["municipality"]],
        **fields_load(ImprovementPlan, own(row, "municipality", "targets", "actions")),
    )
    ImprovementPlan.objects.filter(pk=plan.pk).update(**stamps(ImprovementPlan, row))
    for target in row["targets"]:
        PlanTarget.objects.create(
            plan=plan,
            indicator=context.objects[Indicator][target["indicator"]],
            baseline_period=periods[target["baseline_period"]] if target["baseline_period"] else None,
            target_period=periods[target["target_period"]],
            **fields_load(PlanTarget, own(target, "indicator", "baseline_period", "target_period")),
        )
    for action in row["actions"]:
        PlanAction.objects.create(plan=plan, **fields_load(PlanAction, action))
