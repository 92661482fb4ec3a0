from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworksConfig(AppConfig):
    name = "networks"
    verbose_name = _("Municipalities and networks")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.urls import register_converter

        from .backup import networks_export, networks_restore
        from .collation import register_sqlite_collation
        from .converters import IdConverter
        from .sections import backup_section_register

        # Before any URL conf is read: every app's ids in addresses are bounded.
        register_converter(IdConverter, "id")
        # SQLite has no Latvian collation of its own: each connection gets one (networks/collation.py).
        connection_created.connect(register_sqlite_collation, dispatch_uid="networks.latvian_collation")
        # The first section of a network's backup; the apps above add theirs in their ready().
        backup_section_register(name="networks", export=networks_export, restore=networks_restore)
