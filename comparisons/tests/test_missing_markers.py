"""The indicator page's "how is this computed?" says how missing figures and their status markers
are treated (docs/official.md), in both languages."""

from __future__ import annotations

from django.utils import translation

from comparisons.dashboard_views.pages.indicator import how_computed


def test_how_computed_names_the_markers_and_leaves_missing_values_out():
    with translation.override("en"):
        terms = dict(how_computed())
    assert "left out of the population" in terms["missing values"]
    for marker in ("… not available", "- nil", ". not applicable", ".. confidential"):
        assert marker in terms["missing values"]
    with translation.override("lv"):
        terms = dict(how_computed())
    assert "netiek iekļauts kopā" in terms["trūkstošas vērtības"]
    assert ".. konfidenciāli" in terms["trūkstošas vērtības"]
