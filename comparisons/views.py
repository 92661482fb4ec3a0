from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from networks import permissions

from .models import RecomputeRun


@require_GET
def run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """A recompute run's state as JSON, for a page that polls it while the run computes."""
    run = get_object_or_404(RecomputeRun.objects.select_related("network", "period"), pk=pk)
    permissions.require(permissions.can_view_recompute_run(request.user, run.network))
    return JsonResponse(
        {
            "id": run.pk,
            "network": run.network.code,
            "period": run.period.label,
            "status": run.status,
            "status_label": run.get_status_display(),
            "progress": run.progress,
            "rows_written": run.rows_written,
            "requested_at": run.requested_at.isoformat(),
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "duration": run.duration,
            "finished": run.status in (RecomputeRun.Status.DONE, RecomputeRun.Status.FAILED),
            "error": run.error,
        }
    )
