"""Downloads of a round's values (CSV, XLSX)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

from networks import permissions

from .. import selectors
from ..models import Round, Submission
from ..services import exports

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def round_values_export(request: HttpRequest, round_pk: int, fmt: str) -> HttpResponse:
    """Coordinators get every value with its status; whoever may see the round's results, the approved ones."""
    if fmt not in CONTENT_TYPES:
        raise Http404
    try:
        round_ = selectors.round_get(pk=round_pk)
    except Round.DoesNotExist as exc:
        raise Http404 from exc
    if permissions.can_review_submissions(request.user, round_.network):
        statuses = None
    else:
        member_ids = selectors.round_member_ids(round=round_)
        permissions.require(permissions.can_view_round_results(request.user, round_, member_ids))
        statuses = [Submission.Status.APPROVED]
    values = exports.round_values(round=round_, statuses=statuses)
    build = exports.values_csv if fmt == "csv" else exports.values_xlsx
    response = HttpResponse(build(round=round_, values=values), content_type=CONTENT_TYPES[fmt])
    filename = exports.export_filename(round=round_, extension=fmt)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
