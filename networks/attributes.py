"""Names people read for a municipality's free-form attributes (`Municipality.attributes`).

The attributes come from the municipality files as column names (`area_km2`, `iso_3166_2`,
`centroid_lat` …) and are kept as such: they are the keys peer groups (`attr:NAME`) and the
nearest-neighbour context (`COMPARISON_NEAREST_CONTEXT`) refer to. Pages show a label in the
reader's language instead; an attribute without one is shown with its underscores as spaces.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from .collation import sorted_latvian


def attribute_label(key: str) -> str:
    labels = {
        "area_km2": _("area (km²)"),
        "population": _("number of inhabitants"),
        "iso_3166_2": _("ISO 3166-2 code"),
        "centroid_lat": _("latitude of the centre"),
        "centroid_lon": _("longitude of the centre"),
        "split": _("divided between several successors"),
        "family_group": _("family group"),
    }
    return labels.get(key, key.replace("_", " "))


def attribute_value(value) -> str:
    """A number in the reader's format (`307,5` in Latvian), anything else as stored."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        return number_format(value, use_l10n=True)
    text = str(value)
    if text in ("yes", "no"):
        return _("yes") if text == "yes" else _("no")
    try:
        number = float(text)
    except ValueError:
        return text
    if "." in text and text.replace(".", "", 1).lstrip("-").isdigit():
        return number_format(number, decimal_pos=len(text.split(".")[1]), use_l10n=True)
    return number_format(int(number), use_l10n=True) if text.lstrip("-").isdigit() else text


def attribute_rows(attributes: dict | None) -> list[tuple[str, str]]:
    """(label, value) pairs in the order of their labels, for a page."""
    rows = [(attribute_label(key), attribute_value(value)) for key, value in (attributes or {}).items()]
    return sorted_latvian(rows, key=lambda row: row[0])
