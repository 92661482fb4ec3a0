"""What every e-mail of the portal shares: a link that leads to the page, in the reader's language.

- `absolute(path)`: the page's address under `settings.PORTAL_URL`. Never the request's host: a
  mail sent by a Celery task has no request, and a Host header is the client's to choose.
- `recipient_languages(user_ids)`: the language each person reads the portal in. The account holds
  no language of its own; the apps that know one register a source
  (`language_source_register` in `AppConfig.ready()`; learning: the language a person chose to
  follow in). Whoever no source knows gets the installation's language. docs/architecture.md,
  "E-mail".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings

# user ids -> {user id: language code} for the people the source knows
LanguageSource = Callable[[list[int]], dict[int, str]]

_language_sources: dict[str, LanguageSource] = {}


def absolute(path: str) -> str:
    """The absolute address of a page of the portal (`path` as `reverse` gives it)."""
    return settings.PORTAL_URL.rstrip("/") + path


def language_source_register(*, name: str, source: LanguageSource) -> None:
    """Register where an app knows people's languages from; registering a name again replaces it.
    Sources registered earlier win (the apps' order, the layers')."""
    _language_sources[name] = source


def recipient_languages(user_ids: Iterable[int]) -> dict[int, str]:
    """User id -> the language to write to them in: one of `settings.LANGUAGES`, the
    installation's `LANGUAGE_CODE` when no source knows it. One query per source."""
    ids = sorted(set(user_ids))
    known = {code for code, _name in settings.LANGUAGES}
    found: dict[int, str] = {}
    for source in _language_sources.values():
        missing = [pk for pk in ids if pk not in found]
        if not missing:
            break
        for pk, language in source(missing).items():
            language = (language or "").split("-")[0].lower()
            if language in known and pk not in found:
                found[pk] = language
    return {pk: found.get(pk, settings.LANGUAGE_CODE) for pk in ids}
