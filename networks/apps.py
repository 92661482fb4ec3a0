from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworksConfig(AppConfig):
    name = "networks"
    verbose_name = _("Municipalities and networks")

    def ready(self) -> None:
        from django.urls import register_converter

        from .backup import networks_export, networks_restore
        from .converters import IdConverter
        from .sections import backup_section_register

        # Before any URL conf is read: every app's ids in addresses are bounded.
        register_converter(IdConverter, "id")
        # The first section of a network's backup; the apps above add theirs in their ready().
        backup_section_register(name="networks", export=networks_export, restore=networks_restore)
