"""Good practice, improvement plans with targets and actions, and the network's meetings."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from indicators.models import Indicator, Period
from networks.models import Municipality, Network, localized


class PrivateStorage(FileSystemStorage):
    """Files under MEDIA_ROOT/private: never served by a URL, only by permission-checked views.

    The location is read from the settings on every use, so tests may point MEDIA_ROOT elsewhere.
    """

    @property
    def base_location(self):
        return Path(settings.MEDIA_ROOT) / "private"

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("private files have no URL; use the permission-checked download view")


def private_storage() -> PrivateStorage:
    return PrivateStorage()


def _attachment_path(instance: PracticeAttachment, filename: str) -> str:
    # A random directory per file: two cases may attach "plan.pdf"; the name itself is sanitised.
    return f"practice/{uuid.uuid4().hex}/{filename}"


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PracticeCase(models.Model):
    """A good-practice example a municipality shares with its network."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        PUBLISHED = "published", _("published")

    class Visibility(models.TextChoices):
        MEMBERS = "members", _("network members only")
        PUBLIC = "public", _("public")

    title = models.CharField(_("title"), max_length=300)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    summary = models.TextField(_("summary"))
    summary_en = models.TextField(_("summary (English)"), blank=True)
    text = models.TextField(_("full text"), blank=True)
    text_en = models.TextField(_("full text (English)"), blank=True)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT, related_name="practice_cases"
    )
    network = models.ForeignKey(
        Network, verbose_name=_("network"), on_delete=models.PROTECT, related_name="practice_cases"
    )
    indicators = models.ManyToManyField(
        Indicator, verbose_name=_("related indicators"), blank=True, related_name="practice_cases"
    )
    period = models.ForeignKey(
        Period, verbose_name=_("period"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=64, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="cases")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.MEMBERS
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("practice case")
        verbose_name_plural = _("practice cases")
        ordering = ["-published_at", "-created_at"]
        indexes = [
            # The library's list: published cases of a network, newest first.
            models.Index(fields=["network", "status"], name="practice_network_status"),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return localized(self, "title")

    @property
    def display_summary(self) -> str:
        return localized(self, "summary")

    @property
    def display_text(self) -> str:
        return localized(self, "text")

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def is_public(self) -> bool:
        return self.visibility == self.Visibility.PUBLIC


class PracticeAttachment(models.Model):
    case = models.ForeignKey(PracticeCase, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), storage=private_storage, upload_to=_attachment_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["case", "name"]

    def __str__(self) -> str:
        return self.name


class ImprovementPlan(models.Model):
    """A municipality's plan for a network: targets on chosen indicators, and actions."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        COMPLETED = "completed", _("completed")
        ABANDONED = "abandoned", _("abandoned")

    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT, related_name="improvement_plans"
    )
    network = models.ForeignKey(
        Network, verbose_name=_("network"), on_delete=models.PROTECT, related_name="improvement_plans"
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("improvement plan")
        verbose_name_plural = _("improvement plans")
        ordering = ["network__code", "municipality__name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.municipality} · {self.network.code}: {self.title}"


class PlanTarget(models.Model):
    plan = models.ForeignKey(ImprovementPlan, on_delete=models.CASCADE, related_name="targets")
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="+")
    # The indicator's value when the plan was made, as the municipality states it.
    baseline = models.DecimalField(_("baseline"), max_digits=38, decimal_places=15, null=True, blank=True)
    baseline_period = models.ForeignKey(
        Period, verbose_name=_("baseline period"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_value = models.DecimalField(_("target value"), max_digits=38, decimal_places=15)
    target_period = models.ForeignKey(
        Period, verbose_name=_("target period"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan target")
        verbose_name_plural = _("plan targets")
        ordering = ["plan", "indicator__code"]
        constraints = [models.UniqueConstraint(fields=["plan", "indicator"], name="plantarget_unique")]

    def __str__(self) -> str:
        return f"{self.indicator.code} → {self.target_value} ({self.target_period})"


class PlanAction(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        IN_PROGRESS = "in_progress", _("in progress")
        DONE = "done", _("done")
        DROPPED = "dropped", _("dropped")

    plan = models.ForeignKey(ImprovementPlan, on_delete=models.CASCADE, related_name="actions")
    description = models.TextField(_("action"))
    owner = models.CharField(_("owner"), max_length=200, help_text=_("Who is responsible."))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan action")
        verbose_name_plural = _("plan actions")
        ordering = ["plan", "due_date", "pk"]

    def __str__(self) -> str:
        return self.description[:60]


class Meeting(models.Model):
    """A network meeting or study visit."""

    network = models.ForeignKey(Network, verbose_name=_("network"), on_delete=models.CASCADE, related_name="meetings")
    title = models.CharField(_("title"), max_length=300)
    date = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=300, blank=True)
    host = models.ForeignKey(
        Municipality,
        verbose_name=_("host municipality (study visit)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hosted_meetings",
    )
    agenda = models.TextField(_("agenda"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("attendees"), blank=True, related_name="meetings"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.network.code} {self.date}: {self.title}"


class Follow(models.Model):
    """A person follows a municipality or an indicator of a network: when a round of the network
    is published, the publication's e-mail to them carries the sentences for what they follow
    (`learning.follows`). Exactly one of ``municipality`` and ``indicator`` is set."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    network = models.ForeignKey(Network, verbose_name=_("network"), on_delete=models.CASCADE, related_name="+")
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The language the person used when they chose to follow: their e-mail is written in it.
    language = models.CharField(_("language"), max_length=8, default="lv")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("follow")
        verbose_name_plural = _("follows")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(municipality__isnull=True, indicator__isnull=False)
                | models.Q(municipality__isnull=False, indicator__isnull=True),
                name="follow_one_subject",
            ),
            models.UniqueConstraint(
                fields=["user", "network", "municipality"],
                condition=models.Q(indicator__isnull=True),
                name="follow_municipality_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "network", "indicator"],
                condition=models.Q(municipality__isnull=True),
                name="follow_indicator_unique",
            ),
        ]
        # The digest reads a network's followers.
        indexes = [models.Index(fields=["network", "user"], name="follow_network_user")]

    def __str__(self) -> str:
        return f"{self.user} → {self.network.code} {self.municipality or self.indicator}"
