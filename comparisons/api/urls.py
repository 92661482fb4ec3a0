from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("networks/", views.NetworkList.as_view(), name="network_list"),
    path("indicators/", views.IndicatorList.as_view(), name="indicator_list"),
    path("results/", views.ResultList.as_view(), name="result_list"),
    path("composite/", views.CompositeList.as_view(), name="composite_list"),
]
