"""The map's boundaries file is checked at start-up: a wrong path or property is a warning."""

from __future__ import annotations

import json

from comparisons.checks import boundaries_file


def test_the_shipped_boundaries_pass():
    assert boundaries_file() == []


def test_an_empty_setting_is_the_grid_map_on_purpose(settings):
    settings.COMPARISON_BOUNDARIES_GEOJSON = ""
    assert boundaries_file() == []


def test_a_missing_file_an_unreadable_one_or_a_wrong_property_is_a_warning(settings, tmp_path):
    settings.COMPARISON_BOUNDARIES_GEOJSON = str(tmp_path / "missing.geojson")
    assert [message.id for message in boundaries_file()] == ["comparisons.W001"]
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json", encoding="utf-8")
    settings.COMPARISON_BOUNDARIES_GEOJSON = str(broken)
    assert [message.id for message in boundaries_file()] == ["comparisons.W002"]
    other = tmp_path / "other.geojson"
    other.write_text(json.dumps({"type": "FeatureCollection", "features": [{"properties": {"code": "X"}}]}))
    settings.COMPARISON_BOUNDARIES_GEOJSON = str(other)
    assert [message.id for message in boundaries_file()] == ["comparisons.W003"]
    settings.COMPARISON_BOUNDARIES_CODE_PROPERTY = "code"
    assert boundaries_file() == []
