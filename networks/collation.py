"""Names in Latvian alphabetical order, in the database and in Python.

The Latvian alphabet puts each letter with a diacritic right after its base letter
(a ā b c č d e ē f g ģ h i ī j k ķ l ļ m n ņ o p r s š t u ū v z ž), so "Ādažu" comes after
"Aizkraukles" and before "Alūksnes", and "Ķekavas" after "Kuldīgas". A binary or a C-locale
order puts every such name last.

- In a query, order with `latvian("name")` (or `latvian("municipality__name")`). SQLite compares
  with the collation `lv` that `register_sqlite_collation` adds to every new connection
  (networks/apps.py), built on `latvian_key`. PostgreSQL's ICU collation `lv-x-icu` will not do:
  CLDR's Latvian tailoring makes ā, ē, ī, ū mere accents of a, e, i, u (secondary differences),
  so "Ādažu" sorts before "Aizkraukles", and PostgreSQL 15 cannot add tailoring rules. There the
  name is ordered by a key, `translate()` mapping each letter (either case) of the alphabet to
  one character in alphabet order, compared bytewise (COLLATE "C").
  Meta.ordering stays as it is (changing it is a migration); every list shown to people orders
  through this module.
- In Python, sort with `key=latvian_key` (or `sorted_latvian(items, key=...)`).

Case is ignored at the first level; spaces, digits and most punctuation sort before letters;
q, w, x and y take their English places; any other character (ö, я …) comes after ž, by code
point. The Python key and the two databases agree on these rules.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db.models import F, Func, OrderBy, TextField

SQLITE_COLLATION = "lv"

ALPHABET = "aābcčdeēfgģhiījkķlļmnņopqrsštuūvwxyzž"
# PostgreSQL's key: the n-th letter (either case) becomes chr(0x41 + n), above space, punctuation
# and digits, below any letter outside the alphabet.
_KEY_FROM = ALPHABET + ALPHABET.upper()
_KEY_TO = "".join(chr(0x41 + index) for index in range(len(ALPHABET))) * 2
_KEY_TABLE = str.maketrans(_KEY_FROM, _KEY_TO)

T = TypeVar("T")


def latvian_key(text: str | None) -> tuple[str, str]:
    """A sort key putting `text` in Latvian alphabetical order: the same key PostgreSQL orders by,
    with case breaking ties (lower case first)."""
    text = unicodedata.normalize("NFC", text or "")
    return (text.translate(_KEY_TABLE), text.swapcase())


def sorted_latvian(items: Iterable[T], key: Callable[[T], str] | None = None) -> list[T]:
    """`items` in Latvian alphabetical order of `key(item)` (the item itself by default)."""
    pick = key or (lambda item: item)  # type: ignore[assignment, return-value]
    return sorted(items, key=lambda item: latvian_key(pick(item)))


class Latvian(Func):
    """A text expression compared in Latvian order, whatever the database."""

    template = "%(expressions)s"
    output_field = TextField()

    def __init__(self, expression):
        super().__init__(F(expression) if isinstance(expression, str) else expression)

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = super().as_sql(compiler, connection, **extra_context)
        return f"({sql}) COLLATE {connection.ops.quote_name(SQLITE_COLLATION)}", params

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = super().as_sql(compiler, connection, **extra_context)
        return f'(translate(({sql})::text, %s, %s) COLLATE "C")', (*params, _KEY_FROM, _KEY_TO)


def latvian(field: str, *, descending: bool = False) -> OrderBy:
    """An `order_by` term: `field` in Latvian alphabetical order."""
    expression = Latvian(field)
    return expression.desc() if descending else expression.asc()


def _compare(left: str | None, right: str | None) -> int:
    a, b = latvian_key(left), latvian_key(right)
    return (a > b) - (a < b)


def register_sqlite_collation(sender, connection, **kwargs) -> None:
    """connection_created receiver: give each SQLite connection the `lv` collation."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(SQLITE_COLLATION, _compare)
