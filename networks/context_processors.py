from __future__ import annotations

from django.http import HttpRequest

from . import permissions


def navigation(request: HttpRequest) -> dict:
    """What the navigation offers this person; decided by the permissions module only."""
    user = request.user
    roles = permissions.roles_of(user)
    return {
        "nav": {
            "workspace": permissions.can_use_workspace(user),
            # Reporting rounds: staff fill them in, coordinators review them.
            "rounds": bool(roles.staff_of or roles.coordinator_of),
            "coordination": permissions.can_use_coordination(user),
            "plans": permissions.can_use_workspace(user) and not roles.is_empty,
            "admin": permissions.can_use_admin(user),
        }
    }
