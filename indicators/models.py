"""The catalogue (data items, indicators), periods, reporting rounds, submissions and values."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from networks.models import Municipality, Network, english_ui, localized

from .formula import FormulaError, validate_formula


class Polarity(models.TextChoices):
    HIGHER = "higher", _("higher is better")
    LOWER = "lower", _("lower is better")
    NEUTRAL = "neutral", _("neutral")


class Uncertainty(models.TextChoices):
    POISSON = "poisson", _("Poisson (a count)")
    BINOMIAL = "binomial", _("binomial (a count out of a total)")


class DataItem(models.Model):
    """A raw figure a municipality enters or an official source provides."""

    class Source(models.TextChoices):
        ENTERED = "entered", _("entered by the municipality")
        OFFICIAL = "official", _("official statistics")

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=300)
    name_en = models.CharField(_("English name"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=64, blank=True)
    unit_en = models.CharField(_("unit (English)"), max_length=64, blank=True)
    # What people read on crowded pages; empty means the name.
    short_name = models.CharField(_("short name"), max_length=80, blank=True)
    short_name_en = models.CharField(_("short name (English)"), max_length=80, blank=True)
    # May be summed over a municipality's predecessors across a territorial reform
    # (counts, lengths, money, areas); see docs/statistics.md.
    additive = models.BooleanField(_("additive across a reform"), default=False)
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=0)
    min_value = models.DecimalField(_("minimum"), max_digits=38, decimal_places=15, null=True, blank=True)
    max_value = models.DecimalField(_("maximum"), max_digits=38, decimal_places=15, null=True, blank=True)
    instructions = models.TextField(_("instructions"), blank=True)
    instructions_en = models.TextField(_("instructions (English)"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.ENTERED)
    # Groups the staff form ("Housing", "Utilities"); free text in both languages.
    theme = models.CharField(_("theme"), max_length=200, blank=True)
    theme_en = models.CharField(_("theme (English)"), max_length=200, blank=True)
    # Items asked from the network's members even when no indicator uses them (context figures).
    networks = models.ManyToManyField(Network, verbose_name=_("networks"), blank=True, related_name="data_items")
    # Soft checks (indicators/validation.py): a change against the previous period beyond this
    # many per cent, or a value outside the usual band, needs an explanation before submission.
    max_change_pct = models.DecimalField(
        _("largest usual change (%)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        default=Decimal(50),
        help_text=_("A larger change against the previous period needs an explanation; empty: no check."),
    )
    usual_min = models.DecimalField(_("usual minimum"), max_digits=38, decimal_places=15, null=True, blank=True)
    usual_max = models.DecimalField(_("usual maximum"), max_digits=38, decimal_places=15, null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("data item")
        verbose_name_plural = _("data items")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(max_value__gte=models.F("min_value")),
                name="dataitem_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(usual_min__isnull=True)
                | Q(usual_max__isnull=True)
                | Q(usual_max__gte=models.F("usual_min")),
                name="dataitem_usual_band_ordered",
            ),
            models.CheckConstraint(
                condition=Q(max_change_pct__isnull=True) | Q(max_change_pct__gt=0),
                name="dataitem_max_change_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localized(self, "name")

    @property
    def display_short_name(self) -> str:
        """The short name in the UI's language, else the name: what crowded pages show."""
        if english_ui():
            return self.short_name_en or self.name_en or self.short_name or self.name
        return self.short_name or self.name

    @property
    def display_unit(self) -> str:
        return localized(self, "unit")

    @property
    def display_instructions(self) -> str:
        return localized(self, "instructions")

    @property
    def display_theme(self) -> str:
        return localized(self, "theme")


class Indicator(models.Model):
    """What is compared: a formula over data item codes (parsed, never evaluated as Python)."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=300)
    name_en = models.CharField(_("English name"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=64, blank=True)
    unit_en = models.CharField(_("unit (English)"), max_length=64, blank=True)
    short_name = models.CharField(_("short name"), max_length=80, blank=True)
    short_name_en = models.CharField(_("short name (English)"), max_length=80, blank=True)
    # The numerator is a count: the indicator page offers a funnel plot with these limits.
    uncertainty = models.CharField(
        _("uncertainty of the numerator"), max_length=16, choices=Uncertainty.choices, blank=True
    )
    decimals = models.PositiveSmallIntegerField(_("decimals"), default=1)
    polarity = models.CharField(_("polarity"), max_length=8, choices=Polarity.choices, default=Polarity.NEUTRAL)
    formula = models.TextField(_("formula"), help_text=_("Over data item codes: + - * / and parentheses."))
    min_value = models.DecimalField(_("minimum"), max_digits=38, decimal_places=15, null=True, blank=True)
    max_value = models.DecimalField(_("maximum"), max_digits=38, decimal_places=15, null=True, blank=True)
    can_influence = models.BooleanField(_("the municipality can influence it"), default=False)
    in_index = models.BooleanField(_("in the composite index"), default=False)
    weight = models.DecimalField(_("index weight"), max_digits=12, decimal_places=6, default=1)
    definition = models.TextField(_("definition"), blank=True)
    definition_en = models.TextField(_("definition (English)"), blank=True)
    theme = models.CharField(_("theme"), max_length=200, blank=True)
    theme_en = models.CharField(_("theme (English)"), max_length=200, blank=True)
    # The data items the formula reads; kept in step with `formula` by the catalogue services,
    # so "which indicators does this value affect?" is one query.
    items = models.ManyToManyField(DataItem, verbose_name=_("data items"), related_name="indicators", blank=True)
    networks = models.ManyToManyField(
        Network, verbose_name=_("networks"), through="NetworkIndicator", related_name="indicators", blank=True
    )
    history = HistoricalRecords(m2m_fields=[items])

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=0), name="indicator_weight_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localized(self, "name")

    @property
    def display_short_name(self) -> str:
        """The short name in the UI's language, else the name: what crowded pages show."""
        if english_ui():
            return self.short_name_en or self.name_en or self.short_name or self.name
        return self.short_name or self.name

    @property
    def display_unit(self) -> str:
        return localized(self, "unit")

    @property
    def display_definition(self) -> str:
        return localized(self, "definition")

    @property
    def display_theme(self) -> str:
        return localized(self, "theme")

    def clean(self) -> None:
        known = set(DataItem.objects.values_list("code", flat=True))
        try:
            validate_formula(self.formula, known)
        except FormulaError as exc:
            raise ValidationError({"formula": str(exc)}) from exc


class NetworkIndicator(models.Model):
    """A network's indicator set."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="indicator_set")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="network_links")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("network indicator")
        verbose_name_plural = _("network indicators")
        ordering = ["network", "position", "indicator__code"]
        constraints = [models.UniqueConstraint(fields=["network", "indicator"], name="networkindicator_unique")]

    def __str__(self) -> str:
        return f"{self.network.code}: {self.indicator.code}"


PERIOD_PATTERNS = (
    # (kind, regex) — labels as the README's command line writes them. ASCII digits only: `\d` would take
    # full-width or Arabic-Indic digits as the year 2024 and make a second period of that year.
    ("year", re.compile(r"(?P<year>[0-9]{4})")),
    ("financial_year", re.compile(r"(?P<year>[0-9]{4})-(?P<end>[0-9]{2})")),
    ("quarter", re.compile(r"(?P<year>[0-9]{4})-Q(?P<quarter>[1-4])")),
)
# The years a period may fall in: a typo (`9999`, `0224`) is refused, not opened as a round
# (9999 has no next year to compare with, and year 0 is no date at all).
PERIOD_YEARS = (1900, 2100)


class Period(models.Model):
    class Kind(models.TextChoices):
        YEAR = "year", _("year")
        FINANCIAL_YEAR = "financial_year", _("financial year")
        QUARTER = "quarter", _("quarter")

    label = models.CharField(_("label"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        # Chronological by start; of two periods starting together the longer comes first.
        ordering = ["start", "-end"]

    def __str__(self) -> str:
        return self.label

    @staticmethod
    def bounds_from_label(label: str) -> tuple[str, datetime.date, datetime.date]:
        """`2024` → calendar year; `2024-25` → financial year from 1 April 2024; `2024-Q1`.

        Raises ValueError for anything else.
        """
        label = label.strip()
        for kind, pattern in PERIOD_PATTERNS:
            match = pattern.fullmatch(label)
            if not match:
                continue
            year = int(match["year"])
            if not PERIOD_YEARS[0] <= year <= PERIOD_YEARS[1]:
                raise ValueError(
                    _("%(label)s: the year must be from %(first)d to %(last)d")
                    % {"label": label, "first": PERIOD_YEARS[0], "last": PERIOD_YEARS[1]}
                )
            if kind == "year":
                return kind, datetime.date(year, 1, 1), datetime.date(year, 12, 31)
            if kind == "financial_year":
                if int(match["end"]) != (year + 1) % 100:
                    raise ValueError(_("%(label)s: a financial year spans two consecutive years") % {"label": label})
                return kind, datetime.date(year, 4, 1), datetime.date(year + 1, 3, 31)
            quarter = int(match["quarter"])
            start = datetime.date(year, 3 * quarter - 2, 1)
            end = (
                datetime.date(year, 12, 31)
                if quarter == 4
                else datetime.date(year, 3 * quarter + 1, 1) - datetime.timedelta(days=1)
            )
            return kind, start, end
        raise ValueError(_("%(label)s is not a period label (2024, 2024-25 or 2024-Q1)") % {"label": repr(label)})


class Round(models.Model):
    """One network, one period: opens, has a deadline, closes, is published."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")
        PUBLISHED = "published", _("published")

    network = models.ForeignKey(Network, verbose_name=_("network"), on_delete=models.PROTECT, related_name="rounds")
    period = models.ForeignKey(Period, verbose_name=_("period"), on_delete=models.PROTECT, related_name="rounds")
    opens = models.DateField(_("opens"), null=True, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # Empty: the network's whole indicator set is asked.
    indicators = models.ManyToManyField(Indicator, verbose_name=_("indicators"), blank=True, related_name="rounds")
    # Demo figures (seed_demo): every page of the round says so, so nobody mistakes them for real data.
    is_demo = models.BooleanField(_("demo data"), default=False)
    # The deadline the three-day reminder went out for: a second beat run on the same day sends
    # nothing, and an extended deadline gets its own reminder.
    reminded_for = models.DateField(_("reminder sent for the deadline"), null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reporting round")
        verbose_name_plural = _("reporting rounds")
        ordering = ["network__code", "-period__start"]
        constraints = [models.UniqueConstraint(fields=["network", "period"], name="round_unique_network_period")]

    def __str__(self) -> str:
        return f"{self.network.code} {self.period.label}"


class Submission(models.Model):
    """One municipality in one round: draft → submitted → (returned → submitted)* → approved."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("submitted")
        RETURNED = "returned", _("returned")
        APPROVED = "approved", _("approved")

    round = models.ForeignKey(Round, verbose_name=_("round"), on_delete=models.PROTECT, related_name="submissions")
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT, related_name="submissions"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Optimistic locking: every save of values increments it; a save based on an older version
    # is refused, so two people editing one submission never overwrite each other.
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["round", "municipality__name"]
        constraints = [models.UniqueConstraint(fields=["round", "municipality"], name="submission_unique")]
        indexes = [
            # The engine's selector: approved submissions of a round.
            models.Index(fields=["round", "status"], name="submission_round_status"),
        ]

    def __str__(self) -> str:
        return f"{self.round} — {self.municipality}"


class SubmissionEvent(models.Model):
    """Every workflow transition: who, when, from what to what, with an optional message."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=Submission.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Submission.Status.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)
    message = models.TextField(blank=True)

    class Meta:
        verbose_name = _("submission event")
        verbose_name_plural = _("submission events")
        ordering = ["submission", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.submission}: {self.from_status} → {self.to_status}"


class MissingStatus(models.TextChoices):
    """Why a figure is missing, as the statistics offices mark the cell (docs/official.md)."""

    NOT_AVAILABLE = "…", _("not available")
    NIL = "-", _("nil (none exists)")
    NOT_APPLICABLE = ".", _("not applicable")
    CONFIDENTIAL = "..", _("confidential")

    @classmethod
    def from_marker(cls, text: str) -> str:
        """The status a value cell's marker declares (`...` is `…` typed without the ellipsis), or ""."""
        return MISSING_MARKERS.get(text, "")

    @classmethod
    def reason(cls, status: str, note: str = "") -> str:
        """A missing value's reason: the note if given, else the marker and its label (`… not available`)."""
        return note or f"{status} {cls(status).label}"


# A value cell that is exactly one of these declares the figure missing with that status (docs/official.md).
MISSING_MARKERS = {"…": "…", "...": "…", "-": "-", ".": ".", "..": ".."}


class Value(models.Model):
    """One data item in one submission: a number stored exactly as entered, or declared missing."""

    # No index of its own: `value_unique` (submission, item) serves every read by submission, and
    # each index is written for each of the million values a bulk import can bring.
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="values", db_index=False)
    item = models.ForeignKey(DataItem, on_delete=models.PROTECT, related_name="values")
    # 38 digits with 15 after the point: any figure a municipality reports, exactly as entered.
    number = models.DecimalField(_("value"), max_digits=38, decimal_places=15, null=True, blank=True)
    is_missing = models.BooleanField(_("missing"), default=False)
    missing_reason = models.TextField(_("why it is missing"), blank=True)
    # A missing value's status as a statistics office marks the cell (`…`, `-`, `.`, `..`); empty
    # for a number and for a figure declared missing without one. The database default keeps the
    # bulk writers' statements that do not name it (indicators/services/values.py) valid.
    missing_status = models.CharField(
        _("missing status"), max_length=2, choices=MissingStatus.choices, blank=True, default="", db_default=""
    )
    explanation = models.TextField(_("explanation"), blank=True)
    # A statistics office's footnote on this figure (docs/official.md), shown beside it. The
    # database default keeps the bulk writers' statements that do not name it valid.
    footnote = models.TextField(_("footnote"), blank=True, default="", db_default="")
    # Summed from the predecessors' figures across a reform (indicators/services/reform.py), not
    # reported by the municipality itself; every other writer clears it (values service).
    reconstructed = models.BooleanField(_("reconstructed"), default=False, db_default=False)
    # The history is read by submission and by value, never by data item: no index on its item.
    history = HistoricalRecords(no_db_index=["item"])

    class Meta:
        verbose_name = _("value")
        verbose_name_plural = _("values")
        constraints = [
            models.UniqueConstraint(fields=["submission", "item"], name="value_unique"),
            # A value is a number or declared missing, never both and never neither.
            models.CheckConstraint(
                condition=Q(is_missing=True, number__isnull=True) | Q(is_missing=False, number__isnull=False),
                name="value_number_or_missing",
            ),
            # Only a missing value has a status.
            models.CheckConstraint(
                condition=Q(missing_status="") | Q(is_missing=True), name="value_status_only_when_missing"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.code} = {'—' if self.is_missing else self.number}"


class SeriesBreak(models.Model):
    """A break in a series (a data item in a municipality): from `period` on the figures are not
    comparable with the earlier ones, and `note` says why (docs/official.md)."""

    item = models.ForeignKey(DataItem, verbose_name=_("data item"), on_delete=models.CASCADE, related_name="breaks")
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.CASCADE, related_name="series_breaks"
    )
    # The first period of the new series.
    period = models.ForeignKey(Period, verbose_name=_("period"), on_delete=models.CASCADE, related_name="breaks")
    note = models.TextField(_("note"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("break in a series")
        verbose_name_plural = _("breaks in series")
        constraints = [models.UniqueConstraint(fields=["item", "municipality", "period"], name="series_break_unique")]

    def __str__(self) -> str:
        return f"{self.item.code} {self.municipality.code} {self.period.label}"


class ValueQuery(models.Model):
    """One message of the query thread on a single value, between the coordinator and the staff.

    The thread of a value is every message of its submission and data item, oldest first; it
    survives the value being cleared.
    """

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="queries")
    item = models.ForeignKey(DataItem, on_delete=models.PROTECT, related_name="queries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(_("message"))

    class Meta:
        verbose_name = _("query on a value")
        verbose_name_plural = _("queries on values")
        ordering = ["submission", "item", "at", "pk"]
        indexes = [
            # The review and form pages load all threads of one submission.
            models.Index(fields=["submission", "item"], name="valuequery_submission_item"),
        ]

    def __str__(self) -> str:
        return f"{self.submission}: {self.item.code}"
