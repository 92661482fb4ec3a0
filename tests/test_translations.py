"""Every word a Latvian user is shown is Latvian.

`tests/test_i18n.py` checks the catalogue itself (every entry translated, and `makemessages` on
a copy of the project finds nothing new). Here: every model choice label has its Latvian
translation, and a crawl of the demo installation in the Latvian UI, as every demo persona,
finds no English phrase of the catalogue on any page — which catches what the catalogue cannot:
a stored English key shown raw, a string built in Python without gettext, a translation made in
the wrong language (a command's English stored and shown later).
"""

from __future__ import annotations

import gettext
import io
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "lv" / "LC_MESSAGES" / "django.po"
PROJECT_APPS = ("networks", "indicators", "comparisons", "learning")


def latvian_catalogue(tmp_path: Path) -> dict:
    """The project's own Latvian catalogue (not Django's), compiled from the .po as it is now."""
    mo = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(mo), str(PO)], check=True)  # noqa: S603, S607
    with mo.open("rb") as handle:
        return dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


# --- model choices --------------------------------------------------------------------------------


def test_every_model_choice_label_has_a_latvian_translation(tmp_path):
    catalogue = latvian_catalogue(tmp_path)
    missing = []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.get_fields():
            choices = getattr(field, "flatchoices", None)
            # history_type is django-simple-history's own field, seen in the admin only.
            if not choices or field.name == "history_type":
                continue
            for _value, label in choices:
                with translation.override("en"):
                    english = str(label)
                with translation.override("lv"):
                    latvian = str(label)
                if latvian == english and not catalogue.get(english):
                    missing.append(f"{model._meta.label}.{field.name}: {english!r}")
    assert sorted(set(missing)) == []


# --- the Latvian pages ----------------------------------------------------------------------------

# Words and phrases of the catalogue a Latvian page may show, and why.
ALLOWED = {
    "English",  # the language switch names the other language in that language
    "periods",  # Latvian too: "periods" is the Latvian for "period"
}
VISIBLE_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
SKIPPED_TAGS = {"script", "style", "template", "code", "pre", "textarea"}  # textarea: typed data
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class VisibleText(HTMLParser):
    """The text a person reads or hears: data outside scripts and styles, the labels in
    attributes, and nothing inside an element marked as another language."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: is its content hidden from the check

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        hidden = (self.stack[-1] if self.stack else False) or tag in SKIPPED_TAGS
        lang = attributes.get("lang")
        if lang and not lang.startswith("lv"):
            hidden = True
        if not hidden:
            self.parts.extend(attributes[name] or "" for name in VISIBLE_ATTRIBUTES if name in attributes)
            if tag == "input" and attributes.get("type") in ("submit", "button"):
                self.parts.append(attributes.get("value") or "")
        if tag not in VOID:
            self.stack.append(hidden)

    def handle_endtag(self, tag):
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)

    def text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.parts))


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return parser.text()


PLACEHOLDER = re.compile(r"%\(\w+\)[sdfi]|%[sdfi]|\{\{.*?\}\}|\{\w*\}")


def english_phrases(catalogue: dict) -> dict[str, re.Pattern]:
    """The English of every entry whose Latvian differs: each stretch of literal text between
    placeholders with two words or more, or a single word of four letters or more, as a
    whole-word pattern."""
    phrases: dict[str, re.Pattern] = {}
    for key, latvian in catalogue.items():
        msgid = key[0] if isinstance(key, tuple) else key
        msgid = msgid.split("\x04", 1)[-1]  # context
        if not msgid or not latvian or latvian == msgid:
            continue
        for fragment in PLACEHOLDER.split(msgid):
            fragment = re.sub(r"\s+", " ", fragment).strip(" .,:;!?()…-—·'\"“”")
            words = re.findall(r"[A-Za-z]+", fragment)
            if not words or fragment in ALLOWED:
                continue
            if len(words) == 1 and (len(words[0]) < 4 or words[0] != fragment):
                continue
            if len(words) > 1 and len(fragment) < 6:
                continue
            phrases[fragment] = re.compile(r"(?<![\w@./-])" + re.escape(fragment) + r"(?![\w@/-])")
    return phrases


def english_on_page(text: str, phrases: dict[str, re.Pattern]) -> list[str]:
    return sorted(phrase for phrase, pattern in phrases.items() if pattern.search(text))


def test_the_phrase_finder_sees_english_and_not_latvian(tmp_path):
    phrases = english_phrases(latvian_catalogue(tmp_path))
    assert "imported from a file" in english_on_page("Statuss: apstiprināta · imported from a file", phrases)
    assert english_on_page(visible_text('<p title="Log out">Iziet</p>'), phrases) == ["Log out"]
    assert english_on_page(visible_text("<p>Iesniegts, apstiprināts</p><script>Log out</script>"), phrases) == []
    assert english_on_page(visible_text('<button lang="en">English</button><p>Tīkli</p>'), phrases) == []


# Pages not crawled: they leave the site, change state, or are not HTML for people.
NOT_CRAWLED_NAMESPACES = {"admin", "api"}
NOT_CRAWLED = {
    "logout",
    "set_language",
    "healthz",
    "indicators:excel_template",
    "indicators:round_values_export",
    "comparisons:run_progress",
    "learning:attachment_download",
    "learning:unsubscribe",
}
PER_PAGE = 2  # addresses of one URL pattern visited per persona (the 40th profile reads as the 2nd)
PERSONAS = ("anonymous", "demo-viewer", "demo-staff", "demo-coordinator", "demo-admin")
START = ("/", "/networks/", "/municipalities/")


def _around(text: str, pattern: re.Pattern) -> str:
    match = pattern.search(text)
    return text[max(0, match.start() - 40) : match.end() + 40] if match else ""


def _crawlable(url: str) -> str | None:
    """The URL pattern's name when the address is one of our HTML pages to visit, else None."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/static/"):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    name = match.view_name
    if name in NOT_CRAWLED or name.split(":", 1)[0] in NOT_CRAWLED_NAMESPACES:
        return None
    if re.search(r"(format|fmt|export)=", parts.query):
        return None
    return name


def _crawl(client: Client, phrases: dict[str, re.Pattern]) -> tuple[dict[str, list[str]], set[str]]:
    found: dict[str, list[str]] = {}
    seen_names: dict[str, int] = {}
    visited: set[str] = set()
    queue = [url for url in START if _crawlable(url)]
    while queue:
        url = queue.pop(0)
        name = _crawlable(url)
        if url in visited or name is None or seen_names.get(name, 0) >= PER_PAGE:
            continue
        visited.add(url)
        seen_names[name] = seen_names.get(name, 0) + 1
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        text = visible_text(html)
        english = english_on_page(text, phrases)
        if english:
            found[url] = [f"{phrase!r} in …{_around(text, phrases[phrase])}…" for phrase in english]
        queue += [link for link in re.findall(r'href="([^"#]+)', html) if link not in visited]
    return found, set(seen_names)


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())


def test_no_latvian_page_shows_an_english_phrase_of_the_catalogue(demo, tmp_path):
    phrases = english_phrases(latvian_catalogue(tmp_path))
    problems = {}
    names_seen: set[str] = set()
    for persona in PERSONAS:
        client = Client()
        if persona != "anonymous":
            from django.contrib.auth import get_user_model

            client.force_login(get_user_model().objects.get(username=persona))
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "lv"
        found, names = _crawl(client, phrases)
        names_seen |= names
        problems.update({f"{persona} {url}": words for url, words in found.items()})
    # The crawl reached the pages that matter for each kind of person.
    assert {
        "home",
        "networks:municipality_detail",
        "networks:network_detail",
        "indicators:my_rounds",
        "indicators:submission_form",
        "indicators:round_matrix",
        "networks:coordination_network",
        "indicators:coordination_round",
        "comparisons:overview",
        "comparisons:profile",
        "learning:practice_list",
    } <= names_seen, sorted(names_seen)
    assert problems == {}
