"""Deliberately wrong: the bottom app importing a higher one (see tests/test_layers.py)."""

from comparisons.services import results_recompute  # noqa: F401 - the upward import under test


def later():
    from learning import models  # noqa: F401 - an upward import hidden in a function counts too
