"""Saving a submission's values: exact numbers, history of every change, no lost update."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from networks import events

from ..errors import IndicatorsError
from ..models import Submission, Value


class ConcurrentEditError(IndicatorsError):
    """Someone saved the submission after this edit began; nothing of this edit was saved."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else saved this submission after you opened it. Nothing of your change was saved: "
                "reload the page to see their values, then enter your change again."
            )
        )


@dataclass(frozen=True)
class ValueInput:
    """What a form, an upload or an import says about one data item."""

    number: Decimal | None = None
    is_missing: bool = False
    missing_reason: str = ""
    explanation: str = ""

    @property
    def is_empty(self) -> bool:
        return self.number is None and not self.is_missing


@transaction.atomic
def submission_values_save(
    *, submission: Submission, user, values: Mapping[int, ValueInput], expected_version: int
) -> list[int]:
    """Apply `values` (by data item id) to the submission; return the ids of changed items.

    Refuses with ConcurrentEditError, changing nothing, when the submission's version is no
    longer `expected_version` (the version the editor's page or upload was based on). An empty
    input removes the value (the history keeps it). Unchanged values are not saved again, so the
    history holds real changes only.
    """
    bumped = Submission.objects.filter(pk=submission.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if not bumped:
        raise ConcurrentEditError
    submission.version = expected_version + 1
    existing = {value.item_id: value for value in Value.objects.select_for_update().filter(submission=submission)}
    changed: list[int] = []
    for item_id, given in values.items():
        value = existing.get(item_id)
        if given.is_empty:
            if value is not None:
                value._history_user = user
                value.delete()
                changed.append(item_id)
            continue
        fields = {
            "number": None if given.is_missing else given.number,
            "is_missing": given.is_missing,
            "missing_reason": given.missing_reason.strip() if given.is_missing else "",
            "explanation": given.explanation.strip(),
        }
        if value is None:
            value = Value(submission=submission, item_id=item_id, **fields)
        elif all(_same(getattr(value, name), new) for name, new in fields.items()):
            continue
        else:
            for name, new in fields.items():
                setattr(value, name, new)
        value._history_user = user
        value.save()
        changed.append(item_id)
    if changed and submission.status == Submission.Status.APPROVED:
        # Approved values feed the stored results: they must be recomputed.
        events.publish(events.VALUES_CHANGED, round_id=submission.round_id, item_ids=changed)
    return changed


def _same(old, new) -> bool:
    # Decimal("1.50") == Decimal("1.5") numerically; the stored number is what matters.
    return old == new
