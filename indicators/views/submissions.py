"""The staff's pages: my open rounds, the form of one municipality in one round, query messages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import normalize_newlines
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from networks import permissions
from networks.models import Municipality

from .. import selectors
from ..forms import SubmissionForm, ValueQueryForm
from ..models import DataItem, Round, Submission
from ..services.periods import submission_get_or_create
from ..services.submissions import SubmissionInvalid, WorkflowError, submission_submit, value_query_add
from ..services.values import ConcurrentEditError, submission_values_save
from ._rows import submission_rows


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
    form = None
    values = None
    errors: dict[int, list[str]] = {}
    problems: list[int] = []
    status = 200
    if editable:
        values = selectors.submission_values(submission=submission)
        form = SubmissionForm(
            request.POST if request.method == "POST" else None,
            items=items,
            values=values,
            version=submission.version,
        )
    elif request.method == "POST":
        permissions.require(False)
    if request.method == "POST" and form is not None:
        if form.is_valid():
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
                submission.refresh_from_db(fields=["version", "status"])
                values = selectors.submission_values(submission=submission)
                form = SubmissionForm(items=items, values=values, version=submission.version)
                status = 409
            else:
                if request.POST.get("action") != "submit":
                    messages.success(request, _("Saved as a draft."))
                    return redirect(request.path)
                try:
                    submission_submit(submission=submission, user=request.user)
                except SubmissionInvalid as exc:
                    messages.warning(request, _("Your values are saved as a draft.") + " " + str(exc))
                    errors = exc.check.errors
                    problems = sorted(set(exc.check.errors) | exc.check.unexplained)
                    submission.refresh_from_db(fields=["version", "status"])
                    values = selectors.submission_values(submission=submission)
                    form = SubmissionForm(items=items, values=values, version=submission.version)
                except WorkflowError as exc:
                    messages.error(request, str(exc))
                    return redirect(request.path)
                else:
                    messages.success(request, _("Submitted. The coordinator will review your figures."))
                    return redirect(request.path)
        else:
            messages.error(request, _("Nothing was saved: correct the values marked below."))
    groups = submission_rows(submission=submission, items=items, form=form, errors=errors, values=values)
    may_discuss = permissions.can_discuss_value(request.user, round_.network, municipality)
    # Each row's markup is built here, not by crispy and includes per row (issue 7: the page took
    # ~850 ms at 200 items): its fields (SubmissionForm.fields_html) and its side column.
    side = _RowSide(request, submission, may_discuss)
    for _theme, rows in groups:
        for row in rows:
            row.side_html = side.html(row)
            if form is not None and row.fields:
                row.fields_html = form.fields_html(row.item)
    context = {
        "round": round_,
        "municipality": municipality,
        "submission": submission,
        "form": form,
        "editable": editable,
        "groups": groups,
        # Items that stop the submission, listed at the top with links to their fields.
        "problems": [item for item in items if item.pk in problems],
        "events": selectors.submission_events(submission=submission),
        "history": selectors.submission_value_history(submission=submission),
        "may_review": permissions.can_review_submissions(request.user, round_.network),
        "may_discuss": may_discuss,
        "query_form": ValueQueryForm(),
    }
    return render(request, "indicators/submission_form.html", context, status=status)


class _RowSide:
    """The side column of a row of the staff form: the markup of _row_info.html and _thread.html
    (the review page's includes; keep the two in step), built in Python with the texts every row
    repeats translated once, the question form's URL reversed once and one CSRF field. At 200 items
    the includes cost ~0.1 ms per row. indicators/tests/test_form_rendering.py compares the page
    with the rendering before (templates/indicators/tests/)."""

    def __init__(self, request: HttpRequest, submission: Submission, may_discuss: bool) -> None:
        self.may_discuss = may_discuss
        self.unit = _("Unit")
        self.last_period = _("Last period")
        self.not_known = _("not known")
        self.warning = _("Warning")
        self.explain = _("Explain this value before submitting.")
        self.ask = _("Ask a question about this value")
        self.question = _("Question or answer about this value")
        self.send = _("Send")
        self.unknown = _("unknown")
        url = reverse("indicators:value_query_post", kwargs={"pk": submission.pk, "item_pk": 0})
        self.action_prefix, self.action_suffix = url.rsplit("/0/", 1)
        self.csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))

    def html(self, row) -> SafeString:
        pk = row.item.pk
        parts = ['<dl class="small mb-1">\n  ']
        if row.item.unit:
            unit = escape(row.item.unit)
            parts.append(f'<div><dt class="d-inline">{escape(self.unit)}:</dt> <dd class="d-inline">{unit}</dd></div>')
        label = f" ({escape(row.previous_label)})" if row.previous_label else ""
        parts.append(
            f'\n  <div><dt class="d-inline">{escape(self.last_period)}{label}:</dt>\n'
            f'  <dd class="d-inline">{escape(row.previous or self.not_known)}</dd></div>\n</dl>\n'
        )
        for error in row.errors:
            parts.append(f'<div class="alert alert-danger py-1 px-2 small mb-1" role="alert">{escape(error)}</div>')
        parts.append("\n")
        for warning in row.warnings:
            parts.append(
                f'<div class="alert alert-warning py-1 px-2 small mb-1">{escape(self.warning)}: {escape(warning)}</div>'
            )
        parts.append("\n")
        if row.needs_explanation:
            parts.append(f'<div class="small text-danger fw-semibold mb-1">{escape(self.explain)}</div>')
        parts.append("\n")
        if row.thread or self.may_discuss:
            if row.thread:
                count = len(row.thread)
                summary = ngettext(
                    "%(counter)s message about this value", "%(counter)s messages about this value", count
                ) % {"counter": localize(count)}
            else:
                summary = self.ask
            parts.append(
                f'<details class="mt-2"{" open" if row.thread else ""}>\n'
                f'  <summary class="small">{escape(summary)}</summary>\n  <ul class="list-unstyled small mb-2">\n'
            )
            for query in row.thread:
                author = query.author
                name = (author.get_full_name() or author.get_username()) if author else ""
                at = date_format(timezone.localtime(query.at), "DATETIME_FORMAT")
                text = escape(normalize_newlines(query.text)).replace("\n", "<br>")
                parts.append(
                    f'    <li class="border-start ps-2 mb-1"><strong>{escape(name or self.unknown)}</strong>'
                    f' <span class="text-muted">{escape(at)}</span><br>{text}</li>\n'
                )
            parts.append("  </ul>\n")
            if self.may_discuss:
                action = escape(f"{self.action_prefix}/{pk}/{self.action_suffix}")
                parts.append(
                    f'  <form method="post" action="{action}">\n    {self.csrf}\n'
                    f'    <label class="form-label small" for="query-{pk:d}">{escape(self.question)}</label>\n'
                    f'    <textarea class="form-control form-control-sm mb-1" id="query-{pk:d}" name="text" rows="2"'
                    ' maxlength="4000" required></textarea>\n'
                    f'    <button type="submit" class="btn btn-sm btn-outline-secondary">{escape(self.send)}</button>\n'
                    "  </form>\n"
                )
            parts.append("</details>\n")
        # Safe: every text above (unit, labels, errors, warnings, thread, URL) went through escape();
        # the CSRF field comes from format_html, ids are integers, the rest is fixed markup.
        return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703


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
