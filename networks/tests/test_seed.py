"""seed_demo: the demo installation the README's `make run` brings up."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from networks.models import Municipality, Network, Role

ACCOUNTS = ("demo-admin", "demo-coordinator", "demo-staff", "demo-viewer")


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_prints_the_accounts(seeded):
    for username in ACCOUNTS:
        assert username in seeded
    assert "benchlearning-demo" in seeded


def test_seed_is_idempotent(seeded):
    counts = (Municipality.objects.count(), Network.objects.count(), Role.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (Municipality.objects.count(), Network.objects.count(), Role.objects.count()) == counts
    assert counts[:2] == (162, 4)


@pytest.mark.parametrize("username", ACCOUNTS)
def test_demo_accounts_log_in_through_the_login_page(seeded, client, username):
    response = client.post(reverse("login"), {"username": username, "password": "benchlearning-demo"}, follow=True)
    assert response.wsgi_request.user.username == username
    assert response.redirect_chain[-1][0] == reverse("networks:my_work")


def test_demo_roles(seeded):
    home = Municipality.objects.get(code="LV0020000")
    assert Role.objects.filter(user__username="demo-staff", kind="staff", municipality=home).exists()
    assert Role.objects.filter(user__username="demo-viewer", kind="viewer", municipality=home).exists()
    assert Role.objects.filter(user__username="demo-coordinator", kind="coordinator").count() == Network.objects.count()


def test_seed_refuses_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Municipality.objects.exists()
    call_command("seed_demo", "--force", stdout=io.StringIO())
    assert Municipality.objects.exists()
