"""Template filters for the workflow's stored keys (indicators/words.py)."""

from __future__ import annotations

from django import template

from indicators.words import event_message_words, round_reason_words

register = template.Library()


@register.filter
def round_reason(reason: str | None) -> str:
    return round_reason_words(reason)


@register.filter
def event_message(message: str | None) -> str:
    return event_message_words(message)
