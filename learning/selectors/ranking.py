"""What the learning pages read from stored results: only the `network` peer group, and which
way is better for an indicator (its polarity)."""

from __future__ import annotations

NETWORK_PEER_GROUP = "network"
BEST_RANKS = 3
MOST_IMPROVED = 3


def better_direction(polarity: str) -> int:
    """+1 when a larger value is better, -1 when a smaller one is, 0 for neutral indicators."""
    return {"higher": 1, "lower": -1}.get(polarity, 0)


def improvement_key(row, direction: int) -> tuple:
    """Largest relative change in the good direction first; rows without a relative change
    (previous value 0) after those that have one, then by the absolute change, then by name."""
    rel = row.change_rel
    absolute = row.change_abs or 0.0
    return (rel is None, -(rel or 0.0) * direction, -absolute * direction, row.municipality_id)
