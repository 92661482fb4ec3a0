"""Checks of entered values: hard checks refuse, soft checks warn and ask for an explanation.

Hard checks refuse a value; soft checks warn and require an explanation before submission.
The hard check is shared by the web form, the Excel upload and `import_values`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from networks.tabular import parse_decimal

from .models import DataItem


@dataclass(frozen=True)
class Checked:
    number: Decimal | None
    error: str | None = None


WIDE = Context(prec=60)


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
    error = number_size_error(number)
    if error:
        return Checked(None, error)
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


def decimal_places(number: Decimal) -> int:
    """How many digits after the decimal point `number` needs (`603.50` needs 1, `1E+3` none)."""
    exponent = number.normalize(context=WIDE).as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def decimals_error(item: DataItem, number: Decimal | None) -> str | None:
    """Why `number` has more digits after the point than the item shows (its `decimals`), or None.

    The entered paths (the staff form, its field check, the Excel upload and the submission check)
    refuse such a number instead of storing one figure and showing another: `603,5` for an item
    with no decimals would be stored as 603.5 and shown rounded (docs/architecture.md, "The staff form").
    """
    if number is None or decimal_places(number) <= item.decimals:
        return None
    if item.decimals == 0:
        return _("Enter a whole number (no decimal places).")
    return ngettext(
        "Enter at most %(count)d decimal place.", "Enter at most %(count)d decimal places.", item.decimals
    ) % {"count": item.decimals}


def check_value_entered(item: DataItem, raw: str | Decimal | float | int | None) -> Checked:
    """`check_value_hard` and the item's decimals (`decimals_error`): what a person typing a value,
    or uploading the form's Excel template, may store."""
    checked = check_value_hard(item, raw)
    if checked.error or checked.number is None:
        return checked
    error = decimals_error(item, checked.number)
    return Checked(None, error) if error else checked


def number_size_error(number: Decimal) -> str | None:
    """Why `number` does not fit a number column of the values and the items' limits (38 digits,
    15 after the point), or None. Without this, more digits would be silently rounded, or
    refused by the database."""
    if number != 0 and number.adjusted() >= 23:
        return _("the number is too large")
    # The default context (28 digits) cannot quantize 20 digits before and 16 after the point:
    # compare in one wide enough for any number that passed the check above.
    if number.as_tuple().exponent < -15 and number != number.quantize(Decimal(1).scaleb(-15), context=WIDE):
        return _("at most 15 digits after the decimal point")
    return None


def _plain(limit: Decimal | int | float) -> str:
    """A limit as the user's locale writes numbers, without the column's trailing zeros."""
    return number_format(Decimal(str(limit)).normalize().__format__("f"))


# --- soft checks: warn, and require an explanation before submission ----------------------

# A robust standard deviation from the median absolute deviation (normal consistency constant).
MAD_TO_SD = Decimal("1.4826")
ROBUST_SDS = 3
# Fewer values than this say nothing about the network's distribution: no check.
MIN_DISTRIBUTION = 5


def _median(numbers: list[Decimal]) -> Decimal:
    ordered = sorted(numbers)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def check_value_soft(
    item: DataItem,
    number: Decimal | None,
    *,
    previous: Decimal | None = None,
    others: list[Decimal] | None = None,
) -> list[str]:
    """Warnings for a valid number (soft checks); empty when nothing is unusual.

    - change against the municipality's previous period beyond `item.max_change_pct` per cent
      (not checked when the previous value is zero or missing);
    - outside the item's usual band (`usual_min`, `usual_max`);
    - beyond 3 robust standard deviations of the other members' values in the same round:
      median ± 3 * 1.4826 * MAD, only when at least 5 values are known and the MAD is not zero.
    """
    if number is None:
        return []
    warnings: list[str] = []
    if previous is not None and previous != 0 and item.max_change_pct is not None:
        change = (number - previous) / abs(previous) * 100
        if abs(change) > item.max_change_pct:
            warnings.append(
                _("%(change)s %% change against the previous period (%(previous)s); more than %(limit)s %% is unusual")
                % {
                    "change": number_format(change.quantize(Decimal(1)), use_l10n=True),
                    "previous": number_format(previous.normalize(), use_l10n=True),
                    "limit": number_format(item.max_change_pct.normalize(), use_l10n=True),
                }
            )
    if item.usual_min is not None and number < item.usual_min:
        warnings.append(
            _("below the usual minimum %(min)s") % {"min": number_format(item.usual_min.normalize(), use_l10n=True)}
        )
    if item.usual_max is not None and number > item.usual_max:
        warnings.append(
            _("above the usual maximum %(max)s") % {"max": number_format(item.usual_max.normalize(), use_l10n=True)}
        )
    if others and len(others) >= MIN_DISTRIBUTION:
        median = _median(others)
        mad = _median([abs(other - median) for other in others])
        spread = ROBUST_SDS * MAD_TO_SD * mad
        if mad and abs(number - median) > spread:
            low, high = usual_range(item, median, spread)
            warnings.append(
                _("far from the network's values (median %(median)s, usual range %(low)s to %(high)s)")
                % {
                    "median": number_format(median.normalize(), use_l10n=True),
                    "low": number_format(low, use_l10n=True),
                    "high": number_format(high, use_l10n=True),
                }
            )
    return warnings


def usual_range(item: DataItem, median: Decimal, spread: Decimal) -> tuple[Decimal, Decimal]:
    """The network's usual range `median ± spread` as shown (two decimals at most), clipped to the
    item's allowed range: never "from -2 113,89" tonnes for an item that cannot be negative.

    Clipping does not change which values are warned about: an allowed value below the allowed
    minimum does not exist, so "outside median ± spread" and "outside the clipped range" agree.
    """
    step = Decimal("0.01")
    low, high = (median - spread).quantize(step), (median + spread).quantize(step)
    if item.min_value is not None:
        low, high = max(low, item.min_value), max(high, item.min_value)
    if item.max_value is not None:
        low, high = min(low, item.max_value), min(high, item.max_value)
    return low.normalize(), high.normalize()
