"""Real-browser tests: Playwright for Python driving Debian's Chromium (no browser download).

Without /usr/bin/chromium (a laptop running `make test`) every test here is skipped with one
clear reason; CI installs Chromium (`.ci/run`) and runs them against a live server.
Every page a test opens is watched: a request to any other origin fails the test.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
HAVE_CHROMIUM = shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM)


LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


REQUIRES_CHROMIUM = pytest.mark.skipif(
    not HAVE_CHROMIUM, reason=f"browser tests need Chromium at {CHROMIUM} (CI installs it: apt-get install chromium)"
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(REQUIRES_CHROMIUM)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test body's ORM calls are
    # still synchronous and safe, so Django is told not to refuse them — for these tests only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def foreign_requests():
    return []


@pytest.fixture
def new_page(browser, live_server, foreign_requests):
    """Open a page in a fresh context (own cookies), in the given UI language."""
    origin = urlsplit(live_server.url).netloc
    contexts = []

    def make(language: str = "lv"):
        context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
        contexts.append(context)
        page = context.new_page()

        def watch(request):
            parts = urlsplit(request.url)
            if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != origin:
                foreign_requests.append(request.url)

        page.on("request", watch)
        return page

    yield make
    for context in contexts:
        context.close()
    assert foreign_requests == [], f"pages requested other origins: {foreign_requests}"


def log_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#content form button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def demo(settings):
    """The demo installation (`seed_demo`): T3 2012-2024 published (2012-2020 with the per-capita
    indicators only, on the official population), 2025 open, Aizkraukle in draft."""
    from django.core.management import call_command

    settings.DEBUG = True  # static files (plotly.js from the wheel) through the finders
    call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
