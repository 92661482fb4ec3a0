"""The indicators app's exception class; its errors derive from it (see `networks.errors`)."""

from __future__ import annotations

from networks.errors import PortalError


class IndicatorsError(PortalError):
    """A refusal or failure of the indicators app, with a message for the person who asked."""
