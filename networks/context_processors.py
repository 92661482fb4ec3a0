from __future__ import annotations

from django.http import HttpRequest

from . import permissions


def navigation(request: HttpRequest) -> dict:
    """What the navigation offers this person; decided by the permissions module only."""
    user = request.user
    return {
        "nav": {
            "workspace": permissions.can_use_workspace(user),
            "admin": permissions.can_use_admin(user),
        }
    }
