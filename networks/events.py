"""Named events this app publishes for the apps above it, which it must not import.

The apps stand in layers (networks < indicators < comparisons < learning) and import only from
below. When a change here makes something a higher app derived untrue — a network's publication
policy decides whose values enter the other networks' wider peer groups — the change is published
as a named event, and the higher app subscribes to it in its `AppConfig.ready()`. Explicit calls
to grep for (`events.publish(`, `events.subscribe(`), not model signals.

Subscribers run after the current transaction commits (at once outside a transaction), and not at
all when it rolls back: they may enqueue work that reads what was committed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.db import transaction

# A network's publication policy changed. Payload: ``network_id``.
NETWORK_POLICY_CHANGED = "network_policy_changed"

_subscribers: dict[str, list[Callable[..., None]]] = {}


def subscribe(event: str, handler: Callable[..., None]) -> None:
    """Call ``handler(**payload)`` after every publication of ``event`` (once, however often
    `ready()` runs)."""
    handlers = _subscribers.setdefault(event, [])
    if handler not in handlers:
        handlers.append(handler)


def publish(event: str, **payload: object) -> None:
    """Tell the subscribers of ``event``, after commit."""
    for handler in list(_subscribers.get(event, ())):
        transaction.on_commit(partial(handler, **payload))
