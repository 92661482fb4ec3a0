from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComparisonsConfig(AppConfig):
    name = "comparisons"
    verbose_name = _("Comparisons")

    def ready(self) -> None:
        # What the lower apps publish and the stored results depend on (see `triggers`). In the
        # publisher's transaction: the pending recompute is recorded with the change itself.
        from networks import events
        from networks.sections import workspace_panel_register

        from . import checks, landing, triggers  # noqa: F401 - checks registers the system checks

        events.subscribe(events.VALUES_CHANGED, triggers.results_stale, in_transaction=True)
        events.subscribe(events.NETWORK_CHANGED, triggers.results_stale_network, in_transaction=True)
        events.subscribe(events.NETWORK_POLICY_CHANGED, triggers.results_policy_changed, in_transaction=True)
        # The answer first: the own municipality's standing heads the landing page.
        workspace_panel_register(
            name="standing", template="comparisons/_landing.html", build=landing.landing_panel, order=10
        )
