"""Allowed: a higher app importing from below (see tests/test_layers.py)."""

from networks import permissions  # noqa: F401 - a downward import
