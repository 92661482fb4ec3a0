"""Forms of the data-entry and review pages."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from html import escape as html_escape

from django import forms
from django.conf import settings
from django.db.models import Prefetch
from django.utils import translation
from django.utils.formats import get_format, number_format
from django.utils.html import conditional_escape, escape
from django.utils.translation import gettext_lazy as _

from networks import permissions
from networks.forms import DateInput
from networks.models import Network

from .models import DataItem, Indicator, MissingStatus, Value
from .services.values import ValueInput
from .validation import check_value_entered


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
    """One field group per entered data item: the number, "missing" with its mark and reason, an
    explanation.

    `version` is the submission's version the page was built from; saving refuses when someone
    saved in between (optimistic locking in `submission_values_save`). A number must fit the
    item's allowed range and its decimals (`validation.check_value_entered`), so the stored number
    is the one shown. A missing value needs a reason: the statistics offices' mark
    (`MissingStatus`), words, or both.
    """

    # The inputs name their <form> (HTML `form` attribute), so the page can place the separate
    # query-thread forms beside each value without nesting forms and without JavaScript.
    FORM_ID = "values-form"
    KINDS = ("value", "missing", "marker", "reason", "explanation")

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, items: list[DataItem], values: dict[int, Value], version: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.items = [item for item in items if item.source == DataItem.Source.ENTERED]
        self.item_ids = {item.pk for item in self.items}
        self.fields["version"].initial = version
        # The same texts on every item: translated once (the form lives for one request).
        missing_label, reason_label = str(_("The value is missing")), str(_("Why it is missing"))
        marker_label = str(_("Statistical mark"))
        # The select's choices, made once: a ChoiceField per item would normalise them 200 times.
        self.markers = (("", "—"), *((status.value, f"{status.value} {status.label}") for status in MissingStatus))
        explanation_label = str(_("Explanation"))
        explanation_help = str(_("Required before submitting when the value is unusual."))
        for item in self.items:
            value = values.get(item.pk)
            missing = bool(value and value.is_missing)
            # Widgets given as classes and their attributes set after: a widget instance would be
            # deep-copied by each field (400 copies at 200 items, a tenth of the page's time).
            number = forms.CharField(
                label=item.display_name,
                required=False,
                max_length=60,
                initial=input_number(value.number) if value and not missing else "",
                help_text=item.display_instructions,
            )
            # The decimals the item shows (and accepts): for scripts and people's tools alike.
            number.widget.attrs.update(inputmode="decimal", autocomplete="off", **{"data-decimals": item.decimals})
            self.fields[f"value_{item.pk}"] = number
            self.fields[f"missing_{item.pk}"] = forms.BooleanField(label=missing_label, required=False, initial=missing)
            self.fields[f"marker_{item.pk}"] = forms.CharField(
                label=marker_label,
                required=False,
                max_length=2,
                widget=forms.Select,
                initial=value.missing_status if missing else "",
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

    def text(self, kind: str, item: DataItem) -> str:
        """What the field holds now: as typed (a bound form) or as stored."""
        value = self[f"{kind}_{item.pk}"].value()
        return "" if value is None else str(value)

    def is_missing(self, item: DataItem) -> bool:
        bound = self[f"missing_{item.pk}"]
        return bool(bound.field.widget.check_test(bound.value()))

    def control(self, kind: str, item: DataItem, *, describedby: tuple[str, ...] = ()) -> str:
        """One control of the item (`kind` in KINDS), as Django's widgets and crispy-bootstrap5 write
        it (Bootstrap class, `is-invalid` and `aria-invalid` on an error, `aria-describedby` naming
        its help text, its error and `describedby`), built in Python: crispy's templates cost ~4 ms
        per item, most of the page's time at 200 items. Every text is escaped."""
        bound = self[f"{kind}_{item.pk}"]
        return _control(bound, self.errors.get(bound.name, ()), describedby)

    def errors_html(self, kind: str, item: DataItem) -> str:
        """The field's errors as crispy writes them (`id_<name>_error`, joined to the control), or ""."""
        bound = self[f"{kind}_{item.pk}"]
        return _errors(bound, self.errors.get(bound.name, ()))

    def label_html(self, kind: str, item: DataItem, *, css: str = "form-label", hidden_suffix: str = "") -> str:
        bound = self[f"{kind}_{item.pk}"]
        suffix = f'<span class="visually-hidden"> {escape(hidden_suffix)}</span>' if hidden_suffix else ""
        return f'<label for="{escape(bound.id_for_label)}" class="{css}">{escape(str(bound.label))}{suffix}</label>'

    def help_html(self, kind: str, item: DataItem, *, css: str = "form-text") -> str:
        bound = self[f"{kind}_{item.pk}"]
        if not bound.help_text:
            return ""
        return f'<div id="{escape(bound.auto_id)}_helptext" class="{css}">{conditional_escape(bound.help_text)}</div>'

    def clean(self) -> dict:
        cleaned = super().clean()
        self.inputs: dict[int, ValueInput] = {}
        for item in self.items:
            raw = cleaned.get(f"value_{item.pk}", "")
            missing = bool(cleaned.get(f"missing_{item.pk}"))
            marker = cleaned.get(f"marker_{item.pk}", "") or ""
            if marker and marker not in MissingStatus.values:
                self.add_error(f"marker_{item.pk}", _("Choose one of the marks."))
                continue
            reason = (cleaned.get(f"reason_{item.pk}", "") or "").strip()
            explanation = cleaned.get(f"explanation_{item.pk}", "") or ""
            checked = check_value_entered(item, raw)
            if checked.error:
                self.add_error(f"value_{item.pk}", checked.error)
                continue
            if missing and checked.number is not None:
                self.add_error(f"value_{item.pk}", _("Enter a number or declare the value missing, not both."))
                continue
            if missing and not reason and not marker:
                self.add_error(f"reason_{item.pk}", _("Say why the value is missing."))
                continue
            if missing and not reason:
                # The mark alone: its words, in the installation's language, as `import_official`
                # records an office's marked cell.
                with translation.override(settings.LANGUAGE_CODE):
                    reason = f"{marker} {MissingStatus(marker).label}"
            self.inputs[item.pk] = ValueInput(
                number=checked.number,
                is_missing=missing,
                missing_reason=reason if missing else "",
                missing_status=marker if missing else "",
                explanation=explanation,
            )
        return cleaned


def _attributes(attrs: dict) -> str:
    """HTML attributes the way Django's widgets/attrs.html writes them (True: bare, False: left out).

    Escaped by the standard library's `html.escape`, which replaces the same five characters as
    Django's `escape` without making a SafeString of each value (a third of the page's controls'
    time at 200 items)."""
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(f" {name}")
        elif value is not False and value is not None:
            parts.append(f' {name}="{html_escape(str(value))}"')
    return "".join(parts)


@lru_cache(maxsize=64)
def _options(choices: tuple[tuple[str, str], ...], chosen: str) -> str:
    """A select's options (the same few on every item: made once per language and choice)."""
    return "".join(
        f'<option value="{html_escape(key)}"{" selected" if key == chosen else ""}>{html_escape(text)}</option>'
        for key, text in choices
    )


def _control(bound: forms.BoundField, errors, describedby: tuple[str, ...] = ()) -> str:
    """One text input, textarea, checkbox or select with the attributes Django's BoundField.as_widget
    gives (required, disabled, aria-invalid, aria-describedby, id) and crispy-bootstrap5's classes.
    A select's options are the form's `markers` (the only select of the staff form)."""
    field = bound.field
    widget = field.widget
    auto_id = bound.auto_id
    checkbox = isinstance(widget, forms.CheckboxInput)
    textarea = isinstance(widget, forms.Textarea)
    select = isinstance(widget, forms.Select)
    value = bound.value()
    attrs: dict = {} if textarea or select else {"type": widget.input_type}
    attrs["name"] = bound.html_name
    checked = False
    if checkbox:
        checked = widget.check_test(value)
        value = None
    elif value == "" or value is None:
        value = None
    else:
        value = str(value)
        if not (textarea or select):
            attrs["value"] = value
    for name, given in widget.attrs.items():
        if name != "class":
            attrs[name] = given
    if checkbox:
        css = "checkboxinput form-check-input"
    elif select:
        css = "select form-select form-select-sm"
    else:
        css = f"{type(widget).__name__.lower()} form-control"
    attrs["class"] = css + " is-invalid" if errors else css
    if field.required and bound.form.use_required_attribute and widget.use_required_attribute(bound.initial):
        attrs["required"] = True
    if field.disabled:
        attrs["disabled"] = True
    if errors and not widget.is_hidden:
        attrs["aria-invalid"] = "true"
    if auto_id:
        described = (
            ([f"{auto_id}_helptext"] if bound.help_text else [])
            + ([f"{auto_id}_error"] if errors else [])
            + list(describedby)
        )
        if described:
            attrs["aria-describedby"] = " ".join(described)
        attrs["id"] = auto_id
    if checked:
        attrs["checked"] = True
    if textarea:
        return f"<textarea{_attributes(attrs)}>\n{escape(value) if value else ''}</textarea>"
    if select:
        options = _options(bound.form.markers, value or "")
        return f"<select{_attributes(attrs)}>{options}</select>"
    return f"<input{_attributes(attrs)}>"


def _errors(bound: forms.BoundField, errors) -> str:
    """A field's errors as crispy-bootstrap5 writes them under the control (shown as a block)."""
    if not errors:
        return ""
    auto_id = escape(bound.auto_id or "")
    lines = "".join(
        f'\n<p id="error_{n}_{auto_id}"><strong>{escape(str(error))}</strong></p>'
        for n, error in enumerate(errors, start=1)
    )
    return f'<div id="{auto_id}_error" class="invalid-feedback d-block">{lines}\n</div>'


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
