"""Writes of the learning app: good practice, attachments, improvement plans, meetings, digests."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext as _

from indicators.models import Indicator, Round
from indicators.services.periods import period_get_or_create
from networks import permissions
from networks.mail import absolute, recipient_languages
from networks.models import Municipality, Network, Role

from . import follows
from .models import ImprovementPlan, Meeting, PlanAction, PlanTarget, PracticeAttachment, PracticeCase, Tag
from .selectors import network_activity

logger = logging.getLogger(__name__)

# Extension -> (content type sent on download, the file's first bytes, or None for plain text).
ALLOWED_ATTACHMENTS: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
    "odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (b"PK\x03\x04",)),
    "txt": ("text/plain", None),
    "csv": ("text/csv", None),
}
MAX_ATTACHMENTS_PER_CASE = 10


def attachment_max_bytes() -> int:
    return settings.LEARNING_ATTACHMENT_MAX_BYTES


def attachment_name_sanitise(name: str) -> str:
    """A safe file name: no directories, ASCII letters, digits, - and _, a lower-case extension.

    `../../etc/Pārskats 2024 (final).PDF` → `parskats-2024-final.pdf`.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = extension, ""
    stem = slugify(stem)[:100].strip("-_") or "file"
    extension = slugify(extension).replace("-", "")[:10]
    return f"{stem}.{extension}" if extension else stem


def attachment_validate(upload: UploadedFile) -> tuple[str, str]:
    """Check an uploaded file's size and type; return (sanitised name, content type).

    The type is decided by the extension and confirmed by the file's first bytes, so a renamed
    executable is refused. Raises ValidationError with a message for the person uploading.
    """
    limit = attachment_max_bytes()
    if upload.size > limit:
        raise ValidationError(
            _("%(name)s is too large (%(size)s); the limit is %(limit)s.")
            % {"name": upload.name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)}
        )
    name = attachment_name_sanitise(upload.name or "")
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    allowed = ALLOWED_ATTACHMENTS.get(extension)
    kinds = ", ".join(sorted(ALLOWED_ATTACHMENTS))
    if allowed is None:
        raise ValidationError(
            _("%(name)s: this type of file is not accepted. Accepted: %(kinds)s.")
            % {"name": upload.name, "kinds": kinds}
        )
    content_type, signatures = allowed
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    ok = b"\x00" not in head if signatures is None else any(head.startswith(signature) for signature in signatures)
    if not ok:
        raise ValidationError(
            _("%(name)s does not look like a .%(extension)s file; it was refused.")
            % {"name": upload.name, "extension": extension}
        )
    return name, content_type


def _tags_set(case: PracticeCase, tags: Iterable[str]) -> None:
    names = sorted({t.strip().lower()[:64] for t in tags if t.strip()})
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    objects = [existing.get(n) or Tag.objects.create(name=n) for n in names]
    case.tags.set(objects)


def _attachments_add(case: PracticeCase, files: Iterable[UploadedFile]) -> None:
    """Validate every file first, then store them; a refused file stores none of them."""
    files = list(files)
    if case.attachments.count() + len(files) > MAX_ATTACHMENTS_PER_CASE:
        raise ValidationError(
            _("A practice case has at most %(count)d attachments.") % {"count": MAX_ATTACHMENTS_PER_CASE}
        )
    checked = [(upload, *attachment_validate(upload)) for upload in files]
    stored: list[PracticeAttachment] = []
    try:
        for upload, name, content_type in checked:
            attachment = PracticeAttachment(case=case, name=name, content_type=content_type, size=upload.size)
            attachment.file.save(name, upload, save=False)
            stored.append(attachment)
            attachment.save()
    except Exception:
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise


@transaction.atomic
def practice_submit(
    *,
    user,
    municipality: Municipality,
    network: Network,
    fields: dict,
    indicators: Iterable[Indicator] = (),
    tags: Iterable[str] = (),
    files: Iterable[UploadedFile] = (),
) -> PracticeCase:
    """Municipal staff submit a case; a coordinator publishes it."""
    if not network.memberships.active().filter(municipality=municipality).exists():
        raise ValidationError(
            _("%(municipality)s is not a member of %(network)s.") % {"municipality": municipality, "network": network}
        )
    case = PracticeCase(municipality=municipality, network=network, submitted_by=user, **fields)
    case.full_clean(exclude=["municipality", "network"])
    case._history_user = user
    case.save()
    case.indicators.set(indicators)
    _tags_set(case, tags)
    _attachments_add(case, files)
    return case


@transaction.atomic
def practice_update(
    *,
    case: PracticeCase,
    user,
    fields: dict,
    indicators: Iterable[Indicator] | None = None,
    tags: Iterable[str] | None = None,
    files: Iterable[UploadedFile] = (),
) -> PracticeCase:
    for name, value in fields.items():
        setattr(case, name, value)
    case._history_user = user
    case.save()
    if indicators is not None:
        case.indicators.set(indicators)
    if tags is not None:
        _tags_set(case, tags)
    _attachments_add(case, files)
    return case


@transaction.atomic
def practice_publish(*, case: PracticeCase, user, visibility: str | None = None) -> PracticeCase:
    if visibility:
        case.visibility = visibility
    case.status = PracticeCase.Status.PUBLISHED
    case.published_at = case.published_at or timezone.now()
    case._history_user = user
    case.save()
    return case


@transaction.atomic
def practice_unpublish(*, case: PracticeCase, user) -> PracticeCase:
    case.status = PracticeCase.Status.SUBMITTED
    case._history_user = user
    case.save()
    return case


@transaction.atomic
def attachment_delete(*, attachment: PracticeAttachment) -> None:
    name = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))


# --- improvement plans --------------------------------------------------------------------------


@transaction.atomic
def plan_create(*, municipality: Municipality, network: Network, title: str, description: str = "", user=None):
    if not network.memberships.active().filter(municipality=municipality).exists():
        raise ValidationError(
            _("%(municipality)s is not a member of %(network)s.") % {"municipality": municipality, "network": network}
        )
    plan = ImprovementPlan(municipality=municipality, network=network, title=title, description=description)
    plan._history_user = user
    plan.save()
    return plan


@transaction.atomic
def plan_update(*, plan: ImprovementPlan, user=None, **fields) -> ImprovementPlan:
    for name, value in fields.items():
        setattr(plan, name, value)
    plan._history_user = user
    plan.save()
    return plan


@transaction.atomic
def plan_target_set(
    *,
    plan: ImprovementPlan,
    indicator: Indicator,
    target_value: Decimal,
    target_period_label: str,
    baseline: Decimal | None = None,
    baseline_period_label: str = "",
) -> PlanTarget:
    """Add or change the plan's target on one indicator of the network's set."""
    if not plan.network.indicator_set.filter(indicator=indicator).exists():
        raise ValidationError(_("%(indicator)s is not in the network's indicator set.") % {"indicator": indicator})
    try:
        target_period = period_get_or_create(label=target_period_label)
        baseline_period = period_get_or_create(label=baseline_period_label) if baseline_period_label else None
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    if baseline_period is not None and baseline_period.start >= target_period.start:
        raise ValidationError(_("The target period must come after the baseline period."))
    target, _created = PlanTarget.objects.update_or_create(
        plan=plan,
        indicator=indicator,
        defaults={
            "target_value": target_value,
            "target_period": target_period,
            "baseline": baseline,
            "baseline_period": baseline_period,
        },
    )
    return target


@transaction.atomic
def plan_target_delete(*, target: PlanTarget) -> None:
    target.delete()


@transaction.atomic
def plan_action_add(
    *, plan: ImprovementPlan, description: str, owner: str, due_date: datetime.date | None = None
) -> PlanAction:
    return PlanAction.objects.create(plan=plan, description=description, owner=owner, due_date=due_date)


@transaction.atomic
def plan_action_update(*, action: PlanAction, **fields) -> PlanAction:
    for name, value in fields.items():
        setattr(action, name, value)
    action.save()
    return action


# --- meetings ----------------------------------------------------------------------------------


@transaction.atomic
def meeting_save(*, network: Network, meeting: Meeting | None = None, attendees=None, **fields) -> Meeting:
    meeting = meeting or Meeting(network=network)
    host = fields.get("host")
    if host is not None and not network.memberships.filter(municipality=host).exists():
        raise ValidationError(_("The host must be a member of the network."))
    for name, value in fields.items():
        setattr(meeting, name, value)
    meeting.save()
    if attendees is not None:
        meeting.attendees.set(attendees)
    return meeting


# --- digest ------------------------------------------------------------------------------------


def network_digest_after_publication(*, round_id: int) -> None:
    """Subscribed to a round's publication (after commit): a mail server failure must not undo
    or hide the publication, so it is logged, not raised."""
    try:
        network_digest_send(round_id=round_id)
    except Exception:
        logger.exception("the digest e-mail of round %s could not be sent", round_id)


def network_digest_send(*, round_id: int) -> int:
    """E-mail the network's people what happened since the previous publication; return the count.

    Called after the round's publication is committed. Everyone with an active account and an
    e-mail address who is staff or viewer of a member municipality, or a coordinator, gets one;
    so does whoever follows one of the network's municipalities or indicators and may see the
    round (with the sentences for what they follow, `learning.follows`). One message a person.
    """
    round_ = Round.objects.select_related("network", "period").get(pk=round_id)
    network = round_.network
    member_ids = set(network.memberships.active().values_list("municipality_id", flat=True))
    # email -> user id of every person the digest goes to (one address: one message).
    people = dict(
        Role.objects.filter(user__is_active=True)
        .exclude(user__email="")
        .filter(
            (Q(municipality_id__in=member_ids) & permissions.roles_reaching_network(network.pk))
            | Q(kind=Role.Kind.COORDINATOR, network=network)
        )
        .order_by("user__email", "user_id")
        .values_list("user__email", "user_id")
    )
    recipients = sorted(people)
    previous = (
        Round.objects.filter(network=network, published_at__isnull=False, published_at__lt=round_.published_at)
        .exclude(pk=round_.pk)
        .order_by("-published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    activity = network_activity(network=network, since=previous, public_only=False)
    sender = settings.DEFAULT_FROM_EMAIL
    # Who follows something of the network gets one message of their own, in the language they
    # chose in, with the sentences for what they follow and a one-click way out.
    following = follows.followers(network=network)
    followed_addresses = {group[0].user.email for group in following.values()}
    messages = []
    for group in following.values():
        user = group[0].user
        with translation.override(group[0].language):
            lines = follows.follow_lines(round_=round_, follows=group, user=user, member_ids=member_ids)
            if not lines and user.email not in recipients:
                continue
            subject, body = _digest_text(network, round_, activity)
            if lines:
                body += "\n\n" + _("What you follow:") + "\n\n" + "\n".join(lines)
                token = follows.unsubscribe_token(user)
                body += "\n" + _("Stop these e-mails about what you follow:") + " "
                body += absolute(reverse("learning:unsubscribe", kwargs={"token": token}))
        messages.append((subject, body, sender, [user.email]))
    # Everyone else: the digest alone, each in their own language (`networks.mail`).
    languages = recipient_languages(people.values())
    texts: dict[str, tuple[str, str]] = {}
    for address in recipients:
        if address in followed_addresses:
            continue
        language = languages[people[address]]
        if language not in texts:
            with translation.override(language):
                texts[language] = _digest_text(network, round_, activity)
        subject, body = texts[language]
        # One message per person: addresses are not shown to each other.
        messages.append((subject, body, sender, [address]))
    if not messages:
        return 0
    return send_mass_mail(messages)


def _digest_text(network, round_, activity) -> tuple[str, str]:
    lines = [
        _("%(network)s: the results for %(period)s are published.")
        % {"network": network.display_name, "period": round_.period.label},
        "",
    ]
    if activity.practices:
        lines.append(_("New good practice:"))
        lines += [f"- {case.display_title} ({case.municipality})" for case in activity.practices]
        lines.append("")
    upcoming = [m for m in activity.meetings if m.date >= timezone.localdate()]
    if upcoming:
        lines.append(_("Coming meetings:"))
        lines += [f"- {date_format(m.date, 'DATE_FORMAT')} {m.title} {m.place}".rstrip() for m in upcoming]
    results = reverse("comparisons:overview", kwargs={"network": network.code})
    lines += [
        "",
        _("The results: %(url)s") % {"url": absolute(results + "?" + urlencode({"period": round_.period.label}))},
    ]
    subject = _("%(network)s: results for %(period)s published") % {
        "network": network.code,
        "period": round_.period.label,
    }
    return subject, "\n".join(lines)
