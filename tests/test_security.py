"""Headers and page hygiene that a strict Content-Security-Policy relies on."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_csp_forbids_inline_and_foreign_scripts(client, db):
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"]


def inline_scripts(html: str) -> list[str]:
    """Script elements with code in the page (JSON data islands from json_script are fine)."""
    found = []
    for attributes, body in SCRIPT_TAG.findall(html):
        if "application/json" in attributes:
            continue
        if body.strip() or "src=" not in attributes:
            found.append(body.strip()[:80])
    return found


@pytest.mark.parametrize("persona", ["anonymous", "staff_a", "coordinator", "admin"])
def test_no_page_has_inline_scripts_or_handlers(world, persona):
    from networks.tests.test_pages import PAGES

    client = world.client(persona)
    for name, (kwargs_for, allowed) in PAGES.items():
        if persona not in allowed:
            continue
        url = reverse(name, kwargs=kwargs_for(world) if kwargs_for else None)
        response = client.get(url)
        if "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        assert inline_scripts(html) == [], f"{url} has an inline script"
        assert not INLINE_HANDLER.search(re.sub(SCRIPT_TAG, "", html)), f"{url} has an inline event handler"


def test_no_page_loads_anything_from_another_origin(world):
    from networks.tests.test_pages import PAGES

    client = world.client("admin")
    for name, (kwargs_for, _allowed) in PAGES.items():
        url = reverse(name, kwargs=kwargs_for(world) if kwargs_for else None)
        html = client.get(url).content.decode()
        foreign = re.findall(r'(?:src|href)="(https?:)?//[^"]+"', html)
        assert foreign == [], f"{url} refers to another origin"
