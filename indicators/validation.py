"""Checks of entered values (DESIGN.md §2, Validation).

Hard checks refuse a value; soft checks warn and require an explanation before submission.
The hard check is shared by the web form, the Excel upload and `import_values`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from networks.tabular import parse_decimal

from .models import DataItem


@dataclass(frozen=True)
class Checked:
    number: Decimal | None
    error: str | None = None


def check_value_hard(item: DataItem, raw: str | Decimal | float | int | None) -> Checked:
    """Parse a value as entered (Latvian or English number format) and check its allowed range.

    Empty input returns `Checked(None)`: whether that is allowed (declared missing with a
    reason) is the caller's decision.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return Checked(None)
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        number = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
        if not number.is_finite():
            return Checked(None, _("%(value)s is not a number") % {"value": raw})
    else:
        try:
            number = parse_decimal(str(raw))
        except ValueError as exc:
            return Checked(None, str(exc))
    # 38 digits, 15 after the point (the Value column): more would be silently rounded.
    if number != 0 and number.adjusted() >= 23:
        return Checked(None, _("the number is too large"))
    if number.as_tuple().exponent < -15 and number != number.quantize(Decimal(1).scaleb(-15)):
        return Checked(None, _("at most 15 digits after the decimal point"))
    if item.min_value is not None and number < item.min_value:
        return Checked(
            None,
            _("%(value)s is below the allowed minimum %(min)s")
            % {"value": number_format(number), "min": _plain(item.min_value)},
        )
    if item.max_value is not None and number > item.max_value:
        return Checked(
            None,
            _("%(value)s is above the allowed maximum %(max)s")
            % {"value": number_format(number), "max": _plain(item.max_value)},
        )
    return Checked(number)


def _plain(limit: Decimal | int | float) -> str:
    """A limit as the user's locale writes numbers, without the column's trailing zeros."""
    return number_format(Decimal(str(limit)).normalize().__format__("f"))
