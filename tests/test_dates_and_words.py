"""One date format per language, right in Latvian wherever it stands; the workflow's stored
English keys, municipality attributes and the digest's first line said in the reader's words."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from indicators.words import IMPORTED_FROM_A_FILE, event_message_words, round_reason_words
from networks.attributes import attribute_rows

DAY = datetime.date(2026, 12, 6)
MOMENT = datetime.datetime(2026, 12, 6, 14, 5, tzinfo=datetime.UTC)  # 16:05 in Riga


def render(source: str, **context) -> str:
    return Template("{% load i18n %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("language", "date", "datetime_"),
    [("lv", "06.12.2026.", "06.12.2026. 16:05"), ("en", "6 Dec 2026", "6 Dec 2026, 16:05")],
)
def test_one_date_format_per_language(language, date, datetime_):
    with translation.override(language):
        shown = {
            render("{{ d }}", d=DAY),
            render('{{ d|date:"DATE_FORMAT" }}', d=DAY),
            render('{{ d|date:"SHORT_DATE_FORMAT" }}', d=DAY),
        }
        assert shown == {date}
        assert {
            render("{{ m }}", m=MOMENT),
            render('{{ m|date:"DATETIME_FORMAT" }}', m=MOMENT),
            render('{{ m|date:"SHORT_DATETIME_FORMAT" }}', m=MOMENT),
        } == {datetime_}


def test_latvian_dates_read_right_after_since_and_until():
    """No spelled-out month in the nominative after "kopš" ("kopš 2026. gada 6. decembris")."""
    with translation.override("lv"):
        text = render('{% translate "Member since" %} {{ d }}; {% translate "until" %} {{ d }}', d=DAY)
    assert text == "Dalībniece kopš 06.12.2026.; līdz 06.12.2026."
    with translation.override("en"):
        sentence = render(
            '{% blocktranslate with when=m|date:"DATETIME_FORMAT" %}'
            "Results computed {{ when }}.{% endblocktranslate %}",
            m=MOMENT,
        )
    assert sentence == "Results computed 6 Dec 2026, 16:05."  # one full stop, not "p.m.."


def test_no_template_builds_its_own_date_format():
    """Every template says dates through the language's named formats."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "templates"
    own = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("*.html")
        for match in re.finditer(r'\|date:"(?!(SHORT_)?DATE(TIME)?_FORMAT")[^"]*"', path.read_text(encoding="utf-8"))
    ]
    assert own == []


def test_round_history_reasons_in_the_readers_language():
    with translation.override("lv"):
        assert [round_reason_words(r) for r in ("opened", "closed", "reopened", "published")] == [
            "atvērta",
            "slēgta",
            "atvērta no jauna",
            "publicēta",
        ]
        assert round_reason_words("deadline extended to 2026-12-06") == "termiņš pagarināts līdz 06.12.2026."
        assert round_reason_words("unpublished: Kļūda datos") == "publikācija atsaukta: Kļūda datos"
        assert round_reason_words("kāds cits iemesls") == "kāds cits iemesls"
        assert round_reason_words(None) == ""
    with translation.override("en"):
        assert round_reason_words("closed") == "closed"
        assert round_reason_words("deadline extended to 2026-12-06") == "deadline extended to 6 Dec 2026"


def test_an_imports_event_message_in_the_readers_language():
    with translation.override("lv"):
        assert event_message_words(IMPORTED_FROM_A_FILE) == "importēts no faila"
        assert event_message_words("official statistics: IRG010") == "oficiālā statistika: IRG010"
        assert event_message_words("Lūdzu, pārbaudiet 3. rindu.") == "Lūdzu, pārbaudiet 3. rindu."
    with translation.override("en"):
        assert event_message_words(IMPORTED_FROM_A_FILE) == "imported from a file"


def test_attributes_have_labels_and_numbers_in_the_readers_format():
    attributes = {"area_km2": "307.5", "iso_3166_2": "LV-RIX", "centroid_lat": "56.9780", "population": 605273}
    with translation.override("lv"):
        assert attribute_rows(attributes) == [
            ("centra platums", "56,9780"),
            ("iedzīvotāju skaits", "605\xa0273"),
            ("ISO 3166-2 kods", "LV-RIX"),
            ("platība (km²)", "307,5"),
        ]
    with translation.override("en"):
        labels = [label for label, _value in attribute_rows(attributes)]
        assert labels == ["area (km²)", "ISO 3166-2 code", "latitude of the centre", "number of inhabitants"]


@pytest.mark.django_db
def test_the_municipality_page_shows_attribute_labels_not_keys(world, client):
    world.a.attributes = {"area_km2": "307.5", "iso_3166_2": "LV-RIX"}
    world.a.save()
    html = client.get(reverse("networks:municipality_detail", kwargs={"code": world.a.code})).content.decode()
    assert "area_km2" not in html and "iso_3166_2" not in html
    assert "ISO 3166-2 kods" in html and "307,5" in html


@pytest.mark.django_db
def test_the_digest_names_the_network_once(world):
    from indicators.tests.factories import PeriodFactory, RoundFactory
    from learning.services import network_digest_send

    period = PeriodFactory(label="2024")
    round_ = RoundFactory(network=world.network, period=period, status="published", published_at=MOMENT)
    network_digest_send(round_id=round_.pk)
    first_line = mail.outbox[0].body.splitlines()[0]
    assert first_line == "Tīkls T: publicēti rezultāti par periodu 2024."
