"""Log in and out at Django's usual URLs; password reset by e-mail."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse


def test_login_page_and_wrong_password(world, client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "staff-a", "password": "wrong"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert "errornote" in response.content.decode() or "alert" in response.content.decode()


def test_login_and_logout(world, client):
    response = client.post("/accounts/login/", {"username": "staff-a", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get(reverse("networks:my_work")).status_code == 200
    assert client.get("/accounts/logout/").status_code == 405  # logging out is a POST (CSRF-safe)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get(reverse("networks:my_work")).status_code == 302


def test_password_reset_by_email(world, client):
    response = client.post(reverse("password_reset"), {"email": "staff-a@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "a-new-long-password-7", "new_password2": "a-new-long-password-7"}
    )
    assert response.status_code == 302
    assert client.login(username="staff-a", password="a-new-long-password-7")


def test_the_reset_link_is_under_the_portals_address_whatever_the_host_header(world, client, settings):
    settings.PORTAL_URL = "https://portal.example.lv"
    settings.ALLOWED_HOSTS = ["testserver", "elsewhere.example"]
    client.post(reverse("password_reset"), {"email": "staff-a@example.org"}, HTTP_HOST="elsewhere.example")
    (message,) = mail.outbox
    assert re.search(r"https://portal\.example\.lv/accounts/reset/\S+/", message.body)
    assert "elsewhere.example" not in message.body


def test_password_reset_confirm_with_bad_token(world, client):
    response = client.get("/accounts/reset/MQ/bad-token/")
    assert response.status_code == 200
    assert "no longer valid" in response.content.decode() or "vairs nav derīga" in response.content.decode()


def test_login_is_throttled_after_five_failures(world, client, settings):
    settings.AXES_ENABLED = True
    for _ in range(4):
        response = client.post("/accounts/login/", {"username": "staff-a", "password": "wrong"})
        assert response.status_code == 200
    # The fifth failure locks the account out for this address…
    assert client.post("/accounts/login/", {"username": "staff-a", "password": "wrong"}).status_code == 429
    # …so even the right password is refused now.
    response = client.post("/accounts/login/", {"username": "staff-a", "password": "correct-horse-battery"})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode() or "Pārāk daudz" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    # Another account from the same address is not locked out.
    other = client.post("/accounts/login/", {"username": "staff-b", "password": "correct-horse-battery"})
    assert other.status_code == 302


def test_a_success_resets_the_failure_count(world, client, settings):
    settings.AXES_ENABLED = True
    for _ in range(4):
        client.post("/accounts/login/", {"username": "staff-a", "password": "wrong"})
    assert (
        client.post("/accounts/login/", {"username": "staff-a", "password": "correct-horse-battery"}).status_code == 302
    )
    client.post("/accounts/logout/")
    for _ in range(4):
        assert client.post("/accounts/login/", {"username": "staff-a", "password": "wrong"}).status_code == 200


def _reset(client, email: str, ip: str = "192.0.2.1"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_password_reset_mails_are_throttled_per_address_without_saying_so(world, client):
    for _ in range(3):
        assert _reset(client, "staff-a@example.org").url == reverse("password_reset_done")
    assert len(mail.outbox) == 3
    # The fourth within the hour: the same "sent" page, no mail. Case and spaces do not help.
    for email in ("staff-a@example.org", " Staff-A@Example.org "):
        response = _reset(client, email)
        assert response.status_code == 302 and response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 3
    # Another address from the same client is not affected.
    _reset(client, "staff-b@example.org")
    assert len(mail.outbox) == 4


def test_an_unknown_address_is_counted_and_answered_alike(world, client):
    answers = {_reset(client, "nobody@example.org").url for _ in range(5)}
    assert answers == {reverse("password_reset_done")}
    assert len(mail.outbox) == 0


def test_password_reset_mails_are_throttled_per_client_address(world, client):
    for n in range(10):
        _reset(client, f"unknown-{n}@example.org", ip="198.51.100.7")
    _reset(client, "staff-a@example.org", ip="198.51.100.7")
    assert len(mail.outbox) == 0  # the eleventh request of that client in the hour
    _reset(client, "staff-a@example.org", ip="203.0.113.9")
    assert len(mail.outbox) == 1


def test_the_throttle_forgets_attempts_older_than_an_hour(world, client):
    import time
    from unittest import mock

    for _ in range(4):
        _reset(client, "staff-a@example.org")
    assert len(mail.outbox) == 3
    with mock.patch("networks.throttles.time.time", return_value=time.time() + 3601):
        _reset(client, "staff-a@example.org")
    assert len(mail.outbox) == 4


def test_the_throttle_counts_in_the_database_shared_by_every_web_worker(settings):
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    # Each gunicorn worker has its own memory: a per-process cache would multiply the limits.
    assert isinstance(caches["default"], DatabaseCache)
