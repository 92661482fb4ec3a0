"""Forms of the data-entry and review pages."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Prefetch
from django.utils.formats import get_format, number_format
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from networks import permissions
from networks.forms import DateInput
from networks.models import Network

from .models import DataItem, Indicator, Value
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
        # The same four texts on every item: translated once (the form lives for one request).
        missing_label, reason_label = str(_("The value is missing")), str(_("Why it is missing"))
        explanation_label = str(_("Explanation"))
        explanation_help = str(_("Required before submitting when the value is unusual."))
        for item in self.items:
            value = values.get(item.pk)
            unit = f" ({item.unit})" if item.unit else ""
            # Widgets given as classes and their attributes set after: a widget instance would be
            # deep-copied by each field (400 copies at 200 items, a tenth of the page's time).
            number = forms.CharField(
                label=f"{item.display_name}{unit}",
                required=False,
                max_length=60,
                initial=input_number(value.number) if value and not value.is_missing else "",
                help_text=item.display_instructions,
            )
            number.widget.attrs.update(inputmode="decimal", autocomplete="off")
            self.fields[f"value_{item.pk}"] = number
            self.fields[f"missing_{item.pk}"] = forms.BooleanField(
                label=missing_label, required=False, initial=bool(value and value.is_missing)
            )
            self.fields[f"reason_{item.pk}"] = forms.CharField(
                label=reason_label,
                required=False,
                max_length=1000,
                initial=value.missing_reason if value else "",
            )
            explanation = forms.CharField(
                label=explanation_label,
                required=False,
                max_length=4000,
                initial=value.explanation if value else "",
                widget=forms.Textarea,
                help_text=explanation_help,
            )
            explanation.widget.attrs["rows"] = 2
            self.fields[f"explanation_{item.pk}"] = explanation
        for bound in self.fields.values():
            bound.widget.attrs["form"] = self.FORM_ID

    def fields_of(self, item: DataItem) -> list[forms.BoundField]:
        return [self[f"{name}_{item.pk}"] for name in ("value", "missing", "reason", "explanation")]

    def fields_html(self, item: DataItem) -> SafeString:
        """The item's four fields in Bootstrap 5 markup, the way crispy-bootstrap5 lays a field out
        (wrapper, label, control, errors, help text, aria attributes), built in Python: crispy's
        templates cost ~4 ms per item, most of the page's time at 200 items. The page's only
        rendering of these fields; indicators/tests/test_form_rendering.py checks what a user gets."""
        errors = self.errors
        html_ = "".join(_crispy_like(bound, errors.get(bound.name, ())) for bound in self.fields_of(item))
        # Safe: _crispy_like passes every text (values, labels, errors, ids) through escape or
        # conditional_escape; the rest is fixed markup.
        return mark_safe(html_)  # noqa: S308  # nosec B308 B703

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


def _attributes(attrs: dict) -> str:
    """HTML attributes the way Django's widgets/attrs.html writes them (True: bare, False: left out)."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(f" {name}")
        elif value is not False and value is not None:
            parts.append(f' {name}="{escape(str(value))}"')
    return "".join(parts)


def _crispy_like(bound: forms.BoundField, errors: list) -> str:
    """One text input, textarea or checkbox as crispy-bootstrap5's field.html renders it with its
    defaults (labels and errors shown, errors as a block, then the help text), with the widget
    attributes Django's BoundField.as_widget gives (required, disabled, aria-invalid,
    aria-describedby, id). Every text is escaped, the help text too (crispy marks it safe)."""
    field = bound.field
    widget = field.widget
    auto_id = bound.auto_id
    help_text = bound.help_text
    checkbox = isinstance(widget, forms.CheckboxInput)
    textarea = isinstance(widget, forms.Textarea)
    value = bound.value()
    attrs: dict = {} if textarea else {"type": widget.input_type}
    attrs["name"] = bound.html_name
    checked = False
    if checkbox:
        checked = widget.check_test(value)
        value = None
    elif value == "" or value is None:
        value = None
    else:
        value = str(value)
        if not textarea:
            attrs["value"] = value
    for name, given in widget.attrs.items():
        if name != "class":  # crispy's class is set below
            attrs[name] = given
    css = "checkboxinput form-check-input" if checkbox else f"{type(widget).__name__.lower()} form-control"
    attrs["class"] = css + " is-invalid" if errors else css
    if field.required and bound.form.use_required_attribute and widget.use_required_attribute(bound.initial):
        attrs["required"] = True
    if field.disabled:
        attrs["disabled"] = True
    if errors and not widget.is_hidden:
        attrs["aria-invalid"] = "true"
    if not widget.attrs.get("aria-describedby") and auto_id:
        described = ([f"{auto_id}_helptext"] if help_text else []) + ([f"{auto_id}_error"] if errors else [])
        if described:
            attrs["aria-describedby"] = " ".join(described)
    if auto_id:
        attrs["id"] = auto_id
    if checked:
        attrs["checked"] = True
    if textarea:
        control = f"<textarea{_attributes(attrs)}>\n{escape(value) if value else ''}</textarea>"
    else:
        control = f"<input{_attributes(attrs)}>"
    required = field.required
    label = escape(str(bound.label)) + ('<span class="asteriskField">*</span>' if required else "")
    label_for = f' for="{escape(bound.id_for_label)}"' if bound.id_for_label else ""
    auto_id = escape(auto_id or "")
    # Whitespace between the parts where crispy has it: the texts read the same, e.g. to a screen reader.
    after = ""
    if errors:
        after += f'\n<div id="{auto_id}_error" class="invalid-feedback">'
        for n, error in enumerate(errors, start=1):
            after += f'\n<p id="error_{n}_{auto_id}"><strong>{escape(str(error))}</strong></p>'
        after += "\n</div>"
    if help_text:
        help_id = f'id="{auto_id}_helptext" ' if auto_id else ""
        after += f'\n<div {help_id}class="form-text">{conditional_escape(help_text)}</div>'
    if checkbox:
        label_class = "form-check-label requiredField" if required else "form-check-label"
        return (
            f'<div class="mb-3">\n<div id="div_{auto_id}" class="form-check">\n{control}\n'
            f'<label{label_for} class="{label_class}">{label}</label>{after}\n</div>\n</div>\n'
        )
    label_class = "form-label requiredField" if required else "form-label"
    label_tag = f'\n<label{label_for} class="{label_class}">{label}</label>' if bound.label else ""
    return f'<div id="div_{auto_id}" class="mb-3">{label_tag}\n{control}{after}\n</div>\n'


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


class ReviewFilterForm(forms.Form):
    """The review list's filters, read from the query string (GET: they work without JavaScript).

    A value that is not one of the choices is dropped, not an error: `active` keeps the valid
    filters and `ignored` names the fields that were dropped, so the page can say so.
    """

    NOT_STARTED = "none"

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("any status")),
            (NOT_STARTED, _("not started")),
            ("draft", _("draft")),
            ("returned", _("returned")),
            ("submitted", _("submitted")),
            ("approved", _("approved")),
        ],
    )
    overdue = forms.BooleanField(label=_("only overdue"), required=False)
    unexplained = forms.BooleanField(label=_("only with unexplained warnings"), required=False)

    def __init__(self, data, *args, **kwargs) -> None:
        # Only the filters' own keys: the bulk form's checkboxes share the query string.
        super().__init__({key: data[key] for key in data if key in self.base_fields}, *args, **kwargs)
        self.is_valid()

    @property
    def active(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value}

    @property
    def ignored(self) -> list[str]:
        return [str(self.fields[name].label) for name in self.errors if name in self.fields]

    def apply(self, rows: list) -> list:
        """The rows (`selectors.MatrixRow`) that pass the valid filters."""
        active = self.active
        if "status" in active:
            rows = [row for row in rows if row.status == active["status"]]
        if active.get("overdue"):
            rows = [row for row in rows if row.overdue]
        if active.get("unexplained"):
            rows = [row for row in rows if row.unexplained]
        return rows

    def query(self) -> list[tuple[str, str]]:
        """The valid filters as (name, value) pairs, for hidden fields and links."""
        return [(name, "1" if value is True else value) for name, value in self.active.items()]


# --- the coordinator's rounds and indicator set ------------------------------------------------


class RoundOpenForm(forms.Form):
    period = forms.CharField(label=_("Period"), max_length=16, help_text=_("2024, 2024-25 or 2024-Q1"))
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput())
    indicators = forms.ModelMultipleChoiceField(
        label=_("Indicators"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: the network's whole indicator set."),
    )

    def __init__(self, *args, network: Network, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicators"].queryset = Indicator.objects.filter(network_links__network=network).order_by(
            "network_links__position", "code"
        )


class DeadlineForm(forms.Form):
    deadline = forms.DateField(label=_("New deadline"), widget=DateInput())


class UnpublishForm(forms.Form):
    reason = forms.CharField(label=_("Why are the results withdrawn?"), max_length=300, widget=forms.Textarea)


class IndicatorSetForm(forms.Form):
    indicators = forms.ModelMultipleChoiceField(
        label=_("Indicators of this network"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, network: Network, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.network, self.user = network, user
        self.fields["indicators"].queryset = Indicator.objects.order_by("code").prefetch_related(
            Prefetch("networks", queryset=Network.objects.only("pk", "code"))
        )

    def clean_indicators(self):
        """A new indicator may join the set only when no network outside the ones this person
        coordinates uses it (`permissions.can_add_to_indicator_set`)."""
        chosen = self.cleaned_data["indicators"]
        refused = [
            indicator
            for indicator in chosen
            if not any(n.pk == self.network.pk for n in indicator.networks.all())
            and not permissions.can_add_to_indicator_set(
                self.user, self.network, {n.pk for n in indicator.networks.all()}
            )
        ]
        if refused:
            raise forms.ValidationError(
                _("%(indicators)s belong to other networks; ask an administrator to share them with this network.")
                % {"indicators": ", ".join(indicator.code for indicator in refused)}
            )
        return chosen


class IndicatorForm(forms.ModelForm):
    """Texts, polarity and formula; the formula is checked by `Indicator.clean()`."""

    class Meta:
        model = Indicator
        fields = [
            "name",
            "name_en",
            "unit",
            "decimals",
            "polarity",
            "formula",
            "can_influence",
            "in_index",
            "weight",
            "definition",
            "definition_en",
            "theme",
            "theme_en",
        ]
        widgets = {"formula": forms.Textarea(attrs={"rows": 2})}
