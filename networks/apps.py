from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworksConfig(AppConfig):
    name = "networks"
    verbose_name = _("Municipalities and networks")

    def ready(self) -> None:
        from django.urls import register_converter

        from .converters import IdConverter

        # Before any URL conf is read: every app's ids in addresses are bounded.
        register_converter(IdConverter, "id")
