"""Following a municipality or an indicator: the choice, the one-click way out, and the lines the
publication e-mail gets for what a person follows (docs/architecture.md, "Follow").

The sentences are the dashboards' own (`comparisons.words`) over stored results of the round
just published, and only where the person may see that round (`permissions.results_visibility`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.http import urlencode

from comparisons.dashboard_views.tables import number
from comparisons.landing import strengths_and_weaknesses
from comparisons.models import Result
from comparisons.words import result_words
from indicators.models import Indicator, Round
from networks import permissions
from networks.collation import latvian
from networks.mail import absolute
from networks.models import Municipality, Network

from .models import Follow

UNSUBSCRIBE_SALT = "learning.follows.unsubscribe"


class FollowError(ValueError):
    """The person may not follow this (the view answers 403)."""


def follow_set(
    *,
    user,
    network: Network,
    municipality: Municipality | None = None,
    indicator: Indicator | None = None,
    following: bool,
    language: str = "",
) -> None:
    """Follow (``following``) or stop following a municipality or an indicator; doing it twice
    changes nothing, so a button needs no state read before it is drawn."""
    if (municipality is None) == (indicator is None):
        raise ValueError("follow a municipality or an indicator")
    existing = Follow.objects.filter(user=user, network=network, municipality=municipality, indicator=indicator)
    if not following:
        existing.delete()
        return
    member_ids = set(network.memberships.active().values_list("municipality_id", flat=True))
    if not permissions.can_follow(user, network, member_ids):
        raise FollowError("may not follow")
    if existing.exists():
        return
    try:
        with transaction.atomic():
            Follow.objects.create(
                user=user,
                network=network,
                municipality=municipality,
                indicator=indicator,
                language=language[:8] or settings.LANGUAGE_CODE,
            )
    except IntegrityError:  # a double click: already following
        pass


def follows_of(*, user) -> list[Follow]:
    return list(
        Follow.objects.filter(user=user)
        .select_related("network", "municipality", "indicator")
        .order_by("network__code", latvian("municipality__name"), "indicator__code")
    )


def unsubscribe_token(user) -> str:
    return signing.dumps(user.pk, salt=UNSUBSCRIBE_SALT)


def unsubscribe(token: str) -> int | None:
    """Stop every follow of the token's person; the number stopped, or None for a bad token."""
    try:
        user_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    deleted, _detail = Follow.objects.filter(user_id=user_id).delete()
    return deleted


def follow_languages(user_ids: list[int]) -> dict[int, str]:
    """User id -> the language of the person's newest follow: the portal's e-mails are written in
    it (registered with `networks.mail.language_source_register`)."""
    found: dict[int, str] = {}
    rows = Follow.objects.filter(user_id__in=user_ids).order_by("user_id", "-created", "-pk")
    for user_id, language in rows.values_list("user_id", "language"):
        found.setdefault(user_id, language)
    return found


def followers(*, network: Network) -> dict[int, list[Follow]]:
    """The network's follows by person (active accounts with an e-mail address)."""
    found: dict[int, list[Follow]] = {}
    for follow in (
        Follow.objects.filter(network=network, user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "municipality", "indicator")
        .order_by("user_id", "pk")
    ):
        found.setdefault(follow.user_id, []).append(follow)
    return found


def follow_lines(*, round_: Round, follows: Iterable[Follow], user, member_ids: set[int]) -> list[str]:
    """The e-mail's lines for what ``user`` follows in the published round, in the active language:
    for a municipality its three strongest and three weakest indicators in words, for an indicator
    the person's own municipality in words (or the peer median). Empty when the person may not
    see the round."""
    network = round_.network
    if permissions.results_visibility(user, network, round_, member_ids) == permissions.RESULTS_NONE:
        return []
    follows = list(follows)
    municipality_ids = {f.municipality_id for f in follows if f.municipality_id}
    indicator_ids = {f.indicator_id for f in follows if f.indicator_id}
    own = permissions.roles_of(user).municipalities_in(network.pk) & member_ids
    rows = list(
        Result.objects.filter(network=network, period=round_.period, peer_group="network")
        .filter(municipality_id__in=municipality_ids | own)
        .select_related("indicator", "municipality")
    )
    lines: list[str] = []
    period = {"period": round_.period.label}
    for follow in follows:
        if follow.municipality_id:
            mine = [r for r in rows if r.municipality_id == follow.municipality_id]
            if not mine:
                continue
            best, worst = strengths_and_weaknesses(mine)
            lines.append(follow.municipality.display_name)
            lines += [f"+ {r.indicator.display_short_name}: {_said(r)}" for r in best]
            lines += [f"- {r.indicator.display_short_name}: {_said(r)}" for r in worst]
            url = reverse("comparisons:profile", kwargs={"network": network.code, "code": follow.municipality.code})
            lines += [absolute(url + "?" + urlencode(period)), ""]
        elif follow.indicator_id in indicator_ids:
            mine = [r for r in rows if r.indicator_id == follow.indicator_id and r.municipality_id in own]
            lines.append(follow.indicator.display_short_name)
            lines += [f"{r.municipality.display_name}: {_said(r)}" for r in mine]
            url = reverse("comparisons:indicator", kwargs={"network": network.code, "indicator": follow.indicator.code})
            lines += [absolute(url + "?" + urlencode(period)), ""]
    return lines


def _said(row: Result) -> str:
    indicator = row.indicator
    words = result_words(row, indicator)
    if words is not None:
        return words.text
    return number(row.value, indicator.decimals) + (f"\u00a0{indicator.display_unit}" if indicator.display_unit else "")
