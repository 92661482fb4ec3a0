"""The Excel round trip of one submission: download the template, upload it, preview, commit."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from networks import permissions
from networks.models import Municipality

from .. import selectors
from ..models import Round, Submission
from ..services import excel
from ..services.periods import submission_get_or_create
from ..services.values import ConcurrentEditError

SESSION_KEY = "excel_upload_{pk}"


class TemplateUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Filled-in template (.xlsx)"),
        help_text=gettext_lazy("At most 5 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload the template as an .xlsx file."))
        if upload.size > excel.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(max)d MB.") % {"max": excel.MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


def _editable_submission(request: HttpRequest, round_pk: int, code: str) -> Submission:
    """The submission the user may fill in (created on first use by the municipality's staff); 403/404 otherwise."""
    try:
        round_ = selectors.round_get(pk=round_pk)
    except Round.DoesNotExist as exc:
        raise Http404 from exc
    municipality = get_object_or_404(Municipality, code=code)
    is_open = round_.status == Round.Status.OPEN
    submission = Submission.objects.filter(round=round_, municipality=municipality).first()
    if submission is None:
        member_ids = selectors.round_member_ids(round=round_)
        permissions.require(permissions.can_enter_data(request.user, municipality, round_.network))
        if municipality.pk not in member_ids or not is_open:
            raise Http404
        submission = submission_get_or_create(round=round_, municipality=municipality)
    permissions.require(
        permissions.can_edit_submission(request.user, municipality, round_.network, submission.status, is_open)
    )
    submission.round = round_
    submission.municipality = municipality
    return submission


@login_required
def excel_template(request: HttpRequest, round_pk: int, code: str) -> HttpResponse:
    submission = _editable_submission(request, round_pk, code)
    content = excel.template_build(
        submission=submission,
        items=selectors.round_items(round=submission.round),
        values=selectors.submission_values(submission=submission),
        previous=selectors.previous_values(submission=submission),
    )
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{excel.template_filename(submission=submission)}"'
    return response


@login_required
def excel_upload(request: HttpRequest, round_pk: int, code: str) -> HttpResponse:
    """GET: the upload form. POST: read the file and show the preview (nothing is saved yet)."""
    submission = _editable_submission(request, round_pk, code)
    form = TemplateUploadForm(request.POST or None, request.FILES or None)
    preview, status = _preview(request, submission, form) if request.method == "POST" else (None, 200)
    context = {
        "round": submission.round,
        "municipality": submission.municipality,
        "submission": submission,
        "form": form,
        "preview": preview,
        "form_url": reverse("indicators:submission_form", args=[submission.round.pk, submission.municipality.code]),
    }
    return render(request, "indicators/excel_upload.html", context, status=status)


def _preview(
    request: HttpRequest, submission: Submission, form: TemplateUploadForm
) -> tuple[excel.Preview | None, int]:
    """The uploaded file read against the stored values, and the page's status; a preview that
    may be saved is kept in the session for `excel_commit`."""
    preview = None
    if form.is_valid():
        try:
            preview = excel.upload_parse(
                submission=submission,
                content=form.cleaned_data["file"].read(),
                items=selectors.round_items(round=submission.round),
                values=selectors.submission_values(submission=submission),
            )
        except excel.TemplateRejected as exc:
            form.add_error("file", str(exc))
    if preview is None:
        return None, 400
    if preview.may_commit:
        request.session[SESSION_KEY.format(pk=submission.pk)] = preview.to_session()
        return preview, 200
    request.session.pop(SESSION_KEY.format(pk=submission.pk), None)
    return preview, 409 if preview.stale else 400 if preview.problems else 200


@require_POST
@login_required
def excel_commit(request: HttpRequest, round_pk: int, code: str) -> HttpResponse:
    submission = _editable_submission(request, round_pk, code)
    form_url = reverse("indicators:submission_form", args=[submission.round.pk, submission.municipality.code])
    data = request.session.pop(SESSION_KEY.format(pk=submission.pk), None)
    if not data or data.get("submission") != submission.pk:
        messages.error(request, _("There is no previewed upload to save: upload the template again."))
        return redirect(reverse("indicators:excel_upload", args=[submission.round.pk, submission.municipality.code]))
    try:
        changed = excel.upload_commit(submission=submission, user=request.user, data=data)
    except ConcurrentEditError:
        messages.error(
            request,
            _(
                "The submission was saved after this template was downloaded. Nothing of the upload was saved: "
                "download a new template and enter your changes again."
            ),
        )
        return redirect(form_url)
    messages.success(
        request,
        ngettext(
            "%(count)d value saved from the Excel file.", "%(count)d values saved from the Excel file.", len(changed)
        )
        % {"count": len(changed)},
    )
    return redirect(form_url)
