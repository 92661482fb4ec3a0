from __future__ import annotations

from django.urls import path

from . import views

app_name = "networks"

urlpatterns = [
    path("municipalities/", views.municipality_list, name="municipality_list"),
    path("municipalities/<str:code>/", views.municipality_detail, name="municipality_detail"),
    path("networks/", views.network_list, name="network_list"),
    path("networks/<str:code>/", views.network_detail, name="network_detail"),
    path("my/", views.my_work, name="my_work"),
]
