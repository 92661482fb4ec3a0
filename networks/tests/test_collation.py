"""Names in Latvian alphabetical order, on SQLite and PostgreSQL alike (networks/collation.py)."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from networks import selectors
from networks.collation import latvian, latvian_key, sorted_latvian
from networks.models import Municipality
from networks.tests.factories import MembershipFactory, MunicipalityFactory

CSV = Path(__file__).resolve().parents[2] / "data" / "lv" / "municipalities_2021.csv"

# The 2021 names in Latvian order, written out by hand: every letter with a diacritic after its
# base letter (Ādažu after Aizkraukles/Alūksnes/Augšdaugavas, Jēkabpils after Jelgavas,
# Ķekavas after Kuldīgas, Līvānu after Limbažu, Mārupes after Madonas).
EXPECTED = [
    "Aizkraukles novads",
    "Alūksnes novads",
    "Augšdaugavas novads",
    "Ādažu novads",
    "Balvu novads",
    "Bauskas novads",
    "Cēsu novads",
    "Daugavpils",
    "Dienvidkurzemes novads",
    "Dobeles novads",
    "Gulbenes novads",
    "Jelgava",
    "Jelgavas novads",
    "Jēkabpils novads",
    "Jūrmala",
    "Krāslavas novads",
    "Kuldīgas novads",
    "Ķekavas novads",
    "Liepāja",
    "Limbažu novads",
    "Līvānu novads",
    "Ludzas novads",
    "Madonas novads",
    "Mārupes novads",
    "Ogres novads",
    "Olaines novads",
    "Preiļu novads",
    "Rēzekne",
    "Rēzeknes novads",
    "Rīga",
    "Ropažu novads",
    "Salaspils novads",
    "Saldus novads",
    "Saulkrastu novads",
    "Siguldas novads",
    "Smiltenes novads",
    "Talsu novads",
    "Tukuma novads",
    "Valkas novads",
    "Valmieras novads",
    "Varakļānu novads",
    "Ventspils",
    "Ventspils novads",
]


def _names_from_the_csv() -> list[str]:
    with CSV.open(encoding="utf-8") as handle:
        return [row["name"] for row in csv.DictReader(handle)]


def test_the_expected_order_holds_every_name_of_the_file():
    assert sorted(EXPECTED) == sorted(_names_from_the_csv())


def test_python_sort_key_follows_the_latvian_alphabet():
    names = _names_from_the_csv()
    random.Random(5).shuffle(names)
    assert sorted_latvian(names) == EXPECTED
    # Each letter with a diacritic right after its base letter, before the next letter.
    for base, marked, following in (
        ("a", "ā", "b"),
        ("c", "č", "d"),
        ("e", "ē", "f"),
        ("g", "ģ", "h"),
        ("i", "ī", "j"),
        ("k", "ķ", "l"),
        ("l", "ļ", "m"),
        ("n", "ņ", "o"),
        ("s", "š", "t"),
        ("u", "ū", "v"),
        ("z", "ž", "ža"),
    ):
        assert latvian_key(f"{base}z") < latvian_key(marked) < latvian_key(following)
        assert latvian_key(marked.upper()) < latvian_key(f"{following}a")
    assert sorted_latvian(["šis", "Zeme", "žogs", "Čiekurs", "cits"]) == ["cits", "Čiekurs", "šis", "Zeme", "žogs"]


@pytest.mark.django_db
def test_the_database_orders_names_in_latvian(settings):
    names = _names_from_the_csv()
    random.Random(7).shuffle(names)  # insertion order must not decide
    for i, name in enumerate(names):
        MunicipalityFactory(code=f"LVT{i:06d}", name=name)
    ordered = list(Municipality.objects.order_by(latvian("name")).values_list("name", flat=True))
    assert ordered == EXPECTED, connection.vendor
    descending = list(Municipality.objects.order_by(latvian("name", descending=True)).values_list("name", flat=True))
    assert descending == EXPECTED[::-1]
    # The list page's selector, and across a relation.
    assert list(selectors.municipality_list().values_list("name", flat=True)) == EXPECTED


@pytest.mark.django_db
def test_the_pages_list_members_in_latvian_order(world):
    added = {"LVT000001": "Ķekavas novads", "LVT000002": "Ādažu novads", "LVT000003": "Kuldīgas novads"}
    for code, name in added.items():
        MembershipFactory(network=world.network, municipality=MunicipalityFactory(code=code, name=name))
    wanted = ("Aizkraukles novads", "Ādažu novads", "Kuldīgas novads", "Ķekavas novads")
    client = world.client("anonymous")
    for url in (reverse("networks:network_detail", kwargs={"code": "T"}), reverse("networks:municipality_list")):
        html = client.get(url).content.decode()
        positions = [html.index(name) for name in wanted]
        assert positions == sorted(positions), url
