from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from networks import views as network_views

from .health import healthz

urlpatterns = [
    path("", network_views.home, name="home"),
    path("", include("networks.urls")),
    path("", include("indicators.urls")),
    path("learning/", include("learning.urls")),
    path("comparisons/", include("comparisons.urls")),
    path("api/", include("comparisons.api.urls")),
    # Before Django's own: the throttled password reset (networks.views.PasswordResetView).
    path("accounts/password_reset/", network_views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz/", healthz, name="healthz"),
]
