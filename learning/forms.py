"""Forms of the learning app; attachments are checked by `services.attachment_validate`."""

from __future__ import annotations

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator, Period
from indicators.services.periods import period_get_or_create
from networks.collation import latvian
from networks.forms import DateInput
from networks.models import Municipality, Network

from . import services
from .models import ImprovementPlan, Meeting, PlanAction, PracticeCase


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked for size and type."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        cleaned = [single(item, initial) for item in files]
        errors = []
        for upload in cleaned:
            try:
                services.attachment_validate(upload)
            except forms.ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


class PracticeCaseForm(forms.ModelForm):
    tags_text = forms.CharField(label=_("Tags"), required=False, max_length=500, help_text=_("Separated by commas."))
    files = MultipleFileField(label=_("Attachments"), required=False)
    period_label = forms.CharField(
        label=_("Period"), required=False, max_length=16, help_text=_("2024, 2024-25 or 2024-Q1")
    )

    class Meta:
        model = PracticeCase
        fields = [
            "network",
            "municipality",
            "title",
            "title_en",
            "summary",
            "summary_en",
            "text",
            "text_en",
            "indicators",
            "contact_name",
            "contact_email",
            "contact_phone",
        ]
        widgets = {"indicators": forms.CheckboxSelectMultiple, "summary": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, municipalities, networks, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities
        self.fields["network"].queryset = networks
        self.fields["indicators"].queryset = Indicator.objects.filter(network_links__network__in=networks).distinct()
        self.fields["indicators"].required = False
        self.fields["files"].help_text = gettext("Accepted: %(kinds)s; each file at most %(size)s.") % {
            "kinds": ", ".join(sorted(services.ALLOWED_ATTACHMENTS)),
            "size": filesizeformat(services.attachment_max_bytes()),
        }
        if self.instance.pk:
            self.fields["tags_text"].initial = ", ".join(t.name for t in self.instance.tags.all())
            if self.instance.period_id:
                self.fields["period_label"].initial = self.instance.period.label
            # Where a case belongs is fixed once it is submitted.
            del self.fields["network"]
            del self.fields["municipality"]

    def clean_period_label(self):
        label = self.cleaned_data["period_label"].strip()
        if not label:
            return None
        try:
            Period.bounds_from_label(label)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return label

    def case_fields(self) -> dict:
        """The case's own fields as `services.practice_submit` and `practice_update` take them,
        with the period of the label given (created on first use; None: no period)."""
        data = self.cleaned_data
        fixed = {"network", "municipality", "indicators"}
        fields = {name: data[name] for name in self.Meta.fields if name in self.fields and name not in fixed}
        fields["period"] = period_get_or_create(label=data["period_label"]) if data["period_label"] else None
        return fields

    @property
    def tags(self) -> list[str]:
        return [t for t in self.cleaned_data.get("tags_text", "").split(",") if t.strip()]


class PracticeSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    network = forms.ModelChoiceField(
        label=_("Network"), queryset=Network.objects.order_by("code"), required=False, to_field_name="code"
    )
    indicator = forms.ModelChoiceField(
        label=_("Indicator"), queryset=Indicator.objects.order_by("code"), required=False, to_field_name="code"
    )
    municipality = forms.ModelChoiceField(
        label=_("Municipality"),
        queryset=Municipality.objects.order_by(latvian("name")),
        required=False,
        to_field_name="code",
    )


class PublishForm(forms.Form):
    visibility = forms.ChoiceField(label=_("Who may read it"), choices=PracticeCase.Visibility.choices)


class PlanForm(forms.ModelForm):
    class Meta:
        model = ImprovementPlan
        fields = ["network", "municipality", "title", "description", "status"]

    def __init__(self, *args, municipalities=None, networks=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["network"]
            del self.fields["municipality"]
        else:
            self.fields["municipality"].queryset = municipalities
            self.fields["network"].queryset = networks


class PlanTargetForm(forms.Form):
    indicator = forms.ModelChoiceField(label=_("Indicator"), queryset=None, to_field_name="code")
    baseline = forms.DecimalField(label=_("Baseline (current value)"), required=False, max_digits=38, decimal_places=15)
    baseline_period = forms.CharField(label=_("Baseline period"), required=False, max_length=16)
    target_value = forms.DecimalField(label=_("Target value"), max_digits=38, decimal_places=15)
    target_period = forms.CharField(label=_("Target period"), max_length=16, help_text=_("2024, 2024-25 or 2024-Q1"))

    def __init__(self, *args, network: Network, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = Indicator.objects.filter(network_links__network=network).order_by("code")


class PlanActionForm(forms.ModelForm):
    class Meta:
        model = PlanAction
        fields = ["description", "owner", "due_date", "status"]
        widgets = {"due_date": DateInput(), "description": forms.Textarea(attrs={"rows": 2})}


class MeetingForm(forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ["title", "date", "place", "host", "agenda", "minutes", "attendees"]
        widgets = {"date": DateInput(), "attendees": forms.CheckboxSelectMultiple}

    def __init__(self, *args, network: Network, people, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = (
            Municipality.objects.filter(memberships__network=network).distinct().order_by(latvian("name"))
        )
        self.fields["attendees"].queryset = people
