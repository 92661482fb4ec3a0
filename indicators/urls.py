from __future__ import annotations

from django.urls import path

from .views import excel, exports, review, submissions

app_name = "indicators"

urlpatterns = [
    path("rounds/mine/", submissions.my_rounds, name="my_rounds"),
    path("rounds/<id:round_pk>/municipalities/<str:code>/", submissions.submission_form, name="submission_form"),
    path("rounds/<id:round_pk>/review/", review.round_matrix, name="round_matrix"),
    path("rounds/<id:round_pk>/review/approve/", review.round_bulk_approve, name="round_bulk_approve"),
    path("submissions/<id:pk>/review/", review.submission_review, name="submission_review"),
    path("submissions/<id:pk>/items/<id:item_pk>/queries/", submissions.value_query_post, name="value_query_post"),
    # Excel round trip and exports (issue 3, part 5)
    path("rounds/<id:round_pk>/municipalities/<str:code>/excel/", excel.excel_template, name="excel_template"),
    path("rounds/<id:round_pk>/municipalities/<str:code>/excel/upload/", excel.excel_upload, name="excel_upload"),
    path("rounds/<id:round_pk>/municipalities/<str:code>/excel/commit/", excel.excel_commit, name="excel_commit"),
    path("rounds/<id:round_pk>/values.<str:fmt>", exports.round_values_export, name="round_values_export"),
]
