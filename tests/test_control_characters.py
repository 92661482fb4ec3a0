"""Control characters in the address or a form are refused with a clear 400, in one place
(`benchlearning.middleware.ControlCharacterMiddleware`); ids too long for the database are 404.

Every URL and API filter is walked with such values in tests/test_fuzz_control.py; these tests
say what a user sees.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from indicators.tests.factories import page_objects

REFUSED_EN = "contains a control character"


def refused(response, language: str = "en") -> bool:
    text = response.content.decode()
    return response.status_code == 400 and (REFUSED_EN in text if language == "en" else "vadības rakstzīm" in text)


@pytest.mark.parametrize(
    "url",
    [
        "/networks/municipalities/LV%0000/",
        "/municipalities/LV%0000/",
        "/networks/T%01/",
        "/comparisons/dashboards/T%7F/",
        "/comparisons/dashboards/T%0A/map/",
        "/comparisons/dashboards/T%09/",
    ],
)
def test_a_control_character_in_the_path_is_a_400_with_a_message(world, url):
    assert refused(world.client("anonymous").get(url, HTTP_ACCEPT_LANGUAGE="en"))


def test_the_message_is_in_the_visitors_language(world):
    client = world.client("anonymous")
    assert refused(client.get("/networks/T%00/"), language="lv")  # Latvian by default
    assert refused(client.get("/networks/T%00/", HTTP_ACCEPT_LANGUAGE="en"), language="en")


@pytest.mark.parametrize(
    "query",
    [
        {"network": "T\x00"},
        {"period": "2024\x1f"},
        {"indicator": "X\r\nY"},
        {"municipality": "A\tB"},
        {"T\x00": "1"},  # in a key too
    ],
)
@pytest.mark.parametrize("persona", ["anonymous", "coordinator"])
def test_a_control_character_in_the_query_string_is_a_400(world, query, persona):
    client = world.client(persona)
    assert refused(client.get(reverse("api:result_list"), query, HTTP_ACCEPT_LANGUAGE="en"))
    assert refused(client.get(reverse("comparisons:overview", args=["T"]), query, HTTP_ACCEPT_LANGUAGE="en"))


def test_an_ordinary_query_string_passes(world):
    client = world.client("anonymous")
    assert client.get(reverse("api:result_list"), {"network": "T", "peer_group": "attr:size class"}).status_code == 200
    assert client.get(reverse("api:result_list") + "?network=T&municipality=%C4%80").status_code == 200


def test_a_control_character_in_a_form_field_is_a_400_but_line_ends_and_tabs_are_text(world):
    client = world.client("coordinator")
    url = reverse("networks:coordination_invite", kwargs={"code": "T"})
    assert refused(client.post(url, {"email": "a@example.org\x00", "role": "staff"}, HTTP_ACCEPT_LANGUAGE="en"))
    assert refused(client.post(url, {"email": "a@example.org", "role": "staff\x0b"}, HTTP_ACCEPT_LANGUAGE="en"))
    # A textarea's line ends and tabs are text: the form answers (here: the address is invalid).
    response = client.post(url, {"email": "a\t@\r\nexample", "role": "staff"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200


def test_in_a_multipart_form_the_fields_are_checked_not_the_uploaded_files(world):
    round_ = page_objects(world)["round"]
    client = world.client("staff_a")
    url = reverse("indicators:excel_upload", kwargs={"round_pk": round_.pk, "code": world.a.code})
    binary = SimpleUploadedFile("values.xlsx", b"PK\x03\x04\x00\x01\x02\x7f not a workbook")
    response = client.post(url, {"file": binary}, HTTP_ACCEPT_LANGUAGE="en")
    # The upload's own check answers (its page: not a workbook), not the control character check.
    assert response["Content-Type"].startswith("text/html")
    assert REFUSED_EN not in response.content.decode()
    binary.seek(0)
    assert refused(client.post(url, {"file": binary, "note": "a\x00b"}, HTTP_ACCEPT_LANGUAGE="en"))


@pytest.mark.parametrize("number", [2**63, 10**30, int("9" * 60)])
def test_an_id_too_large_for_the_database_is_404(world, number):
    client = world.client("coordinator")
    page_objects(world)
    for url in (
        f"/submissions/{number}/review/",
        f"/rounds/{number}/review/",
        f"/rounds/{number}/municipalities/{world.a.code}/excel/",
        f"/comparisons/runs/{number}/progress/",
        f"/learning/practice/{number}/",
        f"/learning/plans/{number}/",
    ):
        assert client.get(url).status_code == 404, url
    end = f"/coordination/T/members/{number}/end/"
    assert client.post(end, {"left": "2024-01-01"}).status_code == 404
