"""The coordinator workspace: a coordinator runs their own networks here, outside the admin.

Every view looks the network up by code and asks `permissions.can_coordinate`; every object
inside (a membership, a round, a person) is looked up *within* that network, so another
network's object is a 404 and another network is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from indicators.models import Indicator, Round
from indicators.services import rounds as round_services

from . import events, permissions, services
from .forms import (
    DeadlineForm,
    IndicatorForm,
    IndicatorSetForm,
    InvitationForm,
    MembershipAddForm,
    MembershipEndForm,
    NetworkForm,
    RegisterForm,
    RoundOpenForm,
    UnpublishForm,
)
from .models import Membership, Network, Role


def _network_for_coordinator(request: HttpRequest, code: str) -> Network:
    network = get_object_or_404(Network, code=code)
    permissions.require(permissions.can_coordinate(request.user, network))
    return network


def _round_of(network: Network, period: str) -> Round:
    return get_object_or_404(Round.objects.select_related("network", "period"), network=network, period__label=period)


@login_required
def coordination_home(request: HttpRequest) -> HttpResponse:
    permissions.require(permissions.can_create_network(request.user))
    if permissions.is_administrator(request.user):
        networks = Network.objects.order_by("code")
    else:
        networks = Network.objects.filter(pk__in=permissions.roles_of(request.user).coordinator_of).order_by("code")
    return render(request, "networks/coordination/home.html", {"networks": networks})


@login_required
def network_create(request: HttpRequest) -> HttpResponse:
    permissions.require(permissions.can_create_network(request.user))
    form = NetworkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            network = services.network_create(
                code=data.pop("code"), name=data.pop("name"), coordinator=request.user, **data
            )
        except services.CoordinationError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, _("Network %(code)s created.") % {"code": network.code})
            return redirect("networks:coordination_network", code=network.code)
    return render(request, "networks/coordination/form.html", {"form": form, "title": _("New network")})


@login_required
def coordination_network(request: HttpRequest, code: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    context = {
        "network": network,
        "memberships": network.memberships.select_related("municipality").order_by("left", "municipality__name"),
        "rounds": network.rounds.select_related("period").order_by("-period__start"),
        "invitations": network.invitations.select_related("municipality", "invited_by").order_by("-created_at")[:50],
        "indicator_links": network.indicator_set.select_related("indicator"),
        "member_form": MembershipAddForm(network=network),
    }
    return render(request, "networks/coordination/network.html", context)


@login_required
def network_edit(request: HttpRequest, code: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    form = NetworkForm(request.POST or None, instance=network)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        services.network_update(network=Network.objects.get(pk=network.pk), **data)
        if "policy" in data:
            # Whose values enter other networks' comparisons depends on it (after commit).
            events.publish(events.NETWORK_POLICY_CHANGED, network_id=network.pk)
        messages.success(request, _("Network saved."))
        return redirect("networks:coordination_network", code=form.cleaned_data["code"])
    return render(
        request, "networks/coordination/form.html", {"form": form, "network": network, "title": _("Edit network")}
    )


@login_required
@require_POST
def membership_add(request: HttpRequest, code: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    form = MembershipAddForm(request.POST, network=network)
    if form.is_valid():
        try:
            services.membership_add(
                network=network, municipality=form.cleaned_data["municipality"], joined=form.cleaned_data["joined"]
            )
        except services.CoordinationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Member added."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("networks:coordination_network", code=network.code)


@login_required
def membership_end(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    membership = get_object_or_404(Membership.objects.select_related("municipality"), network=network, pk=pk)
    form = MembershipEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_end(membership=membership, left=form.cleaned_data["left"])
        except services.CoordinationError as exc:
            form.add_error("left", str(exc))
        else:
            messages.success(request, _("Membership ended."))
            return redirect("networks:coordination_network", code=network.code)
    title = _("End the membership of %(municipality)s") % {"municipality": membership.municipality}
    return render(request, "networks/coordination/form.html", {"form": form, "network": network, "title": title})


@login_required
def invitation_new(request: HttpRequest, code: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    form = InvitationForm(request.POST or None, network=network)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                network=network,
                email=form.cleaned_data["email"],
                kind=form.cleaned_data["kind"],
                municipality=form.cleaned_data["municipality"],
                invited_by=request.user,
                accept_url_for=lambda token: request.build_absolute_uri(
                    reverse("networks:invitation_accept", kwargs={"token": token})
                ),
            )
        except services.CoordinationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("networks:coordination_network", code=network.code)
    return render(
        request, "networks/coordination/form.html", {"form": form, "network": network, "title": _("Invite a person")}
    )


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link: a signed-in person accepts; anyone else creates an account first."""
    invitation = services.invitation_for_token(token=token)
    if invitation is None:
        return render(request, "networks/coordination/invitation_invalid.html", status=404)
    form = None
    if request.method == "POST":
        if request.user.is_authenticated:
            user = request.user
        else:
            form = RegisterForm(request.POST)
            user = None
            if form.is_valid():
                try:
                    user = services.account_register(
                        username=form.cleaned_data["username"],
                        password=form.cleaned_data["password1"],
                        email=invitation.email,
                        first_name=form.cleaned_data["first_name"],
                        last_name=form.cleaned_data["last_name"],
                    )
                except services.CoordinationError as exc:
                    form.add_error("username", str(exc))
        if user is not None:
            try:
                services.invitation_accept(token=token, user=user)
            except services.CoordinationError as exc:
                messages.error(request, str(exc))
                return redirect("home")
            if not request.user.is_authenticated:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your new role is ready."))
            return redirect("networks:my_work")
    elif not request.user.is_authenticated:
        form = RegisterForm()
    return render(request, "networks/coordination/invitation_accept.html", {"invitation": invitation, "form": form})


@login_required
def people(request: HttpRequest, code: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    member_ids = set(network.memberships.active().values_list("municipality_id", flat=True))
    roles = (
        Role.objects.filter(municipality_id__in=member_ids)
        .select_related("user", "municipality")
        .order_by("municipality__name", "user__username")
    )
    return render(request, "networks/coordination/people.html", {"network": network, "roles": roles})


@login_required
@require_POST
def account_deactivate(request: HttpRequest, code: str, user_id: int) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    member_ids = set(network.memberships.active().values_list("municipality_id", flat=True))
    target = get_object_or_404(get_user_model(), pk=user_id, roles__municipality_id__in=member_ids, is_active=True)
    permissions.require(permissions.can_deactivate_account(request.user, network, target, member_ids))
    services.account_deactivate(network=network, user=target)
    messages.success(request, _("The account %(username)s is deactivated.") % {"username": target.get_username()})
    return redirect("networks:coordination_people", code=network.code)


@login_required
def indicator_set(request: HttpRequest, code: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    current = list(Indicator.objects.filter(network_links__network=network).order_by("network_links__position"))
    form = IndicatorSetForm(request.POST or None, initial={"indicators": current})
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["indicators"])
        # Keep the present order; newly chosen indicators go to the end.
        order = {indicator.pk: i for i, indicator in enumerate(current)}
        chosen.sort(key=lambda indicator: (order.get(indicator.pk, len(order)), indicator.code))
        services.network_indicators_set(network=network, indicators=chosen)
        messages.success(request, _("The indicator set is saved."))
        return redirect("networks:coordination_network", code=network.code)
    return render(
        request,
        "networks/coordination/indicator_set.html",
        {"form": form, "network": network, "current": current},
    )


@login_required
def indicator_edit(request: HttpRequest, code: str, indicator_code: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    indicator = get_object_or_404(
        Indicator.objects.prefetch_related(Prefetch("networks", queryset=Network.objects.only("pk"))),
        code=indicator_code,
        network_links__network=network,
    )
    permissions.require(permissions.can_edit_indicator(request.user, {n.pk for n in indicator.networks.all()}))
    form = IndicatorForm(request.POST or None, instance=indicator)
    if request.method == "POST" and form.is_valid():
        try:
            services.indicator_update(indicator=form.instance, user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Indicator %(code)s saved.") % {"code": indicator.code})
            return redirect("networks:coordination_network", code=network.code)
    title = _("Edit indicator %(code)s") % {"code": indicator.code}
    return render(request, "networks/coordination/form.html", {"form": form, "network": network, "title": title})


@login_required
def round_open(request: HttpRequest, code: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
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
            return redirect("networks:coordination_round", code=network.code, period=round_.period.label)
    return render(
        request, "networks/coordination/form.html", {"form": form, "network": network, "title": _("Open a round")}
    )


@login_required
def round_detail(request: HttpRequest, code: str, period: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    round_ = _round_of(network, period)
    context = {
        "network": network,
        "round": round_,
        "indicators": round_.indicators.all(),
        "history": round_.history.select_related("history_user").order_by("-history_date")[:50],
        "deadline_form": DeadlineForm(initial={"deadline": round_.deadline}),
        "unpublish_form": UnpublishForm(),
    }
    return render(request, "networks/coordination/round.html", context)


ROUND_ACTIONS = {
    "close": (round_services.round_close, gettext_lazy("The round is closed.")),
    "reopen": (round_services.round_reopen, gettext_lazy("The round is open again.")),
    "publish": (round_services.round_publish, gettext_lazy("The results are published.")),
}


@login_required
@require_POST
def round_action(request: HttpRequest, code: str, period: str, action: str) -> HttpResponse:
    network = _network_for_coordinator(request, code)
    round_ = _round_of(network, period)
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
    return redirect("networks:coordination_round", code=network.code, period=round_.period.label)
