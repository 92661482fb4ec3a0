"""E-mail about the submission workflow: plain text, translated, sent after the transaction commits.

Who hears what: the staff of the network's member municipalities when a round
opens and three days before its deadline (unless they already submitted), the municipality's
staff when their submission is returned, the network's coordinators when a submission arrives.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from networks import permissions
from networks.models import Role

from .models import Round, Submission


def _addresses(users: Iterable) -> list[str]:
    return sorted({user.email for user in users if user.email and user.is_active})


def staff_addresses(*, municipality_ids: Iterable[int], network_id: int) -> list[str]:
    """The staff of these municipalities whose role reaches the network (one filter: one role row)."""
    users = (
        get_user_model()
        .objects.filter(
            Q(roles__kind=Role.Kind.STAFF, roles__municipality_id__in=list(municipality_ids))
            & permissions.roles_reaching_network(network_id, "roles__")
        )
        .distinct()
    )
    return _addresses(users)


def coordinator_addresses(*, network_id: int) -> list[str]:
    users = get_user_model().objects.filter(roles__kind=Role.Kind.COORDINATOR, roles__network_id=network_id).distinct()
    return _addresses(users)


def _send_after_commit(subject: str, body: str, recipients: list[str]) -> None:
    if not recipients:
        return
    # One message per recipient: nobody learns the others' addresses.
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in recipients]
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))


def _round_words(round: Round) -> dict[str, str]:
    return {
        "network": str(round.network),
        "period": round.period.label,
        "deadline": date_format(round.deadline, "DATE_FORMAT") if round.deadline else _("no deadline"),
    }


def notify_round_opened(*, round: Round, municipality_ids: Iterable[int]) -> int:
    with translation.override(settings.LANGUAGE_CODE):
        words = _round_words(round)
        subject = _("Round %(period)s of %(network)s is open") % words
        body = (
            _(
                "The reporting round %(period)s of the network %(network)s is open for your figures.\n"
                'Deadline: %(deadline)s.\n\nSign in to the Benchlearning portal and open "My work" to enter them.'
            )
            % words
        )
    recipients = staff_addresses(municipality_ids=municipality_ids, network_id=round.network_id)
    _send_after_commit(subject, body, recipients)
    return len(recipients)


def notify_deadline_near(*, round: Round, municipality_ids: Iterable[int]) -> int:
    with translation.override(settings.LANGUAGE_CODE):
        words = _round_words(round)
        subject = _("Three days left: round %(period)s of %(network)s") % words
        body = (
            _(
                "The deadline of the reporting round %(period)s of the network %(network)s is %(deadline)s, "
                "and your municipality's figures are not submitted yet.\n\n"
                'Sign in to the Benchlearning portal and open "My work" to complete them.'
            )
            % words
        )
    recipients = staff_addresses(municipality_ids=municipality_ids, network_id=round.network_id)
    _send_after_commit(subject, body, recipients)
    return len(recipients)


def notify_submission_returned(*, submission: Submission, message: str) -> int:
    with translation.override(settings.LANGUAGE_CODE):
        words = _round_words(submission.round) | {
            "municipality": submission.municipality.name,
            "message": message,
        }
        subject = _("Your figures for %(period)s were returned") % words
        body = (
            _(
                "The coordinator of %(network)s returned the figures of %(municipality)s for %(period)s "
                "with this message:\n\n%(message)s\n\nPlease correct them and submit them again."
            )
            % words
        )
    recipients = staff_addresses(municipality_ids=[submission.municipality_id], network_id=submission.round.network_id)
    _send_after_commit(subject, body, recipients)
    return len(recipients)


def notify_submission_arrived(*, submission: Submission) -> int:
    with translation.override(settings.LANGUAGE_CODE):
        words = _round_words(submission.round) | {"municipality": submission.municipality.name}
        subject = _("%(municipality)s submitted its figures for %(period)s") % words
        body = (
            _(
                "%(municipality)s submitted its figures for the round %(period)s of %(network)s. "
                "They are waiting for your review in the Benchlearning portal."
            )
            % words
        )
    recipients = coordinator_addresses(network_id=submission.round.network_id)
    _send_after_commit(subject, body, recipients)
    return len(recipients)
