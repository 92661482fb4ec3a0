"""Forms of the data-entry and review pages."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext_lazy as _

from .models import DataItem, Value
from .services.values import ValueInput
from .validation import check_value_hard


def format_number(number: Decimal | None, decimals: int | None = None) -> str:
    """A stored number the Latvian way (`1 234,5`); all its digits unless `decimals` is given."""
    if number is None:
        return ""
    if decimals is not None:
        return number_format(number, decimal_pos=decimals, use_l10n=True)
    text = format(number.normalize(), "f")
    decimals_given = len(text.split(".", 1)[1]) if "." in text else 0
    return number_format(number, decimal_pos=decimals_given, use_l10n=True)


def input_number(number: Decimal | None) -> str:
    """A stored number for an input field: all its digits, the locale's decimal mark, no grouping
    (an English `5,000` would read back as five)."""
    if number is None:
        return ""
    return format(number.normalize(), "f").replace(".", get_format("DECIMAL_SEPARATOR"))


class SubmissionForm(forms.Form):
    """One field group per entered data item: the number, "missing" with its reason, an explanation.

    `version` is the submission's version the page was built from; saving refuses when someone
    saved in between (optimistic locking in `submission_values_save`).
    """

    # The inputs name their <form> (HTML `form` attribute), so the page can place the separate
    # query-thread forms beside each value without nesting forms and without JavaScript.
    FORM_ID = "values-form"

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, items: list[DataItem], values: dict[int, Value], version: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = [item for item in items if item.source == DataItem.Source.ENTERED]
        self.fields["version"].initial = version
        for item in self.items:
            value = values.get(item.pk)
            unit = f" ({item.unit})" if item.unit else ""
            self.fields[f"value_{item.pk}"] = forms.CharField(
                label=f"{item.display_name}{unit}",
                required=False,
                max_length=60,
                initial=input_number(value.number) if value and not value.is_missing else "",
                help_text=item.display_instructions,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
            self.fields[f"missing_{item.pk}"] = forms.BooleanField(
                label=_("The value is missing"), required=False, initial=bool(value and value.is_missing)
            )
            self.fields[f"reason_{item.pk}"] = forms.CharField(
                label=_("Why it is missing"),
                required=False,
                max_length=1000,
                initial=value.missing_reason if value else "",
            )
            self.fields[f"explanation_{item.pk}"] = forms.CharField(
                label=_("Explanation"),
                required=False,
                max_length=4000,
                initial=value.explanation if value else "",
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Required before submitting when the value is unusual."),
            )
        for bound in self.fields.values():
            bound.widget.attrs["form"] = self.FORM_ID

    def fields_of(self, item: DataItem) -> list[forms.BoundField]:
        return [self[f"{name}_{item.pk}"] for name in ("value", "missing", "reason", "explanation")]

    def clean(self) -> dict:
        cleaned = super().clean()
        self.inputs: dict[int, ValueInput] = {}
        for item in self.items:
            raw = cleaned.get(f"value_{item.pk}", "")
            missing = bool(cleaned.get(f"missing_{item.pk}"))
            reason = cleaned.get(f"reason_{item.pk}", "") or ""
            explanation = cleaned.get(f"explanation_{item.pk}", "") or ""
            checked = check_value_hard(item, raw)
            if checked.error:
                self.add_error(f"value_{item.pk}", checked.error)
                continue
            if missing and checked.number is not None:
                self.add_error(f"value_{item.pk}", _("Enter a number or declare the value missing, not both."))
                continue
            if missing and not reason.strip():
                self.add_error(f"reason_{item.pk}", _("Say why the value is missing."))
                continue
            self.inputs[item.pk] = ValueInput(
                number=checked.number, is_missing=missing, missing_reason=reason, explanation=explanation
            )
        return cleaned


class DecisionForm(forms.Form):
    """The coordinator's decision on a submitted submission."""

    APPROVE = "approve"
    RETURN = "return"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (RETURN, _("Return for correction"))],
        widget=forms.RadioSelect,
    )
    message = forms.CharField(
        label=_("Message to the municipality"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when returning: say what needs to be corrected."),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("decision") == self.RETURN and not (cleaned.get("message") or "").strip():
            self.add_error("message", _("Say what needs to be corrected."))
        return cleaned


class ValueQueryForm(forms.Form):
    text = forms.CharField(
        label=_("Question or answer about this value"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class BulkApproveForm(forms.Form):
    submissions = forms.ModelMultipleChoiceField(queryset=None, required=True, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, queryset, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["submissions"].queryset = queryset
        self.fields["submissions"].label = _("Submissions to approve")
