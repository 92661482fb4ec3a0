"""The permissions module, question by question, for every persona."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from networks import permissions

EXPECTED = {
    #                staff_a staff_b viewer_a coordinator outsider anonymous admin
    "enter_data_a": (True, False, False, False, False, False, False),
    "enter_data_b": (False, True, False, False, False, False, False),
    "coordinate_t": (False, False, False, True, False, False, True),
    "coordinate_u": (False, False, False, False, False, False, True),
    "member_of_t": (True, True, True, True, False, False, True),
    "member_of_u": (False, False, False, False, False, False, True),
    "workspace": (True, True, True, True, True, False, True),
    "admin": (False, False, False, False, False, False, True),
}
ORDER = ("staff_a", "staff_b", "viewer_a", "coordinator", "outsider", "anonymous", "admin")


def _ask(world, question: str, user) -> bool:
    t_members = {world.a.pk, world.b.pk}
    u_members = {world.c.pk}
    return {
        "enter_data_a": lambda: permissions.can_enter_data(user, world.a, world.network),
        "enter_data_b": lambda: permissions.can_enter_data(user, world.b, world.network),
        "coordinate_t": lambda: permissions.can_coordinate(user, world.network),
        "coordinate_u": lambda: permissions.can_coordinate(user, world.other_network),
        "member_of_t": lambda: permissions.is_network_member(user, world.network, t_members),
        "member_of_u": lambda: permissions.is_network_member(user, world.other_network, u_members),
        "workspace": lambda: permissions.can_use_workspace(user),
        "admin": lambda: permissions.can_use_admin(user),
    }[question]()


@pytest.mark.parametrize("question", sorted(EXPECTED))
@pytest.mark.parametrize("persona", ORDER)
def test_every_question_for_every_persona(world, question, persona):
    user = world.users.get(persona) or AnonymousUser()
    expected = EXPECTED[question][ORDER.index(persona)]
    assert _ask(world, question, user) is expected


def test_inactive_user_loses_every_role(world):
    user = world.users["staff_a"]
    user.is_active = False
    permissions.forget_roles(user)
    assert not permissions.can_enter_data(user, world.a, world.network)
    assert not permissions.can_use_workspace(user)


def test_roles_are_read_once_per_request(world, django_assert_num_queries):
    user = world.users["coordinator"]
    permissions.forget_roles(user)
    with django_assert_num_queries(1):
        for _ in range(5):
            permissions.can_coordinate(user, world.network)
            permissions.can_enter_data(user, world.a, world.network)


def test_a_person_may_hold_several_roles(world):
    from networks.models import Role
    from networks.services import role_grant

    user = world.users["viewer_a"]
    role_grant(user=user, kind=Role.Kind.STAFF, municipality=world.b)
    role_grant(user=user, kind=Role.Kind.COORDINATOR, network=world.other_network)
    permissions.forget_roles(user)
    assert permissions.can_enter_data(user, world.b, world.network)
    assert not permissions.can_enter_data(user, world.a, world.network)
    assert permissions.can_coordinate(user, world.other_network)
    assert not permissions.can_coordinate(user, world.network)
