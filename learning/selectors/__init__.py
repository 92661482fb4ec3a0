"""Reads of the learning app, shaped for the pages (no N+1), one module per subject: good practice
and learn from the best (`practice`), improvement plans and their progress (`plans`), awards
(`awards`), meetings and network activity (`activity`). The last three read stored results of the
`network` peer group only (`ranking`), from the rounds a person may see (`visibility`)."""

from __future__ import annotations

from .activity import Activity, meetings_of_network, network_activity
from .awards import Award, network_awards
from .plans import (
    TargetProgress,
    network_plans_progress,
    plan_detail_queryset,
    plan_targets_progress,
    plans_of_network,
    plans_of_user,
    profile_plan_targets,
    target_progress_compute,
    targets_progress,
)
from .practice import (
    LearnFromBest,
    Performer,
    learn_from_best,
    practice_detail_queryset,
    practice_search,
    practice_visible,
)
from .visibility import visible_periods

__all__ = [
    "Activity",
    "Award",
    "LearnFromBest",
    "Performer",
    "TargetProgress",
    "learn_from_best",
    "meetings_of_network",
    "network_activity",
    "network_awards",
    "network_plans_progress",
    "plan_detail_queryset",
    "plan_targets_progress",
    "plans_of_network",
    "plans_of_user",
    "practice_detail_queryset",
    "practice_search",
    "practice_visible",
    "profile_plan_targets",
    "target_progress_compute",
    "targets_progress",
    "visible_periods",
]
