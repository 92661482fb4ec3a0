"""Pieces of the learning app shown on other apps' pages (the comparisons dashboards)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from learning import selectors
from networks import permissions

register = template.Library()


@register.inclusion_tag("learning/_learn_from_best.html", takes_context=True)
def learn_from_best(context, scope, indicator) -> dict:
    """ "Learn from the best" on the indicator page: two queries (results, good practice).

    `scope` comes from `dashboard_scope`, so its round is one the person may see.
    """
    user = context["request"].user
    found = selectors.learn_from_best(user=user, scope=scope, indicator=indicator)
    query = urlencode({"network": scope.network.code, "indicator": indicator.code})
    return {
        "found": found,
        "scope": scope,
        "indicator": indicator,
        "practices_url": reverse("learning:practice_list") + "?" + query,
    }


@register.inclusion_tag("learning/_plan_progress.html", takes_context=True)
def plan_progress_panel(context, scope, municipality) -> dict:
    """The municipality's improvement plans with progress to target, on its profile page.

    Nothing (and no query) for whoever may not read its plans; the values come only from the
    rounds the person may see (the scope's).
    """
    user = context["request"].user
    plans: dict[int, tuple] = {}
    for target in selectors.profile_plan_targets(user=user, scope=scope, municipality=municipality):
        plans.setdefault(target.plan_id, (target.plan, []))[1].append(target.progress)
    return {"plans": list(plans.values())}


@register.inclusion_tag("learning/_follow.html", takes_context=True)
def follow_button(context, scope, municipality=None, indicator=None) -> dict:
    """A button to follow a municipality or an indicator of the scope's network. No query: the
    action is idempotent, and what the person follows is listed on its own page."""
    request = context["request"]
    kind, code = ("municipality", municipality.code) if municipality is not None else ("indicator", indicator.code)
    return {
        "may_follow": permissions.can_follow(request.user, scope.network, scope.member_ids),
        "action": reverse("learning:follow", kwargs={"network": scope.network.code, "kind": kind, "code": code}),
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
