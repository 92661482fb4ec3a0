from __future__ import annotations

from django.urls import path

from . import views
from .dashboard_views import dashboards

app_name = "comparisons"

urlpatterns = [
    path("runs/<id:pk>/progress/", views.run_progress, name="run_progress"),
    # Dashboards: stored results only; the query string holds period, peer group, theme.
    path("dashboards/", dashboards.dashboard_index, name="index"),
    path("dashboards/<str:network>/", dashboards.network_overview, name="overview"),
    path("dashboards/<str:network>/map/", dashboards.network_map, name="map"),
    path("dashboards/<str:network>/indicators/<str:indicator>/", dashboards.indicator_comparison, name="indicator"),
    path("dashboards/<str:network>/municipalities/<str:code>/", dashboards.municipality_profile, name="profile"),
    path(
        "dashboards/<str:network>/municipalities/<str:code>/report/",
        dashboards.municipality_report,
        name="report",
    ),
]
