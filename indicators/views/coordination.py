"""The coordinator's rounds and indicator set: open, close, publish and withdraw a round, choose
and edit the network's indicators.

The workspace's other pages (the network, its members, people and invitations) are in
`networks/views_coordination.py`; every view here looks the network up through its
`network_for_coordinator` and every object inside within that network, so another network's
object is a 404 and another network is a 403.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from networks import permissions
from networks.models import Network
from networks.views_coordination import network_for_coordinator

from .. import selectors
from ..forms import DeadlineForm, IndicatorForm, IndicatorSetForm, RoundOpenForm, UnpublishForm
from ..models import Indicator, Round, Submission
from ..services import catalogue
from ..services import rounds as round_services


def _round_of(network: Network, period: str) -> Round:
    return get_object_or_404(Round.objects.select_related("network", "period"), network=network, period__label=period)


@login_required
def indicator_set(request: HttpRequest, code: str) -> HttpResponse:
    network = network_for_coordinator(request, code)
    current = list(Indicator.objects.filter(network_links__network=network).order_by("network_links__position"))
    form = IndicatorSetForm(request.POST or None, initial={"indicators": current}, network=network, user=request.user)
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["indicators"])
        # Keep the present order; newly chosen indicators go to the end.
        order = {indicator.pk: i for i, indicator in enumerate(current)}
        chosen.sort(key=lambda indicator: (order.get(indicator.pk, len(order)), indicator.code))
        catalogue.network_indicators_set(network=network, indicators=chosen)
        messages.success(request, _("The indicator set is saved."))
        return redirect("networks:coordination_network", code=network.code)
    return render(
        request,
        "indicators/coordination/indicator_set.html",
        {"form": form, "network": network, "current": current},
    )


@login_required
def indicator_edit(request: HttpRequest, code: str, indicator_code: str) -> HttpResponse:
    network = network_for_coordinator(request, code)
    indicator = get_object_or_404(
        Indicator.objects.prefetch_related(Prefetch("networks", queryset=Network.objects.only("pk"))),
        code=indicator_code,
        network_links__network=network,
    )
    permissions.require(permissions.can_edit_indicator(request.user, {n.pk for n in indicator.networks.all()}))
    form = IndicatorForm(request.POST or None, instance=indicator)
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.indicator_update(indicator=form.instance, user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Indicator %(code)s saved.") % {"code": indicator.code})
            return redirect("networks:coordination_network", code=network.code)
    title = _("Edit indicator %(code)s") % {"code": indicator.code}
    return render(request, "networks/coordination/form.html", {"form": form, "network": network, "title": title})


@login_required
def round_open(request: HttpRequest, code: str) -> HttpResponse:
    network = network_for_coordinator(request, code)
    form = RoundOpenForm(request.POST or None, network=network)
    if request.method == "POST" and form.is_valid():
        try:
            round_ = round_services.round_open(
                network=network,
                period_label=form.cleaned_data["period"],
                deadline=form.cleaned_data["deadline"],
                indicators=form.cleaned_data["indicators"],
                user=request.user,
            )
        except round_services.RoundError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Round %(period)s is open.") % {"period": round_.period.label})
            return redirect("indicators:coordination_round", code=network.code, period=round_.period.label)
    return render(
        request, "networks/coordination/form.html", {"form": form, "network": network, "title": _("Open a round")}
    )


@login_required
def round_detail(request: HttpRequest, code: str, period: str) -> HttpResponse:
    network = network_for_coordinator(request, code)
    round_ = _round_of(network, period)
    context = {
        "network": network,
        "round": round_,
        "indicators": round_.indicators.all(),
        "history": round_.history.select_related("history_user").order_by("-history_date")[:50],
        "deadline_form": DeadlineForm(initial={"deadline": round_.deadline}),
        "unpublish_form": UnpublishForm(),
    }
    return render(request, "indicators/coordination/round.html", context)


ROUND_ACTIONS = {
    "close": (round_services.round_close, gettext_lazy("The round is closed.")),
    "reopen": (round_services.round_reopen, gettext_lazy("The round is open again.")),
    "publish": (round_services.round_publish, gettext_lazy("The results are published.")),
}
# The actions that are confirmed on a page that says how complete the round is, and the round
# status each one starts from (with the services' own word when the round is not there).
CONFIRMED_ACTIONS = {
    "close": (Round.Status.OPEN, gettext_lazy("Only an open round can be closed.")),
    "publish": (Round.Status.CLOSED, gettext_lazy("Only a closed round can be published; close it first.")),
}


def round_state_sentences(rows: list[selectors.MatrixRow]) -> list[str]:
    """How far the members are, in sentences such as "2 of 42 members are still in draft." (only
    the statuses that some member has, approved last)."""
    total = len(rows)
    count = Counter(row.status for row in rows)
    # Literal ngettext calls, so the catalogue finds every form.
    open_states = {
        "none": lambda n: ngettext(
            "%(count)d of %(total)d members has not started.", "%(count)d of %(total)d members have not started.", n
        ),
        Submission.Status.DRAFT: lambda n: ngettext(
            "%(count)d of %(total)d members is still in draft.",
            "%(count)d of %(total)d members are still in draft.",
            n,
        ),
        Submission.Status.RETURNED: lambda n: ngettext(
            "%(count)d of %(total)d members has not sent its returned submission again.",
            "%(count)d of %(total)d members have not sent their returned submissions again.",
            n,
        ),
        Submission.Status.SUBMITTED: lambda n: ngettext(
            "%(count)d submitted but not reviewed.", "%(count)d submitted but not reviewed.", n
        ),
    }
    sentences = [
        said(count[status]) % {"count": count[status], "total": total}
        for status, said in open_states.items()
        if count[status]
    ]
    approved = count[Submission.Status.APPROVED]
    sentences.append(
        ngettext("%(count)d of %(total)d members approved.", "%(count)d of %(total)d members approved.", approved)
        % {"count": approved, "total": total}
    )
    return sentences


@login_required
def round_action_confirm(request: HttpRequest, code: str, period: str, action: str) -> HttpResponse:
    """Before closing or publishing: how many members are still in draft, submitted but not
    reviewed, approved; the button posts to `round_action` with the confirmation."""
    network = network_for_coordinator(request, code)
    round_ = _round_of(network, period)
    if action not in CONFIRMED_ACTIONS:
        raise Http404
    start, refusal = CONFIRMED_ACTIONS[action]
    if round_.status != start:
        messages.error(request, str(refusal))
        return redirect("indicators:coordination_round", code=network.code, period=round_.period.label)
    rows = selectors.round_completion(round=round_)
    complete = bool(rows) and all(row.status == Submission.Status.APPROVED for row in rows)
    if action == "close":
        question = _("Close the round?") if complete else _("Close anyway?")
    else:
        question = _("Publish the results?") if complete else _("Publish anyway?")
    context = {
        "network": network,
        "round": round_,
        "action": action,
        "sentences": round_state_sentences(rows),
        "complete": complete,
        "question": question,
    }
    return render(request, "indicators/coordination/round_confirm.html", context)


@login_required
@require_POST
def round_action(request: HttpRequest, code: str, period: str, action: str) -> HttpResponse:
    network = network_for_coordinator(request, code)
    round_ = _round_of(network, period)
    if action in CONFIRMED_ACTIONS and not request.POST.get("confirmed"):
        # Closing and publishing are confirmed on the page that says how complete the round is:
        # an unconfirmed post (an old page, a hand-made request) is sent there, and nothing changes.
        return redirect("indicators:coordination_round_confirm", code=network.code, period=period, action=action)
    try:
        if action == "deadline":
            form = DeadlineForm(request.POST)
            if not form.is_valid():
                raise round_services.RoundError(_("Give a valid date."))
            round_services.round_deadline_extend(
                round=round_, deadline=form.cleaned_data["deadline"], user=request.user
            )
            done = _("The deadline is extended.")
        elif action == "unpublish":
            form = UnpublishForm(request.POST)
            if not form.is_valid():
                raise round_services.RoundError(_("Say why the results are withdrawn."))
            round_services.round_unpublish(round=round_, reason=form.cleaned_data["reason"], user=request.user)
            done = _("The results are withdrawn from publication.")
        elif action in ROUND_ACTIONS:
            service, done = ROUND_ACTIONS[action]
            service(round=round_, user=request.user)
        else:
            raise Http404
    except round_services.RoundError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, str(done))
    return redirect("indicators:coordination_round", code=network.code, period=round_.period.label)
