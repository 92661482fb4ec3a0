"""Latvian first, English second; the Latvian catalogue is complete."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "lv" / "LC_MESSAGES" / "django.po"


def untranslated(po_text: str) -> list[str]:
    """The msgids of live entries (not obsolete) with an empty translation or marked fuzzy."""
    problems = []
    for block in po_text.split("\n\n"):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        text = "\n".join(lines)
        msgid = "".join(re.findall(r'"(.*)"', text.split("msgid_plural")[0].split("msgstr")[0]))
        if msgid == "":
            continue  # the header
        if "#, fuzzy" in text:
            problems.append(f"fuzzy: {msgid}")
        for translation in re.split(r"\nmsgstr(?:\[\d\])? ", text)[1:]:
            if "".join(re.findall(r'"(.*)"', translation)) == "":
                problems.append(msgid)
                break
    return problems


def test_every_latvian_entry_is_translated():
    assert untranslated(PO.read_text(encoding="utf-8")) == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext is not installed (make test installs it)")
def test_every_string_in_the_code_is_in_the_latvian_catalogue(tmp_path):
    """makemessages on a copy of the project must find nothing new to translate."""
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "staticfiles", "media", "*.sqlite3", "__pycache__", "bench", ".*cache"
        ),
    )
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "lv", "--no-location"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    missing = untranslated((copy / "locale" / "lv" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8"))
    assert missing == [], "Run `make messages` and translate: " + "; ".join(missing)


@pytest.mark.django_db
def test_latvian_is_the_default_and_english_the_switch(client, world):
    latvian = client.get(reverse("networks:network_detail", kwargs={"code": "T"})).content.decode()
    assert '<html lang="lv">' in latvian
    assert "Pašvaldības" in latvian and "Dalībniece kopš" in latvian
    assert "Municipalities" not in latvian and "Member since" not in latvian

    response = client.post(reverse("set_language"), {"language": "en", "next": "/networks/T/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    english = client.get(reverse("networks:network_detail", kwargs={"code": "T"})).content.decode()
    assert '<html lang="en">' in english
    assert "Municipalities" in english and "Member since" in english
    assert "Dalībniece kopš" not in english


@pytest.mark.django_db
def test_names_follow_the_language(client, world):
    url = reverse("networks:municipality_detail", kwargs={"code": world.a.code})
    assert "<h1" in client.get(url).content.decode()
    latvian_title = re.search(r"<title>(.*?) ·", client.get(url).content.decode()).group(1)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english_title = re.search(r"<title>(.*?) ·", client.get(url).content.decode()).group(1)
    assert (latvian_title, english_title) == ("Aizkraukles novads", "Aizkraukle Municipality")


@pytest.mark.django_db
def test_numbers_are_latvian_in_the_latvian_ui(client, world):
    from django.template import Context, Template
    from django.utils import translation

    template = Template("{{ value }}")
    with translation.override("lv"):
        assert template.render(Context({"value": 1234.5})) == "1\xa0234,5"
    with translation.override("en"):
        assert template.render(Context({"value": 1234.5})) == "1,234.5"
