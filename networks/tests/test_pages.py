"""Every URL of the project, requested as every persona.

A new URL pattern without an entry in PAGES fails `test_every_url_has_an_entry`: whoever adds
a page decides here who may see it. Anything not allowed must be a redirect to the login page,
403 or 404.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ALL = {"staff_a", "staff_b", "viewer_a", "coordinator", "outsider", "anonymous", "admin"}
SIGNED_IN = ALL - {"anonymous"}

# name -> (kwargs from the world, personas that get 200)
PAGES = {
    "home": (None, ALL),
    "networks:municipality_list": (None, ALL),
    "networks:municipality_detail": (lambda w: {"code": w.a.code}, ALL),
    "networks:network_list": (None, ALL),
    "networks:network_detail": (lambda w: {"code": w.network.code}, ALL),
    "networks:my_work": (None, SIGNED_IN),
    "healthz": (None, ALL),
    "login": (None, ALL),
    "password_reset": (None, ALL),
    "password_reset_done": (None, ALL),
    "password_reset_complete": (None, ALL),
    "password_change": (None, SIGNED_IN),
    "password_change_done": (None, SIGNED_IN),
    "admin:index": (None, {"admin"}),
}
# Pages that only answer POST, or need a token: checked by their own tests.
NOT_GET_PAGES = {
    "logout": "POST only (Django 5): tested in test_auth",
    "set_language": "POST only: tested in test_i18n",
    "password_reset_confirm": "needs a one-time token: tested in test_auth",
}
# Namespaces whose every page has one rule, checked on their index page.
NAMESPACES = {"admin": "admin:index"}


def _names(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _names(pattern.url_patterns, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{prefix}{pattern.name}"


def test_every_url_has_an_entry():
    missing = []
    for name in set(_names(get_resolver().url_patterns)):
        namespace = name.split(":", 1)[0] if ":" in name else None
        if name in PAGES or name in NOT_GET_PAGES or namespace in NAMESPACES:
            continue
        missing.append(name)
    assert not missing, f"URL patterns without an entry in the permission matrix: {sorted(missing)}"


CASES = [(name, persona) for name in sorted(PAGES) for persona in sorted(ALL)]


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_page_for_persona(world, name, persona):
    kwargs_for, allowed = PAGES[name]
    url = reverse(name, kwargs=kwargs_for(world) if kwargs_for else None)
    response = world.client(persona).get(url)
    if persona in allowed:
        assert response.status_code == 200, f"{persona} should see {url}"
    else:
        assert response.status_code in (302, 403, 404), f"{persona} must not see {url}"
        if response.status_code == 302:
            assert "login" in response["Location"]


def test_unknown_objects_are_404(world):
    client = world.client("coordinator")
    assert client.get(reverse("networks:municipality_detail", kwargs={"code": "NOPE"})).status_code == 404
    assert client.get(reverse("networks:network_detail", kwargs={"code": "NOPE"})).status_code == 404


@pytest.mark.parametrize("persona", sorted(ALL))
def test_coordinator_names_only_for_the_networks_people(world, persona):
    response = world.client(persona).get(reverse("networks:network_detail", kwargs={"code": "T"}))
    shown = "Ilze Koordinatore" in response.content.decode()
    assert shown is (persona in {"staff_a", "staff_b", "viewer_a", "coordinator", "admin"})


@pytest.mark.parametrize(
    ("persona", "sees_admin", "sees_workspace"),
    [
        ("anonymous", False, False),
        ("outsider", False, True),
        ("staff_a", False, True),
        ("coordinator", False, True),
        ("admin", True, True),
    ],
)
def test_navigation_shows_each_role_what_it_may_do(world, persona, sees_admin, sees_workspace):
    html = world.client(persona).get(reverse("home")).content.decode()
    assert (reverse("admin:index") in html) is sees_admin
    assert (reverse("networks:my_work") in html) is sees_workspace
    assert (reverse("login") in html) is (persona == "anonymous")


def test_my_work_lists_own_roles(world):
    html = world.client("staff_a").get(reverse("networks:my_work")).content.decode()
    assert "Aizkraukles novads" in html
    assert "Bauskas novads" not in html


def test_pages_query_counts(world, django_assert_max_num_queries):
    client = world.client("staff_a")
    for name, (kwargs_for, _allowed) in PAGES.items():
        if name.startswith("admin:"):
            continue
        url = reverse(name, kwargs=kwargs_for(world) if kwargs_for else None)
        with django_assert_max_num_queries(8):
            client.get(url)
