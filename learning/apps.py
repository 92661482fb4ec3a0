from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LearningConfig(AppConfig):
    name = "learning"
    verbose_name = _("Learning")

    def ready(self) -> None:
        # After the publication is committed: the digest e-mail of the network's news.
        from networks import events
        from networks.mail import language_source_register
        from networks.sections import backup_section_register

        from .backup import learning_export, learning_restore
        from .follows import follow_languages
        from .services import network_digest_after_publication

        events.subscribe(events.ROUND_PUBLISHED, network_digest_after_publication)
        # Its part of a network's backup: practice, plans and meetings.
        backup_section_register(name="learning", export=learning_export, restore=learning_restore)
        # The language a person chose to follow in: every e-mail of the portal is written in it.
        language_source_register(name="follows", source=follow_languages)
