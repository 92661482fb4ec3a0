from __future__ import annotations

from django.urls import path

from . import views

app_name = "learning"

urlpatterns = [
    path("practice/", views.practice_list, name="practice_list"),
    path("practice/new/", views.practice_new, name="practice_new"),
    path("practice/<id:pk>/", views.practice_detail, name="practice_detail"),
    path("practice/<id:pk>/edit/", views.practice_edit, name="practice_edit"),
    path("practice/<id:pk>/publish/", views.practice_publish, name="practice_publish"),
    path("practice/<id:pk>/unpublish/", views.practice_unpublish, name="practice_unpublish"),
    path("practice/attachments/<id:pk>/", views.attachment_download, name="attachment_download"),
    path("practice/attachments/<id:pk>/delete/", views.attachment_delete, name="attachment_delete"),
    path("plans/", views.plan_list, name="plan_list"),
    path("plans/new/", views.plan_new, name="plan_new"),
    path("plans/<id:pk>/", views.plan_detail, name="plan_detail"),
    path("plans/<id:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<id:pk>/targets/", views.plan_target_add, name="plan_target_add"),
    path("plans/targets/<id:pk>/delete/", views.plan_target_delete, name="plan_target_delete"),
    path("plans/<id:pk>/actions/", views.plan_action_add, name="plan_action_add"),
    path("plans/actions/<id:pk>/", views.plan_action_edit, name="plan_action_edit"),
    path("networks/<str:code>/plans/", views.network_plans, name="network_plans"),
    path("networks/<str:code>/meetings/", views.meeting_list, name="meeting_list"),
    path("networks/<str:code>/meetings/new/", views.meeting_new, name="meeting_new"),
    path("networks/<str:code>/activity/", views.network_activity, name="network_activity"),
    path("networks/<str:code>/awards/", views.network_awards, name="network_awards"),
    path("meetings/<id:pk>/", views.meeting_detail, name="meeting_detail"),
    path("follow/<str:network>/<str:kind>/<str:code>/", views.follow, name="follow"),
    path("follows/", views.follow_list, name="follows"),
    path("follows/stop/<str:token>/", views.follows_stop, name="unsubscribe"),
    path("meetings/<id:pk>/edit/", views.meeting_edit, name="meeting_edit"),
]
