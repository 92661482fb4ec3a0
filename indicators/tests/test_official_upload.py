"""The official statistics upload of the coordinator workspace (docs/official.md): upload, choose,
preview (nothing written), confirm (all or nothing, the command's own service), for every persona.

The files are the real downloads in `data/csb/` beside this module.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from indicators.models import DataItem, Value
from indicators.tests.factories import DataItemFactory
from indicators.tests.test_import_official import IRS031, TRS020_EN, snapshot, value
from indicators.tests.test_import_official import portal as portal
from indicators.views import official as views
from networks import permissions
from networks.models import Role
from networks.tests.factories import NetworkFactory, RoleFactory, UserFactory

DATA = Path(__file__).parent / "data" / "csb"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def coordinator(portal):
    user = UserFactory(username="t3-coordinator")
    RoleFactory(user=user, kind=Role.Kind.COORDINATOR, network=portal)
    client = Client()
    client.force_login(user)
    return client


def upload_url(code: str = "T3") -> str:
    return reverse("indicators:official_upload", kwargs={"code": code})


def confirm_url(code: str = "T3") -> str:
    return reverse("indicators:official_confirm", kwargs={"code": code})


def upload(client: Client, path: Path, item: str = "POPULATION", *, content: bytes | None = None, name: str = ""):
    file = SimpleUploadedFile(name or path.name, path.read_bytes() if content is None else content)
    return client.post(upload_url(), {"file": file, "item": item})


def test_preview_shows_areas_and_outcomes_and_writes_nothing(coordinator):
    before = snapshot()
    response = upload(coordinator, IRS031)
    assert response.status_code == 200
    page = response.content.decode()
    assert snapshot() == before
    assert "Aizkraukles novads" in page  # the matched area by its municipality's name
    assert not response.context["skipped"]  # IRS031 names only municipalities
    assert "Importēt šīs vērtības" in page
    report = response.context["report"]
    assert report.created == 36 * 14 and report.updated == 0  # 36 municipalities, 2012-2025 (2025: "…")
    assert report.dry_run


def test_confirm_imports_as_the_command_does_and_again_changes_nothing(coordinator, portal):
    upload(coordinator, IRS031)
    response = coordinator.post(confirm_url())
    assert response.status_code == 302
    assert value("LV0020000", "2020").number == Decimal("29558")  # Aizkraukles novads, as in the file
    assert "IRS031" in value("LV0020000", "2020").explanation
    after = snapshot()
    # The kept file is gone; a second upload of the same file previews and imports nothing new.
    assert not any(views.upload_dir().iterdir())
    response = upload(coordinator, IRS031)
    assert response.context["report"].unchanged == 36 * 14 and response.context["report"].created == 0
    coordinator.post(confirm_url())
    assert snapshot() == after


def test_other_dimensions_are_offered_as_choices(coordinator):
    response = upload(coordinator, TRS020_EN, "ROADS_KM")
    assert response.status_code == 200
    names = [choice.name for choice in response.context["choices"]]
    assert names == ["Types of surface", "Indicator"]
    assert "Importēt šīs vērtības" not in response.content.decode()
    response = coordinator.post(
        upload_url(), {"item": "ROADS_KM", "select:Types of surface": "Total", "select:Indicator": "Total"}
    )
    page = response.content.decode()
    assert response.status_code == 200, page
    assert response.context["report"].created == 43
    assert 'name="select:Types of surface" value="Total"' in page
    skipped = {row.label: row.reason for row in response.context["skipped"]}
    assert skipped["Latvia"] == "nav pašvaldība (valsts vai reģions)"
    assert "Latvia" in page
    coordinator.post(confirm_url(), {"select:Types of surface": "Total", "select:Indicator": "Total"})
    assert Value.objects.filter(item__code="ROADS_KM").count() == 43


def test_other_formats_and_large_files_are_refused_with_a_message(coordinator, monkeypatch):
    response = upload(coordinator, IRS031, name="table.txt")
    assert response.status_code == 400
    assert "PC-Axis (.px)" in response.content.decode()
    monkeypatch.setattr(views, "MAX_UPLOAD_BYTES", 100)
    response = upload(coordinator, IRS031)
    assert response.status_code == 400
    assert response.context["form"].errors["file"]


def test_bad_cells_are_listed_with_their_line_and_nothing_is_written(coordinator):
    text = IRS031.read_text(encoding="utf-8-sig").replace(",29558,", ",29x58,")
    before = snapshot()
    response = upload(coordinator, IRS031, content=text.encode())
    assert response.status_code == 400
    problems = response.context["problems"]
    assert any(problem.startswith("4") and "29x58" in problem and "2020" in problem for problem in problems)
    assert "Importēt šīs vērtības" not in response.content.decode()
    assert coordinator.post(confirm_url()).status_code == 400  # the preview again, with the problem
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir() if p.suffix != ".md"))
def test_corrupted_files_never_give_a_server_error(coordinator, name):
    content = (DATA / name).read_bytes()
    rng = random.Random(name)  # the same corruption every run
    before = snapshot()
    for _round in range(12):
        data = bytearray(content)
        for _n in range(rng.randint(1, 40)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        cut = rng.choice([len(data), rng.randrange(len(data))])
        response = upload(coordinator, DATA / name, content=bytes(data[:cut]))
        assert response.status_code in (200, 400), (name, response.status_code)
    assert snapshot() == before


def test_a_tampered_session_token_reads_no_other_file(coordinator, portal):
    upload(coordinator, IRS031)
    session = coordinator.session
    key = views.SESSION_KEY.format(pk=portal.pk)
    session[key] = {**session[key], "token": "../../../../etc/passwd", "suffix": ".csv"}
    session.save()
    response = coordinator.post(upload_url(), {"item": "POPULATION"})
    assert response.status_code == 400
    assert "faila vairs nav" in response.content.decode()
    response = coordinator.post(confirm_url())
    assert response.status_code == 302 and not Value.objects.exists()


def test_an_item_several_networks_use_belongs_to_the_administrators(coordinator, portal):
    other = NetworkFactory(code="U9")
    DataItem.objects.get(code="POPULATION").networks.add(other)
    response = coordinator.get(upload_url())
    choices = [code for code, _label in response.context["form"].fields["item"].choices]
    assert choices == ["ROADS_KM"]
    response = upload(coordinator, IRS031)
    assert response.status_code == 400
    assert not views.upload_dir().exists() or not any(views.upload_dir().iterdir())  # nothing kept
    admin = Client()
    admin.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    upload(admin, IRS031)
    assert admin.post(confirm_url()).status_code == 302
    assert Value.objects.filter(item__code="POPULATION").exists()


PERSONAS = ("anonymous", "outsider", "staff", "viewer", "other_coordinator", "coordinator", "admin")


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_persona_upload_and_confirm(portal, persona):
    """Only the network's coordinators and administrators get the page or import; the others get
    the login page or 403, and nothing is kept or written."""
    from networks.models import Municipality

    aizkraukle = Municipality.objects.get(code="LV0020000")
    other = NetworkFactory(code="U")
    client = Client()
    if persona != "anonymous":
        user = UserFactory(username=f"p-{persona}", is_superuser=persona == "admin", is_staff=persona == "admin")
        if persona == "staff":
            RoleFactory(user=user, kind=Role.Kind.STAFF, municipality=aizkraukle)
        elif persona == "viewer":
            RoleFactory(user=user, kind=Role.Kind.VIEWER, municipality=aizkraukle)
        elif persona == "other_coordinator":
            RoleFactory(user=user, kind=Role.Kind.COORDINATOR, network=other)
        elif persona == "coordinator":
            RoleFactory(user=user, kind=Role.Kind.COORDINATOR, network=portal)
        client.force_login(user)
    allowed = persona in ("coordinator", "admin")
    assert client.get(upload_url()).status_code == (200 if allowed else 302 if persona == "anonymous" else 403)
    response = upload(client, IRS031)
    assert response.status_code == (200 if allowed else 302 if persona == "anonymous" else 403)
    response = client.post(confirm_url())
    assert response.status_code == (403 if not allowed and persona != "anonymous" else 302)
    assert Value.objects.exists() == allowed
    if not allowed:
        assert not views.upload_dir().exists() or not any(views.upload_dir().iterdir())


def test_can_import_official_rule(portal):
    other = NetworkFactory(code="U")
    admin = UserFactory(username="adm", is_superuser=True)
    coordinator = UserFactory(username="coord")
    RoleFactory(user=coordinator, kind=Role.Kind.COORDINATOR, network=portal)
    both = UserFactory(username="both")
    RoleFactory(user=both, kind=Role.Kind.COORDINATOR, network=portal)
    RoleFactory(user=both, kind=Role.Kind.COORDINATOR, network=other)
    stranger = UserFactory(username="stranger")
    RoleFactory(user=stranger, kind=Role.Kind.COORDINATOR, network=other)
    one, two = {portal.pk}, {portal.pk, other.pk}
    assert permissions.can_import_official(admin, one) and permissions.can_import_official(admin, two)
    assert permissions.can_import_official(coordinator, one)
    assert not permissions.can_import_official(coordinator, two)
    assert not permissions.can_import_official(both, two)  # shared: the administrators'
    assert not permissions.can_import_official(stranger, one)
    assert not permissions.can_import_official(coordinator, set())
    from django.contrib.auth.models import AnonymousUser

    assert not permissions.can_import_official(AnonymousUser(), one)


def test_no_network_item_is_offered_when_none_may_be_imported(coordinator):
    DataItemFactory(code="UNUSED")
    response = coordinator.get(upload_url())
    codes = [code for code, _label in response.context["form"].fields["item"].choices]
    assert codes == ["POPULATION", "ROADS_KM"]
