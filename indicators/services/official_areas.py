"""`import_official`, the area stage: which municipality each area of an office's table is.

An area is matched by its code (the national statistical code, ATVK in Latvia, with or without
the country prefix: `LV0020000` or `0020000`) or by its name: the Latvian name (`Aizkraukles
novads`), the English one (`Aizkraukle Municipality`), or the office's English label, which for a
Latvian `X novads` is "X municipality" with X in the nominative (`Pļaviņu novads` → "Pļaviņas
municipality") — derived here, since the historic units of 2009-2021 carry no English names.
Names are compared without case and diacritics ("Riga" is Rīga; "Vainode" is Vaiņode).

The office's labels carry more than names:
- a `..` prefix marks a part of the area above it: the towns and rural territories (parishes)
  listed under a municipality are skipped, whatever their names; under a region or the country
  a `..` label may well be a municipality;
- a suffix `(before 01.01.2024.)` / `(līdz …)` or `(from …)` / `(no …)` says which generation a
  label belongs to, when a name was used by two units.

A label matching two units (a name used before and after a reform: Aizkraukles novads of 2009
and of 2021) is resolved by the table itself: the suffix, then the generation of the other areas
it names unambiguously (a table naming "Augšdaugava municipality" is on the 2021 boundaries;
one naming "Pļaviņas municipality" on the 2009 ones), then the periods (a unit valid in every
period of the table). What remains ambiguous is an error. Areas that match no municipality (the
country, regions, towns, parishes, and any unit the portal does not hold) are skipped; those
that look like municipalities are named in a warning.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from networks.models import Municipality

from .official_tables import Category

# The word a municipality's name ends with (Latvian, the office's English).
MUNICIPALITY_WORDS = ("novads", "municipality", "county", "novadi")
# A label's generation: "(before 01.01.2024.)", "(līdz 01.07.2021.)", "(from …)", "(no …)".
_SUFFIX = re.compile(r"\s*\((before|until|līdz|from|since|no)\s+([^()]*)\)\s*$", re.IGNORECASE)
_BEFORE = {"before", "until", "līdz"}


def fold(text: str) -> str:
    """A name compared without case, diacritics and repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split()).casefold()


def code_key(code: str) -> str:
    """A code compared without the country prefix: `LV0020000` and `0020000` are one."""
    code = code.strip().upper()
    return re.sub(r"^[A-Z]{2}(?=[0-9])", "", code)


def nominatives(genitive: str) -> set[str]:
    """The Latvian nominatives a genitive in a municipality's name (`Pļaviņu novads`) may come from.

    -as → -a (Madonas); -es → -e (Aizkraukles); -a → -s, -š (Tukuma); -u → -i, -as, -es, -is
    (Balvu, Pļaviņu, Cēsu); -s stays (Saldus, Ventspils). Several candidates are fine: they are
    matched against the office's labels, not shown.
    """
    word = genitive
    found = {word}
    if word.endswith(("as", "es")):
        found.add(word[:-1])
    elif word.endswith("u"):
        found |= {word[:-1] + ending for ending in ("i", "as", "es", "is")}
    elif word.endswith("a"):
        found |= {word[:-1] + "s", word[:-1] + "š"}
    return found


def municipality_names(municipality: Municipality) -> set[str]:
    """Every name the office may give the municipality, folded."""
    names = {municipality.name, municipality.name_en}
    match = re.fullmatch(r"(.+)\s+novads", municipality.name.strip(), flags=re.IGNORECASE)
    if match:
        for nominative in nominatives(match.group(1)):
            names |= {f"{nominative} municipality", f"{nominative} county"}
    return {fold(name) for name in names if name and name.strip()}


@dataclass(frozen=True)
class _Unit:
    pk: int
    code: str
    name: str
    valid_from: datetime.date | None
    valid_to: datetime.date | None

    def overlaps(self, start: datetime.date | None, end: datetime.date | None) -> bool:
        return (self.valid_from is None or end is None or self.valid_from <= end) and (
            self.valid_to is None or start is None or start <= self.valid_to
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@dataclass
class AreaMatch:
    """The area categories' municipalities: position → municipality id (None: skipped)."""

    municipality_ids: dict[int, int | None] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # labels of the areas skipped
    unknown: list[str] = field(default_factory=list)  # skipped labels that look like municipalities
    errors: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return sum(1 for pk in self.municipality_ids.values() if pk is not None)


class Areas:
    """The municipalities the portal knows (every generation), indexed by code and by name."""

    def __init__(self, municipalities: Iterable[Municipality] | None = None) -> None:
        if municipalities is None:
            municipalities = Municipality.objects.only("pk", "code", "name", "name_en", "valid_from", "valid_to")
        self.units: dict[int, _Unit] = {}
        self.by_code: dict[str, int] = {}
        self.by_name: dict[str, set[int]] = {}
        for m in municipalities:
            self.units[m.pk] = _Unit(m.pk, m.code, m.name, m.valid_from, m.valid_to)
            self.by_code[code_key(m.code)] = m.pk
            for name in municipality_names(m):
                self.by_name.setdefault(name, set()).add(m.pk)

    def candidates(self, category: Category) -> set[int]:
        """The municipalities a category may be: by code, else by name (prefixes and suffixes off)."""
        for code in (category.code, category.label.split(" ", 1)[0] if category.label.strip() else ""):
            pk = self.by_code.get(code_key(code)) if code.strip() else None
            if pk is not None:
                return {pk}
        label, _hint = split_label(category.label)
        return set(self.by_name.get(fold(label), ()))

    def count_matches(self, categories: Sequence[Category]) -> int:
        return sum(1 for category in categories if self.candidates(category))

    def match(
        self, categories: Sequence[Category], *, periods: Sequence[tuple[datetime.date, datetime.date]]
    ) -> AreaMatch:
        result = AreaMatch()
        found: dict[int, set[int]] = {}
        hints: dict[int, tuple[str, datetime.date | None]] = {}
        parents: list[tuple[int, str]] = []  # (depth, "municipality" / "part" / "other") of the labels above
        for position, category in enumerate(categories):
            depth = depth_of(category.label)
            while parents and parents[-1][0] >= depth:
                parents.pop()
            inside = bool(parents) and parents[-1][1] in ("municipality", "part")
            candidates = set() if inside else self.candidates(category)
            _label, hint = split_label(category.label)
            if hint is not None:
                hints[position] = hint
            if candidates:
                found[position] = candidates
            parents.append((depth, "part" if inside else "municipality" if candidates else "other"))
            if not candidates:
                result.municipality_ids[position] = None
                result.skipped.append(category.label.strip())
                if not inside and depth == 0 and looks_like_municipality(category.label):
                    result.unknown.append(category.label.strip())
        unique = [next(iter(c)) for c in found.values() if len(c) == 1]
        for position, candidates in found.items():
            chosen = self._resolve(candidates, hints.get(position), unique, periods)
            if len(chosen) == 1:
                result.municipality_ids[position] = next(iter(chosen))
                continue
            units = sorted((self.units[pk] for pk in chosen), key=lambda u: u.code)
            result.municipality_ids[position] = None
            result.errors.append(
                _("the area %(label)s matches %(count)d municipalities: %(units)s (give the codes in the file)")
                % {
                    "label": repr(categories[position].label.strip()),
                    "count": len(units),
                    "units": ", ".join(f"{u} {_validity(u)}" for u in units),
                }
            )
        return result

    def _resolve(
        self,
        candidates: set[int],
        hint: tuple[str, datetime.date | None] | None,
        unique: list[int],
        periods: Sequence[tuple[datetime.date, datetime.date]],
    ) -> set[int]:
        """Narrow a label's candidates by the rules above; a rule that leaves none is passed over."""

        def narrowed(chosen: set[int], keep) -> set[int]:
            kept = {pk for pk in chosen if keep(self.units[pk])}
            return kept or chosen

        chosen = set(candidates)
        if len(chosen) > 1 and hint is not None and hint[1] is not None:
            kind, date = hint
            if kind in _BEFORE:
                chosen = narrowed(chosen, lambda u: u.valid_to is not None and u.valid_to < date)
            else:
                chosen = narrowed(chosen, lambda u: u.valid_from is not None and u.valid_from >= date)
        if len(chosen) > 1 and unique:
            votes = {
                pk: sum(
                    1
                    for other in unique
                    if self.units[other].overlaps(self.units[pk].valid_from, self.units[pk].valid_to)
                )
                for pk in chosen
            }
            best = max(votes.values())
            if list(votes.values()).count(best) == 1:
                chosen = {pk for pk, count in votes.items() if count == best}
        if len(chosen) > 1 and periods:
            chosen = narrowed(chosen, lambda u: all(u.overlaps(start, end) for start, end in periods))
        return chosen


def depth_of(label: str) -> int:
    """The hierarchy level the office's `..` prefix gives a label (0: none)."""
    dots = len(label) - len(label.lstrip("."))
    return (dots + 1) // 2


def split_label(label: str) -> tuple[str, tuple[str, datetime.date | None] | None]:
    """The label without its `..` prefix and generation suffix, and the suffix as (word, date)."""
    text = label.strip().lstrip(".").strip()
    match = _SUFFIX.search(text)
    if not match:
        return text, None
    return text[: match.start()].strip(), (match.group(1).casefold(), _date(match.group(2)))


def _date(text: str) -> datetime.date | None:
    text = text.strip().rstrip(".")
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%Y."):
        try:
            return datetime.datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date, no time zone
        except ValueError:
            continue
    return None


def looks_like_municipality(label: str) -> bool:
    name, _hint = split_label(label)
    return bool(name) and fold(name).rsplit(" ", 1)[-1] in MUNICIPALITY_WORDS


def _validity(unit: _Unit) -> str:
    start = unit.valid_from.isoformat() if unit.valid_from else "…"
    end = unit.valid_to.isoformat() if unit.valid_to else "…"
    return f"[{start} to {end}]"
