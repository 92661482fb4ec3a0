"""What the rest of the portal calls when stored results may no longer be true.

indicators' services call `results_stale` after approving, returning or editing an approved
submission; the comparisons app decides what to recompute and when (after commit, in Celery).
"""

from __future__ import annotations

from collections.abc import Iterable


def results_stale(*, round_id: int, item_ids: Iterable[int] | None = None) -> None:
    """The approved values of `round_id` changed (for `item_ids`, or all items when None)."""
    # Implemented by the comparison engine issue: enqueue a recompute after commit.
    return None
