"""Writes to municipalities, networks, memberships and roles.

Imports follow the command-line contract (docs/architecture.md): all or nothing, every bad
row reported with its line number, re-importing the same file changes nothing (unchanged rows
are not even saved, so their history stays clean).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events, permissions
from .errors import NetworksError
from .models import Membership, Municipality, Network, Role
from .tabular import ImportFailed, RowError, Table, parse_date, parse_yes_no

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")

MUNICIPALITY_COLUMNS = ("code", "name", "name_en", "kind", "region", "valid_from", "valid_to", "successor_code")
NETWORK_COLUMNS = ("code", "name", "name_en", "public", "members")
# Beyond the contract's columns a networks file may describe the network further.
NETWORK_EXTRA_COLUMNS = ("theme", "theme_en", "description", "description_en")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def _check_code(row_line: int, code: str, errors: list[RowError], what: str = "code") -> bool:
    if not code:
        errors.append(RowError(row_line, _("%(column)s is empty") % {"column": what}))
        return False
    if not CODE_RE.match(code):
        errors.append(
            RowError(
                row_line, _("%(code)s is not a valid code (letters, digits, _ . -; at most 32)") % {"code": repr(code)}
            )
        )
        return False
    return True


def _apply(obj, values: dict) -> bool:
    """Set the fields that differ; return whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


@transaction.atomic
def municipalities_import(*, table: Table) -> ImportReport:
    """Upsert municipalities by code from a table with `code,name` and optional columns.

    Optional columns that are absent leave existing values alone; any column outside the
    contract becomes an attribute (an empty cell removes that attribute).
    """
    errors: list[RowError] = []
    attribute_columns = [c for c in table.columns if c not in MUNICIPALITY_COLUMNS]
    present = set(table.columns)
    parsed: dict[str, tuple[int, dict, dict, str]] = {}
    for row in table.rows:
        code = row.get("code")
        if not _check_code(row.line, code, errors):
            continue
        if code in parsed:
            errors.append(
                RowError(
                    row.line,
                    _("code %(code)s already appears on line %(line)d") % {"code": code, "line": parsed[code][0]},
                )
            )
            continue
        fields: dict = {}
        name = row.get("name")
        if not name:
            errors.append(RowError(row.line, _("name is empty")))
        fields["name"] = name
        for column in ("name_en", "kind", "region"):
            if column in present:
                fields[column] = row.get(column)
        for column in ("valid_from", "valid_to"):
            if column in present:
                try:
                    fields[column] = parse_date(row.get(column))
                except ValueError as exc:
                    errors.append(RowError(row.line, f"{column}: {exc}"))
        if fields.get("valid_from") and fields.get("valid_to") and fields["valid_to"] < fields["valid_from"]:
            errors.append(RowError(row.line, _("valid_to is before valid_from")))
        for column, limit in (("name", 200), ("name_en", 200), ("kind", 64), ("region", 100)):
            if len(fields.get(column) or "") > limit:
                errors.append(
                    RowError(
                        row.line, _("%(column)s is longer than %(max)d characters") % {"column": column, "max": limit}
                    )
                )
        attributes = {c: row.get(c) for c in attribute_columns}
        successor = row.get("successor_code") if "successor_code" in present else None
        if successor == code:
            errors.append(RowError(row.line, _("a municipality cannot be its own successor")))
        parsed[code] = (row.line, fields, attributes, successor)

    existing = {m.code: m for m in Municipality.objects.filter(code__in=list(parsed))}
    named_successors = {s for *_, s in parsed.values() if s}
    known_codes = set(parsed) | set(
        Municipality.objects.filter(code__in=named_successors).values_list("code", flat=True)
    )
    for line, _fields, _attrs, successor in parsed.values():
        if successor and successor not in known_codes:
            errors.append(
                RowError(line, _("successor_code %(code)s is not a known municipality") % {"code": successor})
            )
    if errors:
        raise ImportFailed(errors)

    report = ImportReport()
    saved: dict[str, Municipality] = {}
    changed: set[str] = set()
    for code, (_line, fields, attributes, _successor) in parsed.items():
        municipality = existing.get(code)
        merged = dict(municipality.attributes) if municipality else {}
        for key, value in attributes.items():
            if value:
                merged[key] = value
            else:
                merged.pop(key, None)
        fields = {**fields, "attributes": merged}
        if municipality is None:
            municipality = Municipality.objects.create(code=code, **fields)
        elif _apply(municipality, fields):
            municipality.save()
            changed.add(code)
        saved[code] = municipality

    # Successors second: a file may name a successor further down.
    successor_ids = dict(Municipality.objects.filter(code__in=named_successors).values_list("code", "id"))
    for code, (_line, _fields, _attrs, successor) in parsed.items():
        if successor is None:  # no successor_code column: leave the link alone
            continue
        municipality = saved[code]
        target_id = successor_ids.get(successor) if successor else None
        if municipality.successor_id != target_id:
            municipality.successor_id = target_id
            municipality.save(update_fields=["successor"])
            changed.add(code)

    for code in parsed:
        if code not in existing:
            report.created += 1
        elif code in changed:
            report.updated += 1
        else:
            report.unchanged += 1
    return report


@transaction.atomic
def networks_import(*, table: Table) -> ImportReport:
    """Upsert networks by code; `members` (codes or `*`) becomes the set of open memberships.

    A municipality no longer listed has its membership ended (its last day is yesterday); a
    newly listed one joins today. A file without a `members` column leaves memberships alone.
    """
    errors: list[RowError] = []
    report = ImportReport()
    ignored = [c for c in table.columns if c not in NETWORK_COLUMNS + NETWORK_EXTRA_COLUMNS]
    if ignored:
        report.warnings.append(_("ignored column(s): %(columns)s") % {"columns": ", ".join(ignored)})
    present = set(table.columns)
    all_codes = set(Municipality.objects.values_list("code", flat=True))
    parsed: dict[str, tuple[int, dict, list[str] | None]] = {}
    for row in table.rows:
        code = row.get("code")
        if not _check_code(row.line, code, errors):
            continue
        if code in parsed:
            errors.append(
                RowError(
                    row.line,
                    _("code %(code)s already appears on line %(line)d") % {"code": code, "line": parsed[code][0]},
                )
            )
            continue
        fields: dict = {"name": row.get("name")}
        if not fields["name"]:
            errors.append(RowError(row.line, _("name is empty")))
        for column in ("name_en", *NETWORK_EXTRA_COLUMNS):
            if column in present:
                fields[column] = row.get(column)
        if "public" in present:
            try:
                public = parse_yes_no(row.get("public"))
            except ValueError as exc:
                errors.append(RowError(row.line, f"public: {exc}"))
            else:
                fields["policy"] = Network.Policy.PUBLIC if public else Network.Policy.MEMBERS
        members: list[str] | None = None
        if "members" in present:
            raw = row.get("members").split()
            if raw == ["*"]:
                members = sorted(Municipality.objects.current().values_list("code", flat=True))
            else:
                if "*" in raw:
                    errors.append(RowError(row.line, _("members: * stands alone (every current municipality)")))
                unknown = sorted({c for c in raw if c != "*"} - all_codes)
                if unknown:
                    errors.append(
                        RowError(
                            row.line,
                            _("members: unknown municipality code(s): %(codes)s") % {"codes": ", ".join(unknown)},
                        )
                    )
                members = sorted(set(raw) - {"*"})
        parsed[code] = (row.line, fields, members)
    if errors:
        raise ImportFailed(errors)

    today = timezone.localdate()
    last_day = today - datetime.timedelta(days=1)  # `left` is the last day of membership
    existing = {n.code: n for n in Network.objects.filter(code__in=list(parsed))}
    municipality_ids = dict(Municipality.objects.values_list("code", "id"))
    for code, (_line, fields, members) in parsed.items():
        network = existing.get(code)
        changed = False
        if network is None:
            network = Network.objects.create(code=code, **fields)
            report.created += 1
        else:
            policy = network.policy
            if _apply(network, fields):
                network.save()
                changed = True
                _policy_changed(network, policy)
        if members is not None:
            wanted = {municipality_ids[c] for c in members}
            open_memberships = {m.municipality_id: m for m in network.memberships.filter(left__isnull=True)}
            for municipality_id in wanted - set(open_memberships):
                Membership.objects.create(network=network, municipality_id=municipality_id, joined=today)
                changed = True
            for municipality_id in set(open_memberships) - wanted:
                membership = open_memberships[municipality_id]
                if membership.joined and membership.joined > last_day:
                    membership.delete()  # joined today and dropped today: never really a member
                else:
                    membership.left = last_day
                    membership.save()
                changed = True
        if code in existing:
            if changed:
                report.updated += 1
            else:
                report.unchanged += 1
    return report


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
    if _apply(network, fields):
        network.save()
        _policy_changed(network, policy)
    return network


def _policy_changed(network: Network, before: str) -> None:
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
    *, network: Network, email: str, kind: str, municipality: Municipality, invited_by, accept_url_for=None
):
    """Invite someone by e-mail into the staff or viewer role of a member municipality, within
    this network only.

    Returns (invitation, token). The token is stored only as a hash; the e-mail with the link
    is sent after commit when `accept_url_for` (token -> absolute URL) is given.
    """
    import secrets

    from django.core.mail import send_mail

    from .models import Invitation

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
        with translation.override(settings.LANGUAGE_CODE):
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
        "expires": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M"),
        "url": url,
    }
    return subject, body


def invitation_for_token(*, token: str):
    """The invitation behind a link, or None when the link is unknown, used or expired."""
    from .models import Invitation

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
    from .models import Invitation

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
