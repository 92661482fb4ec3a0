"""Named events a lower app publishes for the apps above it, which it must not import.

The apps stand in layers (networks < indicators < comparisons < learning) and import only from
below (docs/architecture.md). When a change in a lower app makes something a higher app derived
untrue — approved values changed, a round was published, a catalogue entry changed, a network's
publication policy changed — the lower app's service publishes a named event and the higher app
subscribes to it in its `AppConfig.ready()`. Explicit calls to grep for (`events.publish(`,
`events.subscribe(`), not model signals.

Delivery: a subscriber runs after the publishing transaction commits (at once outside a
transaction), and not at all when it rolls back — the default, for work that leaves the
database (a Celery task, an e-mail). A subscriber that records what must not be lost (the
comparisons app's pending recompute) subscribes with ``in_transaction=True``: it runs at once,
inside the publisher's transaction, so its record commits or rolls back with the change; it
defers to the commit whatever leaves the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import transaction

# The approved values of a round changed: approved, returned, edited, imported, published or
# withdrawn. Payload: ``round_id``, ``item_ids`` (a list, or None for every item).
VALUES_CHANGED = "values_changed"
# Something every result of a network depends on changed (its indicator set, an indicator's
# formula, polarity or place and weight in the composite index). Payload: ``network_id``,
# ``period_id`` (None: every period), ``reason``.
NETWORK_CHANGED = "network_changed"
# A network's publication policy changed. Payload: ``network_id``.
NETWORK_POLICY_CHANGED = "network_policy_changed"
# A round was published. Payload: ``round_id``.
ROUND_PUBLISHED = "round_published"

EVENTS = frozenset({VALUES_CHANGED, NETWORK_CHANGED, NETWORK_POLICY_CHANGED, ROUND_PUBLISHED})


@dataclass(frozen=True)
class _Subscription:
    handler: Callable[..., None]
    in_transaction: bool


_subscribers: dict[str, list[_Subscription]] = {}


def subscribe(event: str, handler: Callable[..., None], *, in_transaction: bool = False) -> None:
    """Call ``handler(**payload)`` on every publication of ``event`` (once, however often
    `ready()` runs); after commit unless ``in_transaction``."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    subscriptions = _subscribers.setdefault(event, [])
    subscription = _Subscription(handler, in_transaction)
    if subscription not in subscriptions:
        subscriptions.append(subscription)


def publish(event: str, **payload: object) -> None:
    """Tell the subscribers of ``event``: the in-transaction ones now, the others after commit."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    for subscription in list(_subscribers.get(event, ())):
        if subscription.in_transaction:
            subscription.handler(**payload)
        else:
            transaction.on_commit(partial(subscription.handler, **payload))
