from __future__ import annotations

from django.urls import path

from .views import coordination, excel, exports, official, review, submissions

app_name = "indicators"

urlpatterns = [
    path("rounds/mine/", submissions.my_rounds, name="my_rounds"),
    path("rounds/<id:round_pk>/municipalities/<str:code>/", submissions.submission_form, name="submission_form"),
    path(
        "rounds/<id:round_pk>/municipalities/<str:code>/check/",
        submissions.submission_value_check,
        name="submission_value_check",
    ),
    path(
        "rounds/<id:round_pk>/municipalities/<str:code>/withdraw/",
        submissions.submission_withdraw_post,
        name="submission_withdraw",
    ),
    path("rounds/<id:round_pk>/review/", review.round_matrix, name="round_matrix"),
    path(
        "rounds/<id:round_pk>/review/approve/confirm/",
        review.round_bulk_approve_confirm,
        name="round_bulk_approve_confirm",
    ),
    path("rounds/<id:round_pk>/review/approve/", review.round_bulk_approve, name="round_bulk_approve"),
    path("submissions/<id:pk>/review/", review.submission_review, name="submission_review"),
    path("submissions/<id:pk>/items/<id:item_pk>/queries/", submissions.value_query_post, name="value_query_post"),
    # Excel round trip and exports
    path("rounds/<id:round_pk>/municipalities/<str:code>/excel/", excel.excel_template, name="excel_template"),
    path("rounds/<id:round_pk>/municipalities/<str:code>/excel/upload/", excel.excel_upload, name="excel_upload"),
    path("rounds/<id:round_pk>/municipalities/<str:code>/excel/commit/", excel.excel_commit, name="excel_commit"),
    path("rounds/<id:round_pk>/values.<str:fmt>", exports.round_values_export, name="round_values_export"),
    # The coordinator's rounds and indicator set, beside the workspace's pages in networks/urls.py.
    path("coordination/<str:code>/indicators/", coordination.indicator_set, name="coordination_indicators"),
    path(
        "coordination/<str:code>/indicators/<str:indicator_code>/",
        coordination.indicator_edit,
        name="coordination_indicator_edit",
    ),
    path("coordination/<str:code>/official/", official.official_upload, name="official_upload"),
    path("coordination/<str:code>/official/confirm/", official.official_confirm, name="official_confirm"),
    path("coordination/<str:code>/rounds/new/", coordination.round_open, name="coordination_round_open"),
    path("coordination/<str:code>/rounds/<str:period>/", coordination.round_detail, name="coordination_round"),
    path(
        "coordination/<str:code>/rounds/<str:period>/<slug:action>/confirm/",
        coordination.round_action_confirm,
        name="coordination_round_confirm",
    ),
    path(
        "coordination/<str:code>/rounds/<str:period>/<slug:action>/",
        coordination.round_action,
        name="coordination_round_action",
    ),
]
