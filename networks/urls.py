from __future__ import annotations

from django.urls import path

from . import views, views_coordination

app_name = "networks"

urlpatterns = [
    path("municipalities/", views.municipality_list, name="municipality_list"),
    path("municipalities/<str:code>/", views.municipality_detail, name="municipality_detail"),
    path("networks/", views.network_list, name="network_list"),
    path("networks/<str:code>/", views.network_detail, name="network_detail"),
    path("my/", views.my_work, name="my_work"),
    # The coordinator workspace; its rounds and indicator set are in indicators/urls.py.
    path("coordination/", views_coordination.coordination_home, name="coordination_home"),
    path("coordination/networks/new/", views_coordination.network_create, name="coordination_network_create"),
    path("coordination/<str:code>/", views_coordination.coordination_network, name="coordination_network"),
    path("coordination/<str:code>/edit/", views_coordination.network_edit, name="coordination_network_edit"),
    path("coordination/<str:code>/members/add/", views_coordination.membership_add, name="coordination_member_add"),
    path(
        "coordination/<str:code>/members/<id:pk>/end/",
        views_coordination.membership_end,
        name="coordination_member_end",
    ),
    path("coordination/<str:code>/invite/", views_coordination.invitation_new, name="coordination_invite"),
    path("coordination/<str:code>/people/", views_coordination.people, name="coordination_people"),
    path(
        "coordination/<str:code>/people/<id:user_id>/deactivate/",
        views_coordination.account_deactivate,
        name="coordination_deactivate",
    ),
    path("invitation/<str:token>/", views_coordination.invitation_accept, name="invitation_accept"),
]
