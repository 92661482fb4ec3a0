"""Pages of the learning app: good practice, improvement plans, meetings, network activity."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from indicators.models import Indicator
from networks import permissions
from networks.collation import latvian
from networks.models import Membership, Municipality, Network

from . import follows, selectors, services
from .forms import (
    MeetingForm,
    PlanActionForm,
    PlanForm,
    PlanTargetForm,
    PracticeCaseForm,
    PracticeSearchForm,
    PublishForm,
)
from .models import ImprovementPlan, Meeting, PlanAction, PlanTarget, PracticeAttachment, PracticeCase


def _member_ids(network: Network) -> set[int]:
    return set(network.memberships.active().values_list("municipality_id", flat=True))


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- good practice -----------------------------------------------------------------------------


def practice_list(request: HttpRequest) -> HttpResponse:
    form = PracticeSearchForm(request.GET or None)
    filters: dict = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {
            "query": data["q"].strip(),
            "network_id": data["network"].pk if data["network"] else None,
            "indicator_id": data["indicator"].pk if data["indicator"] else None,
            "municipality_id": data["municipality"].pk if data["municipality"] else None,
        }
    cases = selectors.practice_search(user=request.user, **filters)[:100]
    context = {
        "form": form,
        "cases": cases,
        "may_submit": bool(permissions.roles_of(request.user).staff_of),
    }
    return render(request, "learning/practice_list.html", context)


def _submit_choices(user) -> tuple:
    """The municipalities and networks the person is staff in (the form checks the pair)."""
    roles = permissions.roles_of(user)
    municipalities = Municipality.objects.filter(pk__in=roles.staff_of).order_by(latvian("name"))
    memberships = Membership.objects.active().filter(municipality_id__in=roles.staff_of)
    network_ids = {n for n, m in memberships.values_list("network_id", "municipality_id") if m in roles.staff_in(n)}
    networks = Network.objects.filter(pk__in=network_ids).order_by("code")
    return municipalities, networks


@login_required
def practice_new(request: HttpRequest) -> HttpResponse:
    municipalities, networks = _submit_choices(request.user)
    permissions.require(municipalities.exists())
    form = PracticeCaseForm(
        request.POST or None, request.FILES or None, municipalities=municipalities, networks=networks
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        permissions.require(permissions.can_submit_practice(request.user, data["municipality"], data["network"]))
        try:
            case = services.practice_submit(
                user=request.user,
                municipality=data["municipality"],
                network=data["network"],
                fields=form.case_fields(),
                indicators=data["indicators"],
                tags=form.tags,
                files=data["files"],
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(request, _("Thank you: the case is submitted; a coordinator will publish it."))
            return redirect("learning:practice_detail", pk=case.pk)
    return render(request, "learning/practice_form.html", {"form": form, "title": _("Share a good practice")})


def _case(pk: int) -> PracticeCase:
    return get_object_or_404(selectors.practice_detail_queryset(), pk=pk)


def practice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(pk)
    permissions.require(permissions.can_view_practice(request.user, case, _member_ids(case.network)))
    context = {
        "case": case,
        "may_edit": permissions.can_edit_practice(request.user, case),
        "may_publish": permissions.can_publish_practice(request.user, case),
        "publish_form": PublishForm(initial={"visibility": case.visibility}),
    }
    return render(request, "learning/practice_detail.html", context)


@login_required
def practice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(pk)
    permissions.require(permissions.can_edit_practice(request.user, case))
    networks = Network.objects.filter(pk=case.network_id)
    form = PracticeCaseForm(
        request.POST or None,
        request.FILES or None,
        instance=case,
        municipalities=Municipality.objects.filter(pk=case.municipality_id),
        networks=networks,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.practice_update(
                case=case,
                user=request.user,
                fields=form.case_fields(),
                indicators=form.cleaned_data["indicators"],
                tags=form.tags,
                files=form.cleaned_data["files"],
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(request, _("The case is saved."))
            return redirect("learning:practice_detail", pk=case.pk)
    return render(
        request, "learning/practice_form.html", {"form": form, "case": case, "title": _("Edit a good practice")}
    )


@login_required
@require_POST
def practice_publish(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(pk)
    permissions.require(permissions.can_publish_practice(request.user, case))
    form = PublishForm(request.POST)
    if form.is_valid():
        services.practice_publish(case=case, user=request.user, visibility=form.cleaned_data["visibility"])
        messages.success(request, _("The case is published."))
    return redirect("learning:practice_detail", pk=case.pk)


@login_required
@require_POST
def practice_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case(pk)
    permissions.require(permissions.can_publish_practice(request.user, case))
    services.practice_unpublish(case=case, user=request.user)
    messages.success(request, _("The case is no longer published."))
    return redirect("learning:practice_detail", pk=case.pk)


def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Attachments have no public URL: every download asks the permissions module first."""
    attachment = get_object_or_404(PracticeAttachment.objects.select_related("case__network"), pk=pk)
    case = attachment.case
    permissions.require(permissions.can_view_practice(request.user, case, _member_ids(case.network)))
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type)


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(PracticeAttachment.objects.select_related("case__network"), pk=pk)
    permissions.require(permissions.can_edit_practice(request.user, attachment.case))
    services.attachment_delete(attachment=attachment)
    messages.success(request, _("The attachment is removed."))
    return redirect("learning:practice_detail", pk=attachment.case_id)


# --- improvement plans -------------------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    roles = permissions.roles_of(request.user)
    context = {
        "plans": selectors.plans_of_user(user=request.user),
        "coordinated": Network.objects.filter(pk__in=roles.coordinator_of).order_by("code"),
        "may_create": bool(roles.staff_of),
    }
    return render(request, "learning/plan_list.html", context)


@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    municipalities, networks = _submit_choices(request.user)
    permissions.require(municipalities.exists())
    form = PlanForm(request.POST or None, municipalities=municipalities, networks=networks)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        permissions.require(permissions.can_create_plan(request.user, data["municipality"], data["network"]))
        try:
            plan = services.plan_create(
                municipality=data["municipality"],
                network=data["network"],
                title=data["title"],
                description=data["description"],
                user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            if data["status"] != plan.status:
                services.plan_update(plan=plan, user=request.user, status=data["status"])
            return redirect("learning:plan_detail", pk=plan.pk)
    return render(request, "learning/form.html", {"form": form, "title": _("New improvement plan")})


def _plan(pk: int) -> ImprovementPlan:
    return get_object_or_404(selectors.plan_detail_queryset(), pk=pk)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(pk)
    permissions.require(permissions.can_view_plan(request.user, plan))
    may_edit = permissions.can_edit_plan(request.user, plan)
    context = {
        "plan": plan,
        "targets": selectors.plan_targets_progress(user=request.user, plan=plan),
        "may_edit": may_edit,
        "target_form": PlanTargetForm(network=plan.network, prefix="target") if may_edit else None,
        "action_form": PlanActionForm(prefix="action") if may_edit else None,
    }
    return render(request, "learning/plan_detail.html", context)


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(pk)
    permissions.require(permissions.can_edit_plan(request.user, plan))
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        services.plan_update(plan=plan, user=request.user, **{n: form.cleaned_data[n] for n in form.changed_data})
        return redirect("learning:plan_detail", pk=plan.pk)
    return render(request, "learning/form.html", {"form": form, "title": _("Edit the improvement plan")})


@login_required
@require_POST
def plan_target_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(pk)
    permissions.require(permissions.can_edit_plan(request.user, plan))
    form = PlanTargetForm(request.POST, network=plan.network, prefix="target")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.plan_target_set(
                plan=plan,
                indicator=data["indicator"],
                target_value=data["target_value"],
                target_period_label=data["target_period"],
                baseline=data["baseline"],
                baseline_period_label=data["baseline_period"],
            )
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("The target is saved."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("learning:plan_detail", pk=plan.pk)


@login_required
@require_POST
def plan_target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(PlanTarget.objects.select_related("plan__network"), pk=pk)
    permissions.require(permissions.can_edit_plan(request.user, target.plan))
    services.plan_target_delete(target=target)
    return redirect("learning:plan_detail", pk=target.plan_id)


@login_required
@require_POST
def plan_action_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(pk)
    permissions.require(permissions.can_edit_plan(request.user, plan))
    form = PlanActionForm(request.POST, prefix="action")
    if form.is_valid():
        action = services.plan_action_add(
            plan=plan,
            description=form.cleaned_data["description"],
            owner=form.cleaned_data["owner"],
            due_date=form.cleaned_data["due_date"],
        )
        if form.cleaned_data["status"] != action.status:
            services.plan_action_update(action=action, status=form.cleaned_data["status"])
        messages.success(request, _("The action is added."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("learning:plan_detail", pk=plan.pk)


@login_required
def plan_action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(PlanAction.objects.select_related("plan__network"), pk=pk)
    permissions.require(permissions.can_edit_plan(request.user, action.plan))
    form = PlanActionForm(request.POST or None, instance=action)
    if request.method == "POST" and form.is_valid():
        services.plan_action_update(action=action, **{n: form.cleaned_data[n] for n in form.changed_data})
        return redirect("learning:plan_detail", pk=action.plan_id)
    return render(request, "learning/form.html", {"form": form, "title": _("Edit the action")})


@login_required
def network_plans(request: HttpRequest, code: str) -> HttpResponse:
    network = get_object_or_404(Network, code=code)
    permissions.require(permissions.can_coordinate(request.user, network))
    plans = list(selectors.plans_of_network(network=network))
    by_plan = selectors.network_plans_progress(user=request.user, network=network)
    for plan in plans:
        plan.progress_targets = by_plan.get(plan.pk, [])
    targets = [t for ts in by_plan.values() for t in ts]
    met = sum(1 for t in targets if t.progress.met)
    context = {"network": network, "plans": plans, "targets_met": met, "targets_total": len(targets)}
    return render(request, "learning/network_plans.html", context)


# --- meetings and activity ---------------------------------------------------------------------


def _people_queryset(network: Network):
    """Who may attend: the people of the member municipalities and the coordinators."""
    members = network.memberships.active().values("municipality_id")
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(roles__municipality_id__in=members) | Q(roles__network=network))
        .distinct()
        .order_by(latvian("last_name"), latvian("first_name"), "username")
    )


@login_required
def meeting_list(request: HttpRequest, code: str) -> HttpResponse:
    network = get_object_or_404(Network, code=code)
    permissions.require(permissions.can_view_meetings(request.user, network, _member_ids(network)))
    context = {
        "network": network,
        "meetings": selectors.meetings_of_network(network=network),
        "may_coordinate": permissions.can_coordinate(request.user, network),
    }
    return render(request, "learning/meeting_list.html", context)


@login_required
def meeting_new(request: HttpRequest, code: str) -> HttpResponse:
    network = get_object_or_404(Network, code=code)
    permissions.require(permissions.can_coordinate(request.user, network))
    return _meeting_form(request, network, None)


@login_required
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("network"), pk=pk)
    permissions.require(permissions.can_coordinate(request.user, meeting.network))
    return _meeting_form(request, meeting.network, meeting)


def _meeting_form(request: HttpRequest, network: Network, meeting: Meeting | None) -> HttpResponse:
    form = MeetingForm(request.POST or None, instance=meeting, network=network, people=_people_queryset(network))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        attendees = data.pop("attendees")
        try:
            meeting = services.meeting_save(network=network, meeting=meeting, attendees=attendees, **data)
        except ValidationError as exc:
            form.add_error(None, _errors(exc))
        else:
            messages.success(request, _("The meeting is saved."))
            return redirect("learning:meeting_detail", pk=meeting.pk)
    title = _("Edit the meeting") if meeting else _("New meeting")
    return render(request, "learning/form.html", {"form": form, "title": title, "network": network})


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.select_related("network", "host").prefetch_related("attendees"), pk=pk)
    network = meeting.network
    permissions.require(permissions.can_view_meetings(request.user, network, _member_ids(network)))
    context = {"meeting": meeting, "may_coordinate": permissions.can_coordinate(request.user, network)}
    return render(request, "learning/meeting_detail.html", context)


def network_activity(request: HttpRequest, code: str) -> HttpResponse:
    """Rounds, published results, new practice and meetings; the public sees the public part."""
    network = get_object_or_404(Network, code=code)
    permissions.require(permissions.can_view_network(request.user, network))
    is_member = permissions.is_network_member(request.user, network, _member_ids(network))
    activity = selectors.network_activity(network=network, public_only=not is_member)
    context = {"network": network, "activity": activity, "is_member": is_member}
    return render(request, "learning/activity.html", context)


def network_awards(request: HttpRequest, code: str) -> HttpResponse:
    """Per indicator and period the best performer and the most improved member, from stored
    results of the rounds the person may see (anonymous: published rounds of a public network)."""
    network = get_object_or_404(Network, code=code)
    permissions.require(permissions.can_view_network(request.user, network))
    context = {"network": network, "awards": selectors.network_awards(user=request.user, network=network)}
    return render(request, "learning/awards.html", context)


# --- following a municipality or an indicator --------------------------------------------------


@require_POST
@login_required
def follow(request: HttpRequest, network: str, kind: str, code: str) -> HttpResponse:
    """Follow (``action=follow``) or stop following (``action=stop``) a member municipality or an
    indicator of the network's set."""
    network_obj = get_object_or_404(Network, code=network)
    if kind == "municipality":
        subject = {"municipality": get_object_or_404(Municipality, code=code, memberships__network=network_obj)}
    elif kind == "indicator":
        subject = {"indicator": get_object_or_404(Indicator, code=code, network_links__network=network_obj)}
    else:
        raise Http404
    following = request.POST.get("action", "follow") != "stop"
    try:
        follows.follow_set(
            user=request.user, network=network_obj, following=following, language=request.LANGUAGE_CODE, **subject
        )
    except follows.FollowError as error:
        raise PermissionDenied from error
    if following:
        messages.success(request, _("You follow it now: you get an e-mail when new results are published."))
    else:
        messages.info(request, _("You no longer follow it."))
    target = request.POST.get("next", "")
    host, secure = request.get_host(), request.is_secure()
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={host}, require_https=secure)
    if not safe:
        target = reverse("learning:follows")
    return redirect(target)


@login_required
def follow_list(request: HttpRequest) -> HttpResponse:
    """What the person follows, each with a button to stop."""
    return render(request, "learning/follow_list.html", {"follows": follows.follows_of(user=request.user)})


def follows_stop(request: HttpRequest, token: str) -> HttpResponse:
    """One click from the e-mail: every follow of the person stops (no sign-in needed)."""
    stopped = follows.unsubscribe(token[:400])
    if stopped is None:
        return render(request, "learning/follows_stopped.html", {"invalid": True}, status=400)
    return render(request, "learning/follows_stopped.html", {"stopped": stopped})
