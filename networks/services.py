"""The coordinator workspace's writes: networks, memberships, roles, invitations and accounts.

Each is a function with keyword-only arguments in one transaction, raising `CoordinationError`
with a message for the coordinator when the rules refuse. The CSV/XLSX imports of municipalities
and networks are not here (`networks.imports`); they share the code rule (`CODE_RE`) and
`fields_apply`.
"""

from __future__ import annotations

import datetime
import re
import secrets

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import events, permissions
from .errors import NetworksError
from .models import Invitation, Membership, Municipality, Network, Role

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")


def fields_apply(obj, values: dict) -> bool:
    """Set the fields that differ; return whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


class CoordinationError(NetworksError):
    """A coordinator's request that the rules refuse; the message is shown to them."""


@transaction.atomic
def role_grant(
    *,
    user,
    kind: str,
    municipality: Municipality | None = None,
    network: Network | None = None,
    granted_by=None,
) -> Role:
    """Give a person a role (idempotent).

    A staff or viewer role with a `network` reaches the municipality only in that network;
    without one, in every network it belongs to. `granted_by` is the person giving the role, and
    the role may not exceed their own scope (`permissions.can_grant`); None means the installation
    itself (the command line and the demo seed, run by an operator).
    """
    if granted_by is not None:
        member_ids = set(network.memberships.active().values_list("municipality_id", flat=True)) if network else set()
        if not permissions.can_grant(
            granted_by, kind=kind, municipality=municipality, network=network, member_ids=member_ids
        ):
            raise CoordinationError(_("You cannot give this role: it reaches beyond the networks you coordinate."))
    role, _created = Role.objects.get_or_create(user=user, kind=kind, municipality=municipality, network=network)
    permissions.forget_roles(user)
    return role


def user_ensure(*, username: str, password: str, email: str = "", is_superuser: bool = False):
    """Create a person or reset their password; used by the demo seed."""
    User = get_user_model()
    user, _created = User.objects.get_or_create(username=username, defaults={"email": email})
    user.email = email or user.email
    user.is_superuser = is_superuser
    user.is_staff = is_superuser
    user.is_active = True
    user.set_password(password)
    user.save()
    return user


# --- coordinator workspace: networks, members, invitations, accounts ------------------------

INVITATION_VALID_DAYS = 14


@transaction.atomic
def network_create(*, code: str, name: str, created_by, coordinator=None, **fields) -> Network:
    """A new network (administrators only); `coordinator`, if given, becomes its coordinator."""
    if not permissions.can_create_network(created_by):
        raise CoordinationError(_("Only an administrator can create a network."))
    if Network.objects.filter(code=code).exists():
        raise CoordinationError(_("A network with the code %(code)s already exists.") % {"code": code})
    network = Network.objects.create(code=code, name=name, **fields)
    if coordinator is not None and not coordinator.is_superuser:
        role_grant(user=coordinator, kind=Role.Kind.COORDINATOR, network=network, granted_by=created_by)
    return network


@transaction.atomic
def network_update(*, network: Network, **fields) -> Network:
    policy = network.policy
    if fields_apply(network, fields):
        network.save()
        network_policy_changed(network, policy)
    return network


def network_policy_changed(network: Network, before: str) -> None:
    """Whose values enter the other networks' wider peer groups depends on the publication
    policy: tell the apps above (after commit) when it changed."""
    if network.policy != before:
        events.publish(events.NETWORK_POLICY_CHANGED, network_id=network.pk)


@transaction.atomic
def membership_add(*, network: Network, municipality: Municipality, joined: datetime.date | None = None) -> Membership:
    if network.memberships.filter(municipality=municipality, left__isnull=True).exists():
        raise CoordinationError(
            _("%(municipality)s is already a member of this network.") % {"municipality": municipality}
        )
    return Membership.objects.create(network=network, municipality=municipality, joined=joined or timezone.localdate())


@transaction.atomic
def membership_end(*, membership: Membership, left: datetime.date | None = None) -> Membership:
    """End a membership; `left` is the last day of membership (default: today)."""
    left = left or timezone.localdate()
    if membership.left is not None:
        raise CoordinationError(_("This membership has already ended."))
    if membership.joined and left < membership.joined:
        raise CoordinationError(_("The last day cannot be before the day the municipality joined."))
    membership.left = left
    membership.save()
    return membership


def _token_hash(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *,
    network: Network,
    email: str,
    kind: str,
    municipality: Municipality,
    invited_by,
    accept_url_for=None,
    language: str = "",
):
    """Invite someone by e-mail into the staff or viewer role of a member municipality, within
    this network only.

    Returns (invitation, token). The token is stored only as a hash; the e-mail with the link
    is sent after commit when `accept_url_for` (token -> absolute URL) is given, in `language`
    (the installation's when empty).
    """
    if kind not in (Role.Kind.STAFF, Role.Kind.VIEWER):
        raise CoordinationError(_("Invitations are for municipal staff and viewers."))
    member_ids = set(network.memberships.active().values_list("municipality_id", flat=True))
    if municipality.pk not in member_ids:
        raise CoordinationError(
            _("%(municipality)s is not a current member of this network.") % {"municipality": municipality}
        )
    if not permissions.can_grant(
        invited_by, kind=kind, municipality=municipality, network=network, member_ids=member_ids
    ):
        raise CoordinationError(_("You cannot give this role: it reaches beyond the networks you coordinate."))
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email.strip().lower(),
        kind=kind,
        municipality=municipality,
        network=network,
        token_hash=_token_hash(token),
        expires_at=timezone.now() + datetime.timedelta(days=INVITATION_VALID_DAYS),
        invited_by=invited_by,
    )
    if accept_url_for is not None:
        from django.conf import settings
        from django.utils import translation

        url = accept_url_for(token)
        # In the language the inviter chose for the person (`InvitationForm`), else the installation's.
        with translation.override(language or settings.LANGUAGE_CODE):
            subject, body = _invitation_text(invitation, url)
        transaction.on_commit(lambda: send_mail(subject, body, None, [invitation.email]))
    return invitation, token


def _invitation_text(invitation, url: str) -> tuple[str, str]:
    network, municipality = invitation.network, invitation.municipality
    subject = _("Invitation to the benchlearning network %(network)s") % {"network": network.code}
    body = _(
        "You are invited to join %(network)s as %(role)s of %(municipality)s.\n\n"
        "Open this link to accept (it works once and expires on %(expires)s):\n%(url)s\n"
    ) % {
        "network": network,
        "role": invitation.get_kind_display(),
        "municipality": municipality,
        "expires": date_format(timezone.localtime(invitation.expires_at), "DATETIME_FORMAT"),
        "url": url,
    }
    return subject, body


def invitation_for_token(*, token: str):
    """The invitation behind a link, or None when the link is unknown, used or expired."""
    invitation = (
        Invitation.objects.select_related("municipality", "network").filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None or not invitation.is_usable:
        return None
    return invitation


def invitation_is_for(invitation, user) -> bool:
    """Whether `user` is the invitation's addressee: the account's e-mail is the invited one."""
    return bool(user.email) and user.email.strip().casefold() == invitation.email.casefold()


@transaction.atomic
def invitation_accept(*, token: str, user) -> Role:
    """Give `user` the invited role within the inviting network; the link works once.

    Only the addressee may accept (a link is not a bearer token), and only while the
    municipality is still a member of the network and the inviter may still grant the role.
    """
    # Locked, so two clicks on one link at the same moment grant the role once.
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("network", "municipality", "invited_by")
        .filter(token_hash=_token_hash(token))
        .first()
    )
    if invitation is None or not invitation.is_usable:
        raise CoordinationError(_("This invitation link is not valid: it was already used or has expired."))
    if not invitation_is_for(invitation, user):
        raise CoordinationError(
            _(
                "This invitation was sent to another e-mail address. Sign in with the account of that "
                "address, or sign out and create the account from the link."
            )
        )
    if not invitation.network.memberships.active().filter(municipality=invitation.municipality).exists():
        raise CoordinationError(
            _("%(municipality)s is no longer a member of %(network)s, so this invitation cannot be used.")
            % {"municipality": invitation.municipality, "network": invitation.network.code}
        )
    if invitation.invited_by is None or not invitation.invited_by.is_active:
        raise CoordinationError(_("The person who sent this invitation can no longer give this role."))
    role = role_grant(
        user=user,
        kind=invitation.kind,
        municipality=invitation.municipality,
        network=invitation.network,
        granted_by=invitation.invited_by,
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return role


@transaction.atomic
def account_register(*, username: str, password: str, email: str, first_name: str = "", last_name: str = ""):
    """A new account for someone accepting an invitation."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise CoordinationError(_("The user name %(username)s is taken.") % {"username": username})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def account_deactivate(*, network: Network, user, by) -> None:
    """Switch off an account of the network's people: it can no longer sign in.

    Coordinators may only deactivate accounts whose every role lies within their network
    (`permissions.can_deactivate_account`).
    """
    member_ids = set(network.memberships.active().values_list("municipality_id", flat=True))
    if user.is_superuser or not permissions.can_deactivate_account(by, network, user, member_ids):
        raise CoordinationError(_("This account has roles beyond this network; only an administrator can change it."))
    user.is_active = False
    user.save(update_fields=["is_active"])
