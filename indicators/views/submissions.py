"""The staff's pages: my open rounds, the form of one municipality in one round, query messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from networks import permissions
from networks.models import Municipality

from .. import selectors
from ..forms import SubmissionForm, ValueQueryForm
from ..models import DataItem, Round, Submission
from ..services.periods import submission_get_or_create
from ..services.submissions import (
    SubmissionInvalid,
    WorkflowError,
    submission_submit,
    submission_withdraw,
    value_query_add,
)
from ..services.values import ConcurrentEditError, submission_values_save
from ..validation import check_value_entered, check_value_soft
from ._rows import RowSide, StaffRow, state_words, submission_rows


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
    staff_row = StaffRow(RowSide(request, submission, may_discuss), shown.form if editable else None)
    groups = submission_rows(
        submission=submission,
        items=items,
        side=staff_row,
        errors=shown.errors,
        values=shown.values,
    )
    context = {
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
        "may_withdraw": permissions.can_withdraw_submission(
            request.user, municipality, round_.network, submission.status, round_.status == Round.Status.OPEN
        ),
        "query_form": ValueQueryForm(),
    }
    if editable:
        rows = [row for _theme, theme_rows in groups for row in theme_rows if row.item.pk in shown.form.item_ids]
        context["progress"] = progress_sentence(
            filled=sum(1 for row in rows if row.state not in ("empty", "error")),
            total=len(rows),
            warned=sum(1 for row in rows if row.state == "warning"),
        )
        context["entry_config"] = {
            "check": reverse(
                "indicators:submission_value_check", kwargs={"round_pk": round_.pk, "code": municipality.code}
            ),
            "words": state_words(),
            "warning": _("Warning"),
            "explain": _("Explain this value before submitting."),
            "failed": _("The value could not be checked now; it is checked again when you save."),
            "filled": _plural_table(_filled_words, len(rows)),
            "warned": _plural_table(_warned_words, len(rows)),
        }
    return context


# The sticky bar's count: "17 of 23 filled, 2 warnings need an explanation". Literal ngettext
# calls, so the catalogue has every form; the script gets each count's form (`_plural_table`).
def _filled_words(count: int) -> str:
    return ngettext("%(filled)s of %(total)s filled", "%(filled)s of %(total)s filled", count)


def _warned_words(count: int) -> str:
    return ngettext("%(warned)s warning needs an explanation", "%(warned)s warnings need an explanation", count)


def progress_sentence(*, filled: int, total: int, warned: int) -> str:
    """How far the form is, as the sticky bar says it (the script says it the same way)."""
    sentence = _filled_words(filled) % {"filled": filled, "total": total}
    if warned:
        sentence += ", " + _warned_words(warned) % {"warned": warned}
    return sentence


def _plural_table(words, upto: int) -> dict:
    """The texts of `words` for the counts 0..upto as distinct forms and, per count, the index of
    its form: the language's plural rule (Latvian has three forms) without a JavaScript catalogue."""
    forms: list[str] = []
    index: list[int] = []
    for count in range(upto + 1):
        text = words(count)
        if text not in forms:
            forms.append(text)
        index.append(forms.index(text))
    return {"forms": forms, "index": index}


def _existing_submission(request: HttpRequest, round_pk: int, code: str) -> tuple[Submission, Round]:
    """The submission behind a field check or a withdrawal, with its round: 404 when there is none
    (both need one that exists; the caller asks the permission)."""
    round_ = _round_or_404(round_pk)
    municipality = get_object_or_404(Municipality, code=code)
    submission = get_object_or_404(Submission, round=round_, municipality=municipality)
    submission.round, submission.municipality = round_, municipality
    return submission, round_


@require_POST
def submission_value_check(request: HttpRequest, round_pk: int, code: str) -> JsonResponse:
    """The checks of one typed value, as saving would make them, for the form's script when a field
    is left: the hard error (range, decimals) or the soft-check warnings. Saves nothing; saving and
    submitting check again (`SubmissionForm`, `submission_check`), so this only warns earlier.

    POST (the value stays out of URLs and logs): `item` (id) and `value` (as typed). Answers
    `{"state": "empty"|"filled"|"warning"|"error", "error": str|null, "warnings": [str]}`.
    """
    if not request.user.is_authenticated:
        return JsonResponse({"error": _("Log in again.")}, status=401)
    submission, round_ = _existing_submission(request, round_pk, code)
    permissions.require(
        permissions.can_edit_submission(
            request.user,
            submission.municipality,
            round_.network,
            submission.status,
            round_.status == Round.Status.OPEN,
        )
    )
    item = _asked_item(round_, request.POST.get("item", ""))
    raw = request.POST.get("value", "")[:60]
    checked = check_value_entered(item, raw)
    if checked.error:
        return JsonResponse({"state": "error", "error": checked.error, "warnings": []})
    if checked.number is None:
        return JsonResponse({"state": "empty", "error": None, "warnings": []})
    before = selectors.previous_values(submission=submission, item_ids=[item.pk]).get(item.pk)
    warnings = check_value_soft(
        item,
        checked.number,
        previous=None if before is None or before.is_missing else before.number,
        others=selectors.network_distribution(submission=submission, item_ids=[item.pk]).get(item.pk),
    )
    return JsonResponse({"state": "warning" if warnings else "filled", "error": None, "warnings": warnings})


def _asked_item(round_: Round, given: str) -> DataItem:
    """An entered data item the round asks, by id, or 404."""
    if not given.isdigit() or len(given) > 18:
        raise Http404
    for item in selectors.round_items(round=round_):
        if item.pk == int(given) and item.source == DataItem.Source.ENTERED:
            return item
    raise Http404


@require_POST
@login_required
def submission_withdraw_post(request: HttpRequest, round_pk: int, code: str) -> HttpResponse:
    """Take a submitted submission back to draft before its review (the municipality's own staff,
    after confirming on the form's page). Refused with 409 and the reason once the review started,
    it was returned or approved, or the round closed."""
    submission, round_ = _existing_submission(request, round_pk, code)
    permissions.require(permissions.can_enter_data(request.user, submission.municipality, round_.network))
    form_url = reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": code})
    if not request.POST.get("confirmed"):
        # An unconfirmed post (an old page, a hand-made request) changes nothing.
        messages.warning(request, _("Confirm that you want to withdraw the submission."))
        return redirect(f"{form_url}#withdraw")
    try:
        submission_withdraw(submission=submission, user=request.user)
    except WorkflowError as exc:
        messages.error(request, str(exc))
        items = selectors.round_items(round=round_)
        submission.refresh_from_db(fields=["status", "version"])
        editable = permissions.can_edit_submission(
            request.user, submission.municipality, round_.network, submission.status, round_.status == Round.Status.OPEN
        )
        shown = _Shown(status=409)
        if editable:
            shown.values = selectors.submission_values(submission=submission)
            shown.form = SubmissionForm(items=items, values=shown.values, version=submission.version)
        context = _form_context(request, submission, items, shown, editable)
        return render(request, "indicators/submission_form.html", context, status=409)
    messages.success(request, _("Withdrawn: the submission is a draft again; change it and submit it again."))
    return redirect(form_url)


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
