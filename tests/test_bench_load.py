"""bench/load.py: its percentiles, and its staff user's round trip through the real form."""

from __future__ import annotations

import random
from decimal import Decimal

from django.test import Client
from django.urls import reverse

from bench.load import SAVED, _shown_differs, fill, parse_form, percentile
from indicators.models import DataItem, Value
from indicators.tests.factories import data_round


def test_percentile_is_the_nearest_rank():
    ordered = [float(n) for n in range(1, 101)]
    assert percentile(ordered, 50) == 50
    assert percentile(ordered, 95) == 95
    assert percentile(ordered, 99) == 99
    assert percentile(ordered, 100) == 100
    assert percentile([7.0], 95) == 7
    # Few samples: the p95 of 10 is the slowest, not an interpolation below it.
    assert percentile([10.0, 20, 30, 40, 50, 60, 70, 80, 90, 1000], 95) == 1000


def _staff(world) -> Client:
    """As the script's staff user: CSRF checked, English."""
    client = Client(enforce_csrf_checks=True, headers={"accept-language": "en"})
    client.force_login(world.users["staff_a"])
    return client


def test_the_scripts_save_is_accepted_and_shown(world):
    round_ = data_round(world, others=0)
    url = reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": world.a.code})
    client = _staff(world)
    dwellings, queue, area = (DataItem.objects.get(code=code) for code in ("DWELLINGS", "QUEUE", "AREA"))
    previous = {dwellings.pk: Decimal("120.5"), queue.pk: None}  # QUEUE was missing last period

    form = parse_form(client.get(url).content.decode())
    assert form.found and "csrfmiddlewaretoken" in form.fields and form.fields["version"] == "0"
    data = fill(form, previous, random.Random(3))
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == url

    page = client.get(url).content.decode()
    assert SAVED in page
    assert _shown_differs(parse_form(page), data) is None
    stored = {value.item_id: value for value in Value.objects.filter(submission__municipality=world.a)}
    number = stored[dwellings.pk].number
    assert number == Decimal(data[f"value_{dwellings.pk}"])
    # Last period's figure ±5 %, or now and then an unusual change of 80 % that is explained.
    if stored[dwellings.pk].explanation:
        assert number == Decimal("216.90")
    else:
        assert Decimal("114.47") <= number <= Decimal("126.53")
    assert stored[queue.pk].is_missing and stored[queue.pk].missing_reason == "not collected this year"
    assert stored[area.pk].number > 0  # no figure last period: a plausible one

    # The next save changes a few values of the page as shown, on top of the new version.
    form = parse_form(page)
    assert form.fields["version"] == "1"
    assert client.post(url, fill(form, previous, random.Random(4))).status_code == 302


def test_a_refused_save_is_seen_as_an_error(world):
    round_ = data_round(world, others=0)
    url = reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": world.a.code})
    client = _staff(world)
    data = fill(parse_form(client.get(url).content.decode()), {}, random.Random(1))
    data[f"value_{DataItem.objects.get(code='DWELLINGS').pk}"] = "-5"  # below the allowed minimum 0
    response = client.post(url, data)
    assert response.status_code == 200
    assert parse_form(response.content.decode()).invalid == [f"value_{DataItem.objects.get(code='DWELLINGS').pk}"]
