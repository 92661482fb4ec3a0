"""Words for what the workflow stores as fixed English keys, said in the reader's language.

The workflow writes a few texts of its own next to people's words: a round's history reason
(django-simple-history's `history_change_reason`, written by indicators/services/rounds.py:
"closed", "deadline extended to 2026-12-06", "unpublished: <the coordinator's words>") and the
message of a submission event made by an import ("imported from a file", "official statistics:
<table>"). Imports run from the command line, which speaks English, so the stored text is a key;
the pages translate it when they show it (templatetags/indicators_words.py), and a language
switch changes the words. Anything else (a person's message) is shown as written.
"""

from __future__ import annotations

import datetime
import re

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

# The message of the submission events an import of values makes (stored untranslated).
IMPORTED_FROM_A_FILE = gettext_noop("imported from a file")
_OFFICIAL = "official statistics: "
_DEADLINE = re.compile(r"deadline extended to (\d{4}-\d{2}-\d{2})")
_UNPUBLISHED = "unpublished: "


def round_reason_words(reason: str | None) -> str:
    """The words for a stored round-history reason; an unknown reason is shown as stored."""
    if not reason:
        return ""
    verbs = {
        "opened": pgettext("round history", "opened"),
        "closed": pgettext("round history", "closed"),
        "reopened": pgettext("round history", "reopened"),
        "published": pgettext("round history", "published"),
    }
    if reason in verbs:
        return verbs[reason]
    if match := _DEADLINE.fullmatch(reason):
        day = datetime.date.fromisoformat(match.group(1))
        return _("deadline extended to %(date)s") % {"date": date_format(day, "DATE_FORMAT")}
    if reason.startswith(_UNPUBLISHED):
        return _("publication withdrawn: %(reason)s") % {"reason": reason.removeprefix(_UNPUBLISHED)}
    return reason


def event_message_words(message: str | None) -> str:
    """A submission event's message: the import's own words translated, a person's as written."""
    if not message:
        return ""
    if message == IMPORTED_FROM_A_FILE:
        return _("imported from a file")
    if message.startswith(_OFFICIAL):
        return _("official statistics: %(table)s") % {"table": message.removeprefix(_OFFICIAL)}
    return message
