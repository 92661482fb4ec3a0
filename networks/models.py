"""Municipalities, networks, memberships and the roles people hold in them."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# Known kinds get a translated label; any other kind is shown as imported (nothing is
# Latvia-only: another country's classifier just brings its own words).
KIND_LABELS = {
    "state_city": _("state city"),
    "republican_city": _("republican city"),
    "municipality": _("municipality"),
}


# Set while a page that names thousands of things is built (`language_pinned`): the UI language,
# resolved once; `get_language()` costs ~2 µs a call.
_pinned_language: ContextVar[str | None] = ContextVar("pinned_language", default=None)


@contextlib.contextmanager
def language_pinned() -> Iterator[None]:
    """Inside it, `localized` and the dashboards' numbers use the UI language active at entry
    instead of looking it up per call.

    Only for building a page: nothing inside may switch the language (`translation.override`).
    """
    token = _pinned_language.set(get_language())
    try:
        yield
    finally:
        _pinned_language.reset(token)


# Translations looked up while a language is pinned, by (language, message): a page of 500
# indicators says the same few dozen phrases thousands of times, and each `gettext` call goes
# through the request's thread-local translation (~5 µs). The catalogues do not change while the
# process runs, so a message translated once in a language stays translated.
_page_translations: dict[tuple[str, str], str] = {}


def page_gettext(message: str) -> str:
    """`gettext`, remembered per language while `language_pinned` holds (else `gettext` itself)."""
    language = _pinned_language.get()
    if language is None:
        return gettext(message)
    key = (language, message)
    text = _page_translations.get(key)
    if text is None:
        text = _page_translations[key] = gettext(message)
    return text


def ui_language() -> str | None:
    """`get_language()`, or the language pinned by `language_pinned`."""
    pinned = _pinned_language.get()
    return pinned if pinned is not None else get_language()


def english_ui() -> bool:
    """Whether the UI speaks English."""
    return (ui_language() or "").startswith("en")


def localized(obj: models.Model, field: str) -> str:
    """The English variant of a field in the English UI when it is filled, else the Latvian one."""
    if english_ui():
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field)


class MunicipalityQuerySet(models.QuerySet):
    def current(self, on: datetime.date | None = None) -> MunicipalityQuerySet:
        on = on or timezone.localdate()
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=on)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=on)
        )


class Municipality(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, help_text=_("National statistical code, e.g. ATVK."))
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=64, blank=True)
    region = models.CharField(_("planning region"), max_length=100, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("successor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predecessors",
    )
    # Divided at its end among several successors: its figures reach them only through explicit
    # `SuccessorShare` rows, never through `successor` (docs/official.md, "History across a reform").
    split = models.BooleanField(_("divided among its successors"), default=False)
    history = HistoricalRecords()

    objects = MunicipalityQuerySet.as_manager()

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="municipality_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return localized(self, "name")

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))

    def is_current(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or self.valid_to >= on)


class SuccessorShare(models.Model):
    """The share of a predecessor's figures a successor took over at a reform (0 < share ≤ 1).

    A whole unit needs no row: its `successor` link counts with share 1. A divided unit
    (`Municipality.split`) reaches its successors only through these rows; a row without a share
    says the successor took a part whose size is not given, so a sum over it is missing.
    """

    predecessor = models.ForeignKey(
        Municipality, verbose_name=_("predecessor"), on_delete=models.CASCADE, related_name="successor_shares"
    )
    successor = models.ForeignKey(
        Municipality, verbose_name=_("successor"), on_delete=models.CASCADE, related_name="predecessor_shares"
    )
    share = models.DecimalField(_("share"), max_digits=7, decimal_places=6, null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("successor share")
        verbose_name_plural = _("successor shares")
        ordering = ["predecessor__name", "successor__name"]
        constraints = [
            models.UniqueConstraint(fields=["predecessor", "successor"], name="successorshare_unique"),
            models.CheckConstraint(
                condition=Q(share__isnull=True) | (Q(share__gt=0) & Q(share__lte=1)), name="successorshare_in_range"
            ),
            models.CheckConstraint(condition=~Q(predecessor=models.F("successor")), name="successorshare_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.predecessor} → {self.successor}: {self.share if self.share is not None else '?'}"


class Network(models.Model):
    class Policy(models.TextChoices):
        MEMBERS = "members", _("members only")
        PUBLIC = "public", _("public after publication")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    theme = models.CharField(_("theme"), max_length=200, blank=True)
    theme_en = models.CharField(_("theme (English)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    policy = models.CharField(_("publication policy"), max_length=16, choices=Policy.choices, default=Policy.MEMBERS)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("network")
        verbose_name_plural = _("networks")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localized(self, "name")

    @property
    def display_theme(self) -> str:
        return localized(self, "theme")

    @property
    def display_description(self) -> str:
        return localized(self, "description")

    @property
    def is_public(self) -> bool:
        return self.policy == self.Policy.PUBLIC


class MembershipQuerySet(models.QuerySet):
    def active(self, on: datetime.date | None = None) -> MembershipQuerySet:
        on = on or timezone.localdate()
        return self.filter(Q(joined__isnull=True) | Q(joined__lte=on)).filter(Q(left__isnull=True) | Q(left__gte=on))


class Membership(models.Model):
    network = models.ForeignKey(
        Network, verbose_name=_("network"), on_delete=models.CASCADE, related_name="memberships"
    )
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipality"), on_delete=models.PROTECT, related_name="memberships"
    )
    joined = models.DateField(_("joined"), null=True, blank=True)
    # The last day of membership (inclusive); empty while the municipality is a member.
    left = models.DateField(_("left"), null=True, blank=True)
    history = HistoricalRecords()

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["network__code", "municipality__name"]
        constraints = [
            # At most one open membership of a municipality in a network at a time.
            models.UniqueConstraint(
                fields=["network", "municipality"], condition=Q(left__isnull=True), name="membership_one_open"
            ),
            models.CheckConstraint(
                condition=Q(left__isnull=True) | Q(joined__isnull=True) | Q(left__gte=models.F("joined")),
                name="membership_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality} ∈ {self.network.code}"


class Role(models.Model):
    """One role one person holds; a person may hold several. Administrators are superusers.

    A staff or viewer role is scoped: with a `network` it reaches that municipality only within
    that network (what a coordinator grants); without one it reaches the municipality in every
    network it belongs to (only an administrator grants that). See docs/security.md.
    """

    class Kind(models.TextChoices):
        STAFF = "staff", _("municipal staff")
        VIEWER = "viewer", _("viewer (politician or manager)")
        COORDINATOR = "coordinator", _("network coordinator")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="roles"
    )
    kind = models.CharField(_("role"), max_length=16, choices=Kind.choices)
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="roles",
    )
    network = models.ForeignKey(
        Network,
        verbose_name=_("network"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="roles",
        help_text=_("For staff and viewers: empty means every network the municipality belongs to."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            # Staff and viewers belong to a municipality (optionally within one network),
            # coordinators to a network.
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["staff", "viewer"], municipality__isnull=False)
                    | Q(kind="coordinator", network__isnull=False, municipality__isnull=True)
                ),
                name="role_scope_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "municipality"],
                condition=Q(network__isnull=True),
                name="role_unique_municipal",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "municipality", "network"],
                condition=Q(network__isnull=False, municipality__isnull=False),
                name="role_unique_municipal_in_network",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "network"], condition=Q(kind="coordinator"), name="role_unique_network"
            ),
        ]

    def __str__(self) -> str:
        if self.municipality_id and self.network_id:
            return f"{self.user} — {self.get_kind_display()}: {self.municipality} ({self.network.code})"
        return f"{self.user} — {self.get_kind_display()}: {self.municipality or self.network}"


class Invitation(models.Model):
    """A one-time link that gives its addressee one role within the inviting network.

    Only the account with the invited e-mail address can accept it (or the account the link
    creates for that address); it works once, and only while the municipality is still a
    member of the network and the inviter still coordinates it. Only a hash of the token is
    stored: the link in the e-mail is the only copy of the secret.
    """

    email = models.EmailField(_("e-mail"))
    kind = models.CharField(_("role"), max_length=16, choices=Role.Kind.choices)
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipality"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    # The network whose coordinator invited; the role granted is scoped to it.
    network = models.ForeignKey(
        Network, verbose_name=_("network"), on_delete=models.CASCADE, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="invitations_sent",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.get_kind_display()} ({self.municipality or self.network})"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
