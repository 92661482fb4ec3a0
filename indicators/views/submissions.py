"""The staff's pages: my open rounds, the form of one municipality in one round, query messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from networks import permissions
from networks.models import Municipality

from .. import selectors
from ..forms import SubmissionForm, ValueQueryForm
from ..models import DataItem, Round, Submission
from ..services.periods import submission_get_or_create
from ..services.submissions import SubmissionInvalid, WorkflowError, submission_submit, value_query_add
from ..services.values import ConcurrentEditError, submission_values_save
from ._rows import RowSide, submission_rows


@login_required
def my_rounds(request: HttpRequest) -> HttpResponse:
    permissions.require(permissions.can_use_workspace(request.user))
    context = {
        "entries": selectors.staff_rounds(user=request.user),
        "coordinated": selectors.coordinated_rounds(user=request.user),
    }
    return render(request, "indicators/my_rounds.html", context)


def _round_or_404(pk: int) -> Round:
    try:
        return selectors.round_get(pk=pk)
    except Round.DoesNotExist as exc:
        raise Http404 from exc


def _submission_for(request: HttpRequest, round_: Round, municipality: Municipality) -> tuple[Submission, set[int]]:
    """The submission the user may see; created on first visit by the municipality's own staff."""
    member_ids = selectors.round_member_ids(round=round_)
    submission = Submission.objects.filter(round=round_, municipality=municipality).first()
    if submission is None:
        may_start = (
            municipality.pk in member_ids
            and round_.status == Round.Status.OPEN
            and permissions.can_enter_data(request.user, municipality, round_.network)
        )
        if not may_start:
            raise Http404
        submission = submission_get_or_create(round=round_, municipality=municipality)
    permissions.require(
        permissions.can_view_submission(request.user, round_.network, municipality, submission.status, member_ids)
    )
    submission.round = round_
    submission.municipality = municipality
    return submission, member_ids


@dataclass
class _Shown:
    """The form as the page shows it: after a GET, or after a POST that stays on the page."""

    form: SubmissionForm | None = None
    values: dict | None = None  # as read for the form (None: the rows read them)
    errors: dict[int, list[str]] = field(default_factory=dict)
    problems: list[int] = field(default_factory=list)  # the items that stop the submission
    status: int = 200


def submission_form(request: HttpRequest, round_pk: int, code: str) -> HttpResponse:
    """One page per municipality and round: the form while editable, the figures otherwise."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    round_ = _round_or_404(round_pk)
    municipality = get_object_or_404(Municipality, code=code)
    submission, _members = _submission_for(request, round_, municipality)
    editable = permissions.can_edit_submission(
        request.user, municipality, round_.network, submission.status, round_.status == Round.Status.OPEN
    )
    items = selectors.round_items(round=round_)
    shown = _Shown()
    if editable:
        shown.values = selectors.submission_values(submission=submission)
        data = request.POST if request.method == "POST" else None
        shown.form = SubmissionForm(data, items=items, values=shown.values, version=submission.version)
    elif request.method == "POST":
        permissions.require(False)
    if request.method == "POST":
        saved = _save(request, submission, items, shown)
        if isinstance(saved, HttpResponse):
            return saved
        shown = saved
    context = _form_context(request, submission, items, shown, editable)
    return render(request, "indicators/submission_form.html", context, status=shown.status)


def _save(request: HttpRequest, submission: Submission, items: list, shown: _Shown) -> HttpResponse | _Shown:
    """Save the posted values as a draft, then submit when asked: a redirect once done, else the
    form to show again (nothing saved on a field error or a concurrent edit)."""
    form = shown.form
    if not form.is_valid():
        messages.error(request, _("Nothing was saved: correct the values marked below."))
        return shown
    try:
        submission_values_save(
            submission=submission,
            user=request.user,
            values=form.inputs,
            expected_version=form.cleaned_data["version"],
        )
    except ConcurrentEditError as exc:
        # Nothing of this edit was saved: show what is stored now, with the reason.
        messages.error(request, str(exc))
        return _stored(submission, items, status=409)
    if request.POST.get("action") != "submit":
        messages.success(request, _("Saved as a draft."))
        return redirect(request.path)
    return _submit(request, submission, items)


def _submit(request: HttpRequest, submission: Submission, items: list) -> HttpResponse | _Shown:
    """Submit the saved draft: a redirect, or the form again with what stops the submission."""
    try:
        submission_submit(submission=submission, user=request.user)
    except SubmissionInvalid as exc:
        messages.warning(request, _("Your values are saved as a draft.") + " " + str(exc))
        shown = _stored(submission, items, errors=exc.check.errors)
        shown.problems = sorted(set(exc.check.errors) | exc.check.unexplained)
        return shown
    except WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Submitted. The coordinator will review your figures."))
    return redirect(request.path)


def _stored(submission: Submission, items: list, **shown) -> _Shown:
    """A fresh form of the values stored now."""
    submission.refresh_from_db(fields=["version", "status"])
    values = selectors.submission_values(submission=submission)
    return _Shown(form=SubmissionForm(items=items, values=values, version=submission.version), values=values, **shown)


def _form_context(request: HttpRequest, submission: Submission, items: list, shown: _Shown, editable: bool) -> dict:
    round_, municipality = submission.round, submission.municipality
    may_discuss = permissions.can_discuss_value(request.user, round_.network, municipality)
    groups = submission_rows(
        submission=submission,
        items=items,
        side=RowSide(request, submission, may_discuss),
        form=shown.form,
        errors=shown.errors,
        values=shown.values,
    )
    return {
        "round": round_,
        "municipality": municipality,
        "submission": submission,
        "form": shown.form,
        "editable": editable,
        "groups": groups,
        # Items that stop the submission, listed at the top with links to their fields.
        "problems": [item for item in items if item.pk in shown.problems],
        "events": selectors.submission_events(submission=submission),
        "history": selectors.submission_value_history(submission=submission),
        "may_review": permissions.can_review_submissions(request.user, round_.network),
        "may_discuss": may_discuss,
        "query_form": ValueQueryForm(),
    }


@require_POST
@login_required
def value_query_post(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """A message in the query thread of one value (coordinator ↔ staff)."""
    submission = get_object_or_404(Submission.objects.select_related("round__network", "municipality"), pk=pk)
    member_ids = selectors.round_member_ids(round=submission.round)
    permissions.require(
        permissions.can_view_submission(
            request.user, submission.round.network, submission.municipality, submission.status, member_ids
        )
    )
    permissions.require(permissions.can_discuss_value(request.user, submission.round.network, submission.municipality))
    item = get_object_or_404(DataItem, pk=item_pk)
    form = ValueQueryForm(request.POST)
    if form.is_valid():
        value_query_add(submission=submission, item=item, user=request.user, text=form.cleaned_data["text"])
        messages.success(request, _("Your message was added to the thread."))
    else:
        messages.error(request, _("Write a message."))
    if permissions.can_review_submissions(request.user, submission.round.network):
        target = reverse("indicators:submission_review", kwargs={"pk": submission.pk})
    else:
        target = reverse(
            "indicators:submission_form", kwargs={"round_pk": submission.round_id, "code": submission.municipality.code}
        )
    return redirect(f"{target}#item-{item.pk}")
