"""The portal's one exception root (docs/architecture.md).

Every error a service raises for a person to read derives from `PortalError` through its app's
own class (`networks.errors.NetworksError`, `indicators.errors.IndicatorsError`,
`comparisons.errors.ComparisonsError`), so a caller can catch one app's refusals, or all of
them, without listing classes.
"""

from __future__ import annotations


class PortalError(Exception):
    """A refusal or failure with a message meant for the person who asked."""


class NetworksError(PortalError):
    """Municipalities, networks, people and roles."""
