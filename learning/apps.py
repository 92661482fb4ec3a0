from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = _("Learning")

    def ready(self) -> None:
        # After the publication is committed: the digest e-mail of the network's news.
        from networks import events

        from .services import network_digest_after_publication

        events.subscribe(events.ROUND_PUBLISHED, network_digest_after_publication)
