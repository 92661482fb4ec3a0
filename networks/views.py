from __future__ import annotations

import logging
from urllib.parse import urlsplit

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render

from . import permissions, sections, selectors, throttles
from .attributes import attribute_rows
from .models import Municipality, Network

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "networks/home.html", {"networks": selectors.network_list()})


def municipality_list(request: HttpRequest) -> HttpResponse:
    include_former = request.GET.get("former") == "1"
    query = request.GET.get("q", "").strip()[:100]
    municipalities = selectors.municipality_list(include_former=include_former, query=query)
    return render(
        request,
        "networks/municipality_list.html",
        {"municipalities": municipalities, "include_former": include_former, "query": query},
    )


def municipality_detail(request: HttpRequest, code: str) -> HttpResponse:
    municipality = get_object_or_404(
        Municipality.objects.select_related("successor").prefetch_related("predecessors"), code=code
    )
    permissions.require(permissions.can_view_municipality(request.user, municipality))
    context = {
        "municipality": municipality,
        "memberships": selectors.municipality_memberships(municipality=municipality),
        "attributes": attribute_rows(municipality.attributes),
        "may_enter_data": permissions.is_staff_somewhere(request.user, municipality),
    }
    return render(request, "networks/municipality_detail.html", context)


def network_list(request: HttpRequest) -> HttpResponse:
    return render(request, "networks/network_list.html", {"networks": selectors.network_list()})


def network_detail(request: HttpRequest, code: str) -> HttpResponse:
    network = get_object_or_404(Network, code=code)
    permissions.require(permissions.can_view_network(request.user, network))
    members = list(selectors.network_members(network=network))
    is_member = permissions.is_network_member(request.user, network, {m.municipality_id for m in members})
    context = {
        "network": network,
        "members": members,
        "is_member": is_member,
        # Coordinators' names are for the network's own people, not the public.
        "coordinators": selectors.network_coordinators(network=network) if is_member else None,
        "may_coordinate": permissions.can_coordinate(request.user, network),
    }
    return render(request, "networks/network_detail.html", context)


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    permissions.require(permissions.can_use_workspace(request.user))
    roles = list(selectors.user_roles(user=request.user))
    permissions.remember_roles(request.user, ((r.kind, r.municipality_id, r.network_id) for r in roles))
    municipality_ids = {r.municipality_id for r in roles if r.municipality_id}
    context = {
        "roles": roles,
        "member_networks": selectors.member_networks_list(municipality_ids=municipality_ids),
        "is_administrator": permissions.is_administrator(request.user),
        "panels": sections.workspace_panels(request),
    }
    return render(request, "networks/my_work.html", context)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset by e-mail, throttled per e-mail address and per client address
    (`throttles.password_reset_allowed`: 3 and 10 an hour by default). django-axes throttles
    logins only: a reset request is no login attempt.

    A throttled request gets the same "sent" page as every other request, and no mail is sent.
    The page never says whether the address has an account; nor does it say that the limit was
    reached (a 429 would tell someone probing addresses when to slow down, and nobody waiting
    for a mail needs more than three an hour). Throttled requests are logged.
    """

    @property
    def extra_email_context(self) -> dict[str, str]:
        # The link under PORTAL_URL like every mail of the portal (networks.mail), not under the
        # Host header of whoever asked for the reset.
        portal = urlsplit(settings.PORTAL_URL)
        return {"protocol": portal.scheme, "domain": portal.netloc, "site_name": portal.netloc}

    def form_valid(self, form):
        client_ip = get_client_ip_address(self.request) or "unknown"
        if not throttles.password_reset_allowed(email=form.cleaned_data["email"], client_ip=client_ip):
            logger.warning("password reset throttled (client %s)", client_ip)
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)
