"""E-mail about the submission workflow: plain text, sent after the transaction commits.

Who hears what: the staff of the network's member municipalities when a round
opens and three days before its deadline (unless they already submitted), the municipality's
staff when their submission is returned, the network's coordinators when a submission arrives.

Each message is one person's, written in their language (`networks.mail.recipient_languages`),
and links to the page it is about under `PORTAL_URL`: the staff to their municipality's form, the
coordinators to the submission's review.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from networks import permissions
from networks.mail import absolute, recipient_languages
from networks.models import Municipality, Role

from .models import Round, Submission

# (subject, body) for one person, in the active language
Compose = Callable[[], tuple[str, str]]


def _active(users: Iterable) -> list:
    return [user for user in users if user.email and user.is_active]


def staff_of(*, municipality_ids: Iterable[int], network_id: int) -> dict:
    """Each active staff member with an e-mail address whose role for one of these municipalities
    reaches the network, with those municipalities (one role row gives one pair)."""
    roles = (
        Role.objects.filter(kind=Role.Kind.STAFF, municipality_id__in=list(municipality_ids))
        .filter(permissions.roles_reaching_network(network_id))
        .select_related("user", "municipality")
        .order_by("user_id", "municipality__name")
    )
    found: dict = {}
    for role in roles:
        if role.user.email and role.user.is_active:
            municipalities = found.setdefault(role.user, [])
            if role.municipality not in municipalities:
                municipalities.append(role.municipality)
    return found


def staff_addresses(*, municipality_ids: Iterable[int], network_id: int) -> list[str]:
    """The staff of these municipalities whose role reaches the network (one filter: one role row)."""
    return sorted({user.email for user in staff_of(municipality_ids=municipality_ids, network_id=network_id)})


def coordinators_of(*, network_id: int) -> list:
    users = get_user_model().objects.filter(roles__kind=Role.Kind.COORDINATOR, roles__network_id=network_id)
    return _active(users.distinct().order_by("pk"))


def coordinator_addresses(*, network_id: int) -> list[str]:
    return sorted({user.email for user in coordinators_of(network_id=network_id)})


def _send_after_commit(letters: list[tuple[object, Compose]]) -> int:
    """Compose each person's message in their language and send them all after the commit."""
    if not letters:
        return 0
    languages = recipient_languages(user.pk for user, _compose in letters)
    messages = []
    for user, compose in letters:
        with translation.override(languages[user.pk]):
            subject, body = compose()
        # One message per recipient: nobody learns the others' addresses.
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
    return len(messages)


def _round_words(round: Round) -> dict[str, str]:
    return {
        "network": str(round.network),
        "period": round.period.label,
        "deadline": date_format(round.deadline, "DATE_FORMAT") if round.deadline else _("no deadline"),
    }


def form_url(round: Round, municipality: Municipality) -> str:
    return absolute(reverse("indicators:submission_form", kwargs={"round_pk": round.pk, "code": municipality.code}))


def _form_lines(round: Round, municipalities: list[Municipality]) -> str:
    return "\n".join(
        _("The form of %(municipality)s: %(url)s")
        % {"municipality": municipality.display_name, "url": form_url(round, municipality)}
        for municipality in municipalities
    )


def notify_round_opened(*, round: Round, municipality_ids: Iterable[int]) -> int:
    def compose(municipalities: list[Municipality]) -> tuple[str, str]:
        words = _round_words(round)
        subject = _("Round %(period)s of %(network)s is open") % words
        body = (
            _(
                "The reporting round %(period)s of the network %(network)s is open for your figures.\n"
                'Deadline: %(deadline)s.\n\nSign in to the Benchlearning portal and open "My work" to enter them.'
            )
            % words
        )
        return subject, body + "\n\n" + _form_lines(round, municipalities)

    staff = staff_of(municipality_ids=municipality_ids, network_id=round.network_id)
    return _send_after_commit([(user, lambda m=municipalities: compose(m)) for user, municipalities in staff.items()])


def notify_deadline_near(*, round: Round, municipality_ids: Iterable[int]) -> int:
    def compose(municipalities: list[Municipality]) -> tuple[str, str]:
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
        return subject, body + "\n\n" + _form_lines(round, municipalities)

    staff = staff_of(municipality_ids=municipality_ids, network_id=round.network_id)
    return _send_after_commit([(user, lambda m=municipalities: compose(m)) for user, municipalities in staff.items()])


def notify_submission_returned(*, submission: Submission, message: str) -> int:
    def compose() -> tuple[str, str]:
        words = _round_words(submission.round) | {
            "municipality": submission.municipality.display_name,
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
        return subject, body + "\n\n" + _form_lines(submission.round, [submission.municipality])

    staff = staff_of(municipality_ids=[submission.municipality_id], network_id=submission.round.network_id)
    return _send_after_commit([(user, compose) for user in staff])


def notify_submission_arrived(*, submission: Submission) -> int:
    url = absolute(reverse("indicators:submission_review", kwargs={"pk": submission.pk}))

    def compose() -> tuple[str, str]:
        words = _round_words(submission.round) | {"municipality": submission.municipality.display_name}
        subject = _("%(municipality)s submitted its figures for %(period)s") % words
        body = (
            _(
                "%(municipality)s submitted its figures for the round %(period)s of %(network)s. "
                "They are waiting for your review in the Benchlearning portal."
            )
            % words
        )
        return subject, body + "\n\n" + _("Review them: %(url)s") % {"url": url}

    return _send_after_commit([(user, compose) for user in coordinators_of(network_id=submission.round.network_id)])
