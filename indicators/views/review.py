"""The coordinator's pages: a round's review list (counts, filters, warnings), bulk approval with
its confirmation, the review of one submission."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from networks import permissions

from .. import selectors
from ..forms import BulkApproveForm, DecisionForm, ReviewFilterForm, ValueQueryForm
from ..models import Round, Submission
from ..services.submissions import (
    WorkflowError,
    submission_approve,
    submission_check,
    submission_return,
    submissions_bulk_approve,
)
from ._rows import RowSide, submission_rows


def _reviewable_round(request: HttpRequest, pk: int) -> Round:
    try:
        round_ = selectors.round_get(pk=pk)
    except Round.DoesNotExist as exc:
        raise Http404 from exc
    permissions.require(permissions.can_review_submissions(request.user, round_.network))
    return round_


@login_required
def round_matrix(request: HttpRequest, round_pk: int) -> HttpResponse:
    round_ = _reviewable_round(request, round_pk)
    review = selectors.round_review(round=round_)
    filters = ReviewFilterForm(request.GET)
    rows = filters.apply(review.rows)
    context = {
        "round": round_,
        "review": review,
        "rows": rows,
        "filters": filters,
        "status_counts": [
            (status, label, review.count(status)) for status, label in filters.fields["status"].choices if status
        ],
        "submitted_count": sum(1 for row in rows if row.status == Submission.Status.SUBMITTED),
    }
    return render(request, "indicators/round_matrix.html", context)


@login_required
def round_bulk_approve_confirm(request: HttpRequest, round_pk: int) -> HttpResponse:
    """The step between choosing and approving: the chosen submissions, those with unexplained
    warnings first, and one button that approves exactly these. Nothing changes here."""
    round_ = _reviewable_round(request, round_pk)
    review = selectors.round_review(round=round_)
    filters = ReviewFilterForm(request.GET)
    submitted = [row for row in filters.apply(review.rows) if row.status == Submission.Status.SUBMITTED]
    if request.GET.get("all"):
        chosen = submitted
    else:
        form = BulkApproveForm(
            request.GET, queryset=Submission.objects.filter(round=round_, status=Submission.Status.SUBMITTED)
        )
        ids = {s.pk for s in form.cleaned_data["submissions"]} if form.is_valid() else set()
        chosen = [row for row in review.rows if row.submission and row.submission.pk in ids]
    context = {
        "round": round_,
        "chosen": chosen,
        "warned": [row for row in chosen if row.unexplained],
    }
    return render(request, "indicators/round_bulk_approve_confirm.html", context)


@require_POST
@login_required
def round_bulk_approve(request: HttpRequest, round_pk: int) -> HttpResponse:
    round_ = _reviewable_round(request, round_pk)
    if not request.POST.get("confirmed"):
        # Approving is always confirmed on the page that lists the warnings: an unconfirmed post
        # (an old page, a hand-made request) is sent there with its choice, and nothing changes.
        query = urlencode([("submissions", pk) for pk in request.POST.getlist("submissions")])
        return redirect(f"{reverse('indicators:round_bulk_approve_confirm', args=[round_.pk])}?{query}")
    form = BulkApproveForm(
        request.POST, queryset=Submission.objects.filter(round=round_, status=Submission.Status.SUBMITTED)
    )
    if form.is_valid():
        count = submissions_bulk_approve(
            round=round_, user=request.user, submission_ids=[s.pk for s in form.cleaned_data["submissions"]]
        )
        messages.success(
            request,
            ngettext("%(count)d submission approved.", "%(count)d submissions approved.", count) % {"count": count},
        )
    else:
        messages.error(request, _("Choose the submitted submissions to approve."))
    return redirect("indicators:round_matrix", round_pk=round_.pk)


@login_required
def submission_review(request: HttpRequest, pk: int) -> HttpResponse:
    submission = get_object_or_404(
        Submission.objects.select_related("round__network", "round__period", "municipality"), pk=pk
    )
    permissions.require(permissions.can_review_submissions(request.user, submission.round.network))
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _decide(request, submission, form)
        return redirect(reverse("indicators:submission_review", kwargs={"pk": submission.pk}))
    context = _review_context(request, submission, form)
    return render(request, "indicators/submission_review.html", context)


def _decide(request: HttpRequest, submission: Submission, form: DecisionForm) -> None:
    message = form.cleaned_data["message"]
    try:
        if form.cleaned_data["decision"] == DecisionForm.APPROVE:
            submission_approve(submission=submission, user=request.user, message=message)
            messages.success(request, _("Approved."))
        else:
            submission_return(submission=submission, user=request.user, message=message)
            messages.success(request, _("Returned to the municipality with your message."))
    except WorkflowError as exc:
        messages.error(request, str(exc))


def _review_context(request: HttpRequest, submission: Submission, form: DecisionForm) -> dict:
    items = selectors.round_items(round=submission.round)
    values = selectors.submission_values(submission=submission)
    previous = selectors.previous_values(submission=submission)
    check = submission_check(submission=submission, items=items, values=values, previous=previous)
    rows = submission_rows(
        submission=submission,
        items=items,
        side=RowSide(request, submission, may_discuss=True),
        errors=check.errors,
        values=values,
        previous=previous,
        warnings=check.warnings,
    )
    return {
        "round": submission.round,
        "municipality": submission.municipality,
        "submission": submission,
        "groups": rows,
        "warning_count": sum(len(found) for found in check.warnings.values()),
        "events": selectors.submission_events(submission=submission),
        "history": selectors.submission_value_history(submission=submission),
        "decision_form": form,
        "may_decide": submission.status in (Submission.Status.SUBMITTED, Submission.Status.APPROVED),
        "may_discuss": True,
        "query_form": ValueQueryForm(),
    }
