"""System checks: the map's boundaries file, when one is configured, is there and usable.

A wrong path would otherwise quietly turn the choropleth into the grid map.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core import checks


@checks.register()
def boundaries_file(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    path = settings.COMPARISON_BOUNDARIES_GEOJSON
    if not path:
        return []  # the grid map, on purpose
    hint = "Set COMPARISON_BOUNDARIES_GEOJSON to a local GeoJSON file, or to an empty value for the grid map."
    if not Path(path).is_file():
        return [checks.Warning(f"The map's boundaries file {path} does not exist.", hint=hint, id="comparisons.W001")]
    try:
        features = json.loads(Path(path).read_text(encoding="utf-8")).get("features") or []
    except (OSError, ValueError, AttributeError) as error:
        return [
            checks.Warning(
                f"The map's boundaries file {path} is not GeoJSON: {error}", hint=hint, id="comparisons.W002"
            )
        ]
    prop = settings.COMPARISON_BOUNDARIES_CODE_PROPERTY
    if not any(prop in (feature.get("properties") or {}) for feature in features if isinstance(feature, dict)):
        return [
            checks.Warning(
                f"No feature of the map's boundaries file {path} has the property {prop!r}.",
                hint="Set COMPARISON_BOUNDARIES_CODE_PROPERTY to the property holding the municipality code.",
                id="comparisons.W003",
            )
        ]
    return []
