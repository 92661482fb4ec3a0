"""The coordinator workspace: a coordinator runs their own networks here, outside the admin.

Every view looks the network up by code and asks `permissions.can_coordinate`; every object
inside (a membership, a round, a person) is looked up *within* that network, so another
network's object is a 404 and another network is a 403.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import mail, permissions, services
from .collation import latvian
from .forms import (
    InvitationForm,
    MembershipAddForm,
    MembershipEndForm,
    NetworkForm,
    RegisterForm,
)
from .models import Membership, Network, Role


def network_for_coordinator(request: HttpRequest, code: str) -> Network:
    """The network by code, for one of its coordinators (or an administrator): 404 or 403 otherwise."""
    network = get_object_or_404(Network, code=code)
    permissions.require(permissions.can_coordinate(request.user, network))
    return network


@login_required
def coordination_home(request: HttpRequest) -> HttpResponse:
    permissions.require(permissions.can_use_coordination(request.user))
    if permissions.is_administrator(request.user):
        networks = Network.objects.order_by("code")
    else:
        networks = Network.objects.filter(pk__in=permissions.roles_of(request.user).coordinator_of).order_by("code")
    context = {"networks": networks, "may_create_network": permissions.can_create_network(request.user)}
    return render(request, "networks/coordination/home.html", context)


@login_required
def network_create(request: HttpRequest) -> HttpResponse:
    permissions.require(permissions.can_create_network(request.user))
    form = NetworkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            network = services.network_create(
                code=data.pop("code"), name=data.pop("name"), created_by=request.user, **data
            )
        except services.CoordinationError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, _("Network %(code)s created.") % {"code": network.code})
            return redirect("networks:coordination_network", code=network.code)
    return render(request, "networks/coordination/form.html", {"form": form, "title": _("New network")})


@login_required
def coordination_network(request: HttpRequest, code: str) -> HttpResponse:
    network = network_for_coordinator(request, code)
    context = {
        "network": network,
        "memberships": network.memberships.select_related("municipality").order_by(
            "left", latvian("municipality__name")
        ),
        "rounds": network.rounds.select_related("period").order_by("-period__start"),
        "invitations": network.invitations.select_related("municipality", "invited_by").order_by("-created_at")[:50],
        "indicator_links": network.indicator_set.select_related("indicator"),
        "member_form": MembershipAddForm(network=network),
    }
    return render(request, "networks/coordination/network.html", context)


@login_required
def network_edit(request: HttpRequest, code: str) -> HttpResponse:
    network = network_for_coordinator(request, code)
    form = NetworkForm(request.POST or None, instance=network)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        services.network_update(network=Network.objects.get(pk=network.pk), **data)
        messages.success(request, _("Network saved."))
        return redirect("networks:coordination_network", code=form.cleaned_data["code"])
    return render(
        request, "networks/coordination/form.html", {"form": form, "network": network, "title": _("Edit network")}
    )


@login_required
@require_POST
def membership_add(request: HttpRequest, code: str) -> HttpResponse:
    network = network_for_coordinator(request, code)
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
    network = network_for_coordinator(request, code)
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
    network = network_for_coordinator(request, code)
    form = InvitationForm(request.POST or None, network=network)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_create(
                network=network,
                email=form.cleaned_data["email"],
                kind=form.cleaned_data["kind"],
                municipality=form.cleaned_data["municipality"],
                invited_by=request.user,
                accept_url_for=lambda token: mail.absolute(
                    reverse("networks:invitation_accept", kwargs={"token": token})
                ),
                language=form.cleaned_data["language"],
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
    if request.user.is_authenticated and not services.invitation_is_for(invitation, request.user):
        # Not a bearer token: another signed-in account is told so, and nothing is granted.
        return render(
            request, "networks/coordination/invitation_accept.html", {"invitation": invitation, "wrong_account": True}
        )
    form = None
    if request.method == "POST":
        user, form = _accepting_user(request, invitation)
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


def _accepting_user(request: HttpRequest, invitation) -> tuple[AbstractBaseUser | None, RegisterForm | None]:
    """Who accepts: the signed-in person, or the account the posted form registers (None, with the
    form and its errors, when it does not)."""
    if request.user.is_authenticated:
        return request.user, None
    form = RegisterForm(request.POST)
    if not form.is_valid():
        return None, form
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
        return None, form
    return user, None


@login_required
def people(request: HttpRequest, code: str) -> HttpResponse:
    network = network_for_coordinator(request, code)
    permissions.require(permissions.can_manage_people(request.user, network))
    member_ids = set(network.memberships.active().values_list("municipality_id", flat=True))
    # The people this network's invitations made (names and e-mails are personal data: a role an
    # administrator gave for every network is not this network's to show or switch off).
    roles = (
        Role.objects.filter(municipality_id__in=member_ids, network=network)
        .select_related("user", "municipality")
        .order_by(
            latvian("municipality__name"), latvian("user__last_name"), latvian("user__first_name"), "user__username"
        )
    )
    context = {
        "network": network,
        "roles": roles,
        "installation_roles": Role.objects.filter(municipality_id__in=member_ids, network__isnull=True).count(),
    }
    return render(request, "networks/coordination/people.html", context)


@login_required
@require_POST
def account_deactivate(request: HttpRequest, code: str, user_id: int) -> HttpResponse:
    network = network_for_coordinator(request, code)
    member_ids = set(network.memberships.active().values_list("municipality_id", flat=True))
    target = get_object_or_404(
        get_user_model().objects.distinct(),
        pk=user_id,
        roles__municipality_id__in=member_ids,
        roles__network=network,
        is_active=True,
    )
    permissions.require(permissions.can_deactivate_account(request.user, network, target, member_ids))
    services.account_deactivate(network=network, user=target, by=request.user)
    messages.success(request, _("The account %(username)s is deactivated.") % {"username": target.get_username()})
    return redirect("networks:coordination_people", code=network.code)
