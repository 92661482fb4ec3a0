"""History across a reform: a municipality's additive figures before it existed, from its predecessors.

For each network member that came into being at a reform (its `valid_from`), each *additive* data
item the network uses and each of the network's rounds whose period ended before the member
existed, the member's value is the sum of share * value over its predecessors' approved values of that
round (docs/official.md, "History across a reform"):

- a whole predecessor counts with share 1 through its `successor` link; explicit
  `SuccessorShare` rows, when a predecessor has any, say instead which part each successor took;
  a divided unit (`Municipality.split`) counts only through such rows;
- a predecessor whose figure is absent or missing, a divided unit without shares, or a share row
  without a share make the sum missing, with a reason naming the unit;
- where no predecessor has a figure of the item in the round, nothing is reconstructed;
- a value of the member's own (typed, imported, or the office's on the new boundaries) is never
  overwritten; every other writer clears the mark (`values`), so its own figure wins later too.

Non-additive items are never carried over; indicators are computed from the reconstructed items by
their formulas by the comparison engine, as any others. The values are written as approved values
marked `reconstructed` (in a new approved submission when the member has none in the round), with
history; re-running changes nothing; all or nothing.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from networks import events
from networks.models import Membership, Municipality, Network, SuccessorShare

from ..errors import IndicatorsError
from ..models import DataItem, Round, Submission, Value
from .submissions import submissions_bulk_create
from .values import Reconstructed, values_reconstructed_save

QUANTUM = Decimal(10) ** -15  # the values' decimal places


class ReformError(IndicatorsError):
    """The reconstruction cannot run as asked (unknown network or item); nothing was written."""


def reconstructed_period(valid_from: datetime.date | None, period_end: datetime.date) -> bool:
    """Whether a municipality's figure for a period ending on `period_end` is reconstructed: the
    municipality did not exist yet in the period (it came into being after the period ended)."""
    return valid_from is not None and period_end < valid_from


@dataclass(frozen=True)
class Part:
    """What one predecessor gives a successor: a share, or why it cannot give one."""

    predecessor_id: int
    share: Decimal | None  # None: a divided unit whose share is not given
    ended: datetime.date | None  # the predecessor's last day

    def before(self, successor: Municipality) -> bool:
        """Whether the predecessor ended when the successor came into being (not later: Varakļānu
        novads of 2021, merged into Madonas novads in 2025, is no part of Madonas novads' 2020)."""
        return self.ended is not None and successor.valid_from is not None and self.ended < successor.valid_from


@dataclass
class ReformReport:
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    missing: int = 0
    submissions_created: int = 0
    dry_run: bool = False
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = _(
            "reconstructed values: %(created)d created, %(updated)d updated, %(removed)d removed, "
            "%(unchanged)d unchanged (%(missing)d of them missing); %(submissions)d submissions created"
        ) % {
            "created": self.created,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "submissions": self.submissions_created,
        }
        if self.dry_run:
            text += " " + _("(dry run: nothing was saved)")
        return text


def predecessor_parts() -> dict[int, list[Part]]:
    """Successor id → what each predecessor gives it (see the module docstring)."""
    parts: dict[int, list[Part]] = defaultdict(list)
    explicit: set[int] = set()
    for predecessor_id, successor_id, share, ended in SuccessorShare.objects.values_list(
        "predecessor_id", "successor_id", "share", "predecessor__valid_to"
    ):
        parts[successor_id].append(Part(predecessor_id, share, ended))
        explicit.add(predecessor_id)
    for pk, successor_id, split, ended in Municipality.objects.filter(successor__isnull=False).values_list(
        "pk", "successor_id", "split", "valid_to"
    ):
        if pk not in explicit:
            parts[successor_id].append(Part(pk, None if split else Decimal(1), ended))
    return dict(parts)


def succession_pairs() -> list[tuple[int, int]]:
    """(predecessor id, successor id) of every succession at a reform: the successor's figures of
    a period count the predecessor's territory, so where both report, the predecessor is left out
    of the period's populations (docs/statistics.md, "Populations")."""
    parts = predecessor_parts()
    began = dict(Municipality.objects.filter(pk__in=list(parts)).values_list("pk", "valid_from"))
    return sorted(
        (part.predecessor_id, successor_id)
        for successor_id, successor_parts in parts.items()
        for part in successor_parts
        if part.ended is not None and began.get(successor_id) is not None and part.ended < began[successor_id]
    )


def reconstruct(
    *,
    network_code: str | None = None,
    item_codes: list[str] | None = None,
    user=None,
    dry_run: bool = False,
) -> ReformReport:
    """Reconstruct the pre-reform values of the networks' new municipalities (all or nothing)."""
    networks = Network.objects.order_by("code")
    if network_code:
        networks = networks.filter(code=network_code)
        if not networks.exists():
            raise ReformError(_("unknown network %(code)s") % {"code": repr(network_code)})
    items = DataItem.objects.filter(additive=True)
    if item_codes:
        known = {i.code: i for i in DataItem.objects.filter(code__in=item_codes)}
        unknown = sorted(set(item_codes) - set(known))
        if unknown:
            raise ReformError(_("unknown data item(s): %(codes)s") % {"codes": ", ".join(unknown)})
        report_items = [i for i in known.values() if not i.additive]
        items = items.filter(code__in=item_codes)
    else:
        report_items = []
    report = ReformReport(dry_run=dry_run)
    for item in report_items:
        report.warnings.append(
            _("data item %(code)s is not additive: it is not carried across a reform") % {"code": item.code}
        )

    class _DryRun(Exception):
        pass

    try:
        with transaction.atomic():
            parts = predecessor_parts()
            for network in networks:
                _network(network, items=items, parts=parts, user=user, report=report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def reform_after_import(*, network_code: str | None = None, item_codes: list[str] | None = None, user=None) -> str:
    """After an import: reconstruct what the new figures change (additive items only); what was
    done in words, or "" when nothing changed."""
    if item_codes is not None:
        item_codes = list(DataItem.objects.filter(code__in=item_codes, additive=True).values_list("code", flat=True))
        if not item_codes:
            return ""
    report = reconstruct(network_code=network_code, item_codes=item_codes, user=user)
    return str(report) if report.created or report.updated or report.removed else ""


def reform_seed(*, log=lambda _msg: None) -> None:
    """The demo's part: reconstruct what the seeded figures allow (idempotent)."""
    log(str(reconstruct()))


def _network(network: Network, *, items, parts: dict[int, list[Part]], user, report: ReformReport) -> None:
    item_list = list(items.filter(Q(indicators__networks=network) | Q(networks=network)).distinct().order_by("code"))
    members = list(
        Municipality.objects.filter(
            pk__in=Membership.objects.filter(network=network).values("municipality_id"), valid_from__isnull=False
        ).order_by("valid_from", "code")
    )
    parts = {m.pk: [p for p in parts.get(m.pk, ()) if p.before(m)] for m in members}
    members = [m for m in members if parts[m.pk]]
    if not item_list or not members:
        return
    earliest = max(m.valid_from for m in members)
    rounds = list(Round.objects.filter(network=network, period__end__lt=earliest).select_related("period"))
    names = dict(
        Municipality.objects.filter(
            pk__in={p.predecessor_id for m in members for p in parts[m.pk]} | {m.pk for m in members}
        ).values_list("pk", "name")
    )
    item_ids = [i.pk for i in item_list]
    for round_ in sorted(rounds, key=lambda r: r.period.start):
        period = round_.period
        targets = [m for m in members if reconstructed_period(m.valid_from, period.end)]
        if not targets:
            continue
        wanted_ids = {m.pk for m in targets} | {p.predecessor_id for m in targets for p in parts[m.pk]}
        submissions = {
            s.municipality_id: s for s in Submission.objects.filter(round=round_, municipality_id__in=wanted_ids)
        }
        values: dict[tuple[int, int], Value] = {
            (v.submission.municipality_id, v.item_id): v
            for v in Value.objects.filter(submission__in=submissions.values(), item_id__in=item_ids).select_related(
                "submission"
            )
        }
        create: dict[tuple[int, int], Reconstructed] = {}  # (municipality_id, item_id) until submissions exist
        update: dict[int, Reconstructed] = {}
        delete: list[int] = []
        changed_items: set[int] = set()
        for member in targets:
            for item in item_list:
                own = values.get((member.pk, item.pk))
                if own is not None and not own.reconstructed:
                    continue  # the member's own figure
                result = _sum(item, period.label, parts[member.pk], values, names)
                if result is None:
                    if own is not None:
                        delete.append(own.pk)
                        report.removed += 1
                        changed_items.add(item.pk)
                        del values[(member.pk, item.pk)]
                    continue
                if result[1]:
                    report.missing += 1
                if own is None:
                    create[(member.pk, item.pk)] = result
                    report.created += 1
                elif (own.number, own.is_missing, own.missing_reason, own.explanation, own.missing_status) == (
                    *result,
                    "",
                ):
                    report.unchanged += 1
                    continue
                else:
                    update[own.pk] = result
                    report.updated += 1
                changed_items.add(item.pk)
                # A later generation reads this one's sum (members are in the order they came into being).
                values[(member.pk, item.pk)] = Value(
                    submission=submissions.get(member.pk)
                    or Submission(round=round_, municipality=member, status=Submission.Status.APPROVED),
                    item=item,
                    number=result[0],
                    is_missing=result[1],
                    missing_reason=result[2],
                    explanation=result[3],
                    reconstructed=True,
                )
        if not (create or update or delete):
            continue
        new_keys = sorted(
            {(round_.pk, municipality_id) for municipality_id, _item in create}
            - {(round_.pk, municipality_id) for municipality_id in submissions}
        )
        new = submissions_bulk_create(
            keys=new_keys,
            status=Submission.Status.APPROVED,
            user=user,
            message=_("reconstructed from the predecessors' figures"),
        )
        report.submissions_created += len(new)
        submissions.update({s.municipality_id: s for s in new})
        waiting = sorted(names[m] for m, _item in create if submissions[m].status != Submission.Status.APPROVED)
        if waiting:
            report.warnings.append(
                _("network %(network)s, %(period)s: the submissions of %(names)s are not approved yet")
                % {"network": network.code, "period": period.label, "names": ", ".join(sorted(set(waiting)))}
            )
        values_reconstructed_save(
            create={(submissions[m].pk, item_id): result for (m, item_id), result in create.items()},
            update=update,
            delete=delete,
            user=user,
        )
        events.publish(events.VALUES_CHANGED, round_id=round_.pk, item_ids=None if new else sorted(changed_items))


def _sum(
    item: DataItem,
    period: str,
    member_parts: list[Part],
    values: dict[tuple[int, int], Value],
    names: dict[int, str],
) -> Reconstructed | None:
    """The member's reconstructed value of `item`, or None when no predecessor has a figure."""
    found = [values.get((part.predecessor_id, item.pk)) for part in member_parts]
    approved = [
        value if value is not None and value.submission.status == Submission.Status.APPROVED else None
        for value in found
    ]
    if all(value is None for value in approved):
        return None
    total = Decimal(0)
    problems: list[str] = []
    used: list[str] = []
    for part, value in sorted(zip(member_parts, approved, strict=True), key=lambda pair: names[pair[0].predecessor_id]):
        name = names[part.predecessor_id]
        if part.share is None:
            problems.append(_("%(name)s was divided and no shares are given") % {"name": name})
        elif value is None:
            problems.append(_("%(name)s has no approved figure for %(period)s") % {"name": name, "period": period})
        elif value.is_missing:
            reason = value.missing_reason.strip() or _("no reason given")
            problems.append(_("%(name)s: %(reason)s") % {"name": name, "reason": reason})
        else:
            total += part.share * value.number
            number = f"{value.number.normalize():f}"
            used.append(number if part.share == 1 else f"{part.share.normalize():f} * {number}")
            used[-1] = f"{name} {used[-1]}"
    explanation = (
        _("Reconstructed from the predecessors' figures: %(parts)s") % {"parts": "; ".join(used)} if used else ""
    )
    if problems:
        return (None, True, "; ".join(problems), _("Reconstructed from the predecessors' figures"))
    return (total.quantize(QUANTUM, rounding=ROUND_HALF_EVEN), False, "", explanation)
