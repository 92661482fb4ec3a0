from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("Indicators")

    def ready(self) -> None:
        from networks.sections import backup_section_register, demo_section_register, workspace_panel_register

        from . import landing
        from .backup import indicators_export, indicators_restore
        from .demo import demo_values_seed
        from .services.reform import reform_seed

        demo_section_register(name="indicators", seed=demo_values_seed)
        # After the figures, before the comparisons compute: pre-reform sums of additive items.
        demo_section_register(name="indicators-reform", seed=reform_seed)
        backup_section_register(name="indicators", export=indicators_export, restore=indicators_restore)
        # Tasks first: what the person must do heads the landing page, before where their
        # municipality stands (the comparisons' panel, order 10).
        workspace_panel_register(
            name="forms", template="indicators/_tasks_staff.html", build=landing.staff_panel, order=1
        )
        workspace_panel_register(
            name="reviews", template="indicators/_tasks_coordinator.html", build=landing.coordinator_panel, order=2
        )
