"""The good-practice library: submission, attachments, publication, search, downloads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import PERSONAS
from indicators.models import NetworkIndicator
from indicators.tests.factories import IndicatorFactory
from learning import selectors, services
from learning.models import PracticeAttachment, PracticeCase
from learning.tests.factories import PracticeCaseFactory
from networks import permissions

PDF = b"%PDF-1.4\n% a tiny test document\n"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _submit(world, files, title="Rindas samazināšana", **extra):
    data = {
        "network": world.network.pk,
        "municipality": world.a.pk,
        "title": title,
        "summary": "Kā mēs saīsinājām rindu uz sociālajiem dzīvokļiem.",
        "text": "Pilns stāsts.",
        "tags_text": "mājokļi, rinda",
        "files": files,
        **extra,
    }
    # English UI: the messages are asserted in the language they are written in.
    return world.client("staff_a").post(reverse("learning:practice_new"), data, HTTP_ACCEPT_LANGUAGE="en")


def test_staff_submit_a_case_with_an_attachment_and_the_name_is_sanitised(world, settings):
    upload = SimpleUploadedFile("../../etc/Pārskats 2024 (gala).PDF", PDF, content_type="application/pdf")
    response = _submit(world, [upload])
    assert response.status_code == 302
    case = PracticeCase.objects.get()
    assert case.status == PracticeCase.Status.SUBMITTED
    assert case.submitted_by == world.users["staff_a"]
    assert sorted(case.tags.values_list("name", flat=True)) == ["mājokļi", "rinda"]
    attachment = case.attachments.get()
    assert attachment.name == "parskats-2024-gala.pdf"
    stored = settings.MEDIA_ROOT / "private" / attachment.file.name
    assert stored.read_bytes() == PDF
    assert ".." not in attachment.file.name


def test_an_oversized_file_is_refused_with_a_clear_message(world, settings):
    settings.LEARNING_ATTACHMENT_MAX_BYTES = 1024
    upload = SimpleUploadedFile("liels.pdf", PDF + b"x" * 2000, content_type="application/pdf")
    response = _submit(world, [upload])
    assert response.status_code == 200
    html = response.content.decode()
    assert "liels.pdf" in html
    assert "too large (2.0\xa0KB); the limit is 1.0\xa0KB" in html
    assert not PracticeCase.objects.exists()
    assert not (settings.MEDIA_ROOT / "private").exists() or not any((settings.MEDIA_ROOT / "private").rglob("*.*"))


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("programma.exe", b"MZ\x90\x00", "not accepted"),
        ("skripts.html", b"<html></html>", "not accepted"),
        ("maskets.pdf", b"MZ\x90\x00 an executable renamed", "does not look like"),
    ],
)
def test_a_wrong_type_is_refused_with_a_clear_message(world, name, content, why):
    response = _submit(world, [SimpleUploadedFile(name, content)])
    assert response.status_code == 200
    html = response.content.decode()
    assert name in html
    assert why in html
    assert not PracticeAttachment.objects.exists()


def test_one_bad_file_stores_none(world, settings):
    good = SimpleUploadedFile("labs.pdf", PDF)
    bad = SimpleUploadedFile("slikts.exe", b"MZ")
    assert _submit(world, [good, bad]).status_code == 200
    assert not PracticeAttachment.objects.exists()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ilze\\Plāns.docx", "plans.docx"),
        ("<script>alert(1)</script>.pdf", "script.pdf"),
        ("...", "file"),
        ("Ļoti garš " * 30 + ".xlsx", ("loti-gars-" * 10)[:100].strip("-") + ".xlsx"),
    ],
)
def test_file_names_are_sanitised(raw, clean):
    assert services.attachment_name_sanitise(raw) == clean


def _attached_case(world, **fields) -> PracticeAttachment:
    case = PracticeCaseFactory(municipality=world.a, network=world.network, **fields)
    services._attachments_add(case, [SimpleUploadedFile("prezentacija.pdf", PDF)])
    return case.attachments.get()


DOWNLOADERS = {
    "public": set(PERSONAS) | {"admin"},
    "members": {"staff_a", "staff_b", "viewer_a", "coordinator", "admin"},
    "submitted": {"staff_a", "coordinator", "admin"},
}


@pytest.mark.parametrize("persona", [*PERSONAS, "admin"])
@pytest.mark.parametrize("kind", sorted(DOWNLOADERS))
def test_downloads_go_through_the_permission_check(world, persona, kind):
    fields = {
        "public": {"visibility": PracticeCase.Visibility.PUBLIC},
        "members": {"visibility": PracticeCase.Visibility.MEMBERS},
        "submitted": {"status": PracticeCase.Status.SUBMITTED, "published_at": None},
    }[kind]
    attachment = _attached_case(world, **fields)
    response = world.client(persona).get(reverse("learning:attachment_download", kwargs={"pk": attachment.pk}))
    if persona in DOWNLOADERS[kind]:
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert 'attachment; filename="prezentacija.pdf"' in response["Content-Disposition"]
        assert response["Content-Type"] == "application/pdf"
    else:
        assert response.status_code in (403, 404)


def test_attachments_have_no_public_url(world):
    attachment = _attached_case(world)
    with pytest.raises(ValueError, match="no URL"):
        attachment.file.url  # noqa: B018


def test_another_networks_people_cannot_download_members_only_files(world):
    from networks.models import Role
    from networks.tests.factories import RoleFactory, UserFactory

    attachment = _attached_case(world, visibility=PracticeCase.Visibility.MEMBERS)
    staff_c = UserFactory(username="staff-c")
    RoleFactory(user=staff_c, kind=Role.Kind.STAFF, municipality=world.c)
    client = world.client("anonymous")
    client.force_login(staff_c)
    assert client.get(reverse("learning:attachment_download", kwargs={"pk": attachment.pk})).status_code == 403


def test_coordinator_publishes_a_submitted_case(world):
    _submit(world, [])
    case = PracticeCase.objects.get()
    anonymous = world.client("anonymous")
    detail = reverse("learning:practice_detail", kwargs={"pk": case.pk})
    assert anonymous.get(detail).status_code == 403
    assert "Rindas samazināšana" not in anonymous.get(reverse("learning:practice_list")).content.decode()
    # Staff may not publish their own case.
    world.client("staff_a").post(reverse("learning:practice_publish", kwargs={"pk": case.pk}), {"visibility": "public"})
    case.refresh_from_db()
    assert not case.is_published
    world.client("coordinator").post(
        reverse("learning:practice_publish", kwargs={"pk": case.pk}), {"visibility": "public"}
    )
    case.refresh_from_db()
    assert case.is_published
    assert case.published_at is not None
    assert anonymous.get(detail).status_code == 200
    assert "Rindas samazināšana" in anonymous.get(reverse("learning:practice_list")).content.decode()
    # Once published, the municipality's staff no longer edit it; the coordinator still may.
    assert world.client("staff_a").get(reverse("learning:practice_edit", kwargs={"pk": case.pk})).status_code == 403
    world.client("coordinator").post(reverse("learning:practice_unpublish", kwargs={"pk": case.pk}))
    case.refresh_from_db()
    assert not case.is_published


def test_coordinator_of_another_network_cannot_publish(world):
    from networks.models import Role
    from networks.tests.factories import RoleFactory, UserFactory

    case = PracticeCaseFactory(municipality=world.a, network=world.network, status="submitted", published_at=None)
    u_coordinator = UserFactory(username="coordinator-u")
    RoleFactory(user=u_coordinator, kind=Role.Kind.COORDINATOR, network=world.other_network)
    client = world.client("anonymous")
    client.force_login(u_coordinator)
    assert (
        client.post(reverse("learning:practice_publish", kwargs={"pk": case.pk}), {"visibility": "public"}).status_code
        == 403
    )
    assert client.get(reverse("learning:practice_detail", kwargs={"pk": case.pk})).status_code == 403
    case.refresh_from_db()
    assert not case.is_published


def test_staff_cannot_submit_for_another_municipality(world):
    data = {"network": world.network.pk, "municipality": world.b.pk, "title": "X", "summary": "Y"}
    response = world.client("staff_a").post(reverse("learning:practice_new"), data)
    assert response.status_code == 200  # B is not among A's staff's choices
    assert not PracticeCase.objects.exists()


def test_search_and_filters(world):
    indicator = IndicatorFactory(code="QUEUE_TIME")
    NetworkIndicator.objects.create(network=world.network, indicator=indicator)
    queue = PracticeCaseFactory(
        municipality=world.a, network=world.network, title="Rindas pārvaldība", summary="Elektroniska rinda."
    )
    queue.indicators.add(indicator)
    heating = PracticeCaseFactory(
        municipality=world.b, network=world.network, title="Siltināšana", text="Daudzdzīvokļu māju siltināšana."
    )
    services._tags_set(heating, ["energoefektivitāte"])
    other = PracticeCaseFactory(municipality=world.c, network=world.other_network, title="Skolu tīkls")
    hidden = PracticeCaseFactory(
        municipality=world.a, network=world.network, title="Rindas slepenā", visibility="members"
    )
    anonymous = world.users.get("anonymous")
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()

    def titles(user, **filters):
        return sorted(c.title for c in selectors.practice_search(user=user, **filters))

    assert titles(anonymous, query="rinda") == ["Rindas pārvaldība"]
    assert titles(world.users["viewer_a"], query="RINDA") == ["Rindas pārvaldība", "Rindas slepenā"]
    assert titles(anonymous, query="energoefektivitāte") == ["Siltināšana"]
    assert titles(anonymous, query="māju") == ["Siltināšana"]
    assert titles(anonymous, network_id=world.other_network.pk) == ["Skolu tīkls"]
    assert titles(anonymous, indicator_id=indicator.pk) == ["Rindas pārvaldība"]
    assert titles(anonymous, municipality_id=world.b.pk) == ["Siltināšana"]
    # The page, with filters from the query string.
    html = (
        world.client("anonymous")
        .get(reverse("learning:practice_list"), {"q": "rinda", "network": "T"})
        .content.decode()
    )
    assert "Rindas pārvaldība" in html
    assert "Skolu tīkls" not in html
    assert hidden.title not in html
    assert other.title not in html


@pytest.mark.parametrize("persona", [*PERSONAS, "admin"])
def test_the_search_query_agrees_with_the_predicate(world, persona):
    cases = [
        PracticeCaseFactory(municipality=world.a, network=world.network, visibility="public"),
        PracticeCaseFactory(municipality=world.a, network=world.network, visibility="members"),
        PracticeCaseFactory(municipality=world.a, network=world.network, status="submitted", published_at=None),
        PracticeCaseFactory(municipality=world.c, network=world.other_network, visibility="members"),
        PracticeCaseFactory(municipality=world.c, network=world.other_network, status="submitted", published_at=None),
    ]
    from django.contrib.auth.models import AnonymousUser

    user = world.users.get(persona) or AnonymousUser()
    listed = set(selectors.practice_search(user=user).values_list("pk", flat=True))
    for case in cases:
        members = set(case.network.memberships.active().values_list("municipality_id", flat=True))
        assert (case.pk in listed) is permissions.can_view_practice(user, case, members), case


def test_practice_list_query_count(world, django_assert_max_num_queries):
    for n in range(15):
        case = PracticeCaseFactory(municipality=world.a, network=world.network, title=f"Prakse {n}")
        services._tags_set(case, ["a", "b"])
    client = world.client("staff_a")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("learning:practice_list"))
    assert response.content.decode().count("Prakse ") >= 15


def test_english_texts_in_the_english_ui(world):
    case = PracticeCaseFactory(municipality=world.a, network=world.network, title="Latviski", title_en="In English")
    client = world.client("anonymous")
    client.cookies["django_language"] = "en"
    html = client.get(reverse("learning:practice_detail", kwargs={"pk": case.pk}), HTTP_ACCEPT_LANGUAGE="en").content
    assert "In English" in html.decode()


def test_staff_edit_their_case_add_and_remove_attachments(world, settings, django_capture_on_commit_callbacks):
    _submit(world, [])
    case = PracticeCase.objects.get()
    client = world.client("staff_a")
    response = client.post(
        reverse("learning:practice_edit", kwargs={"pk": case.pk}),
        {
            "title": "Jauns virsraksts",
            "summary": "S",
            "tags_text": "jauns",
            "period_label": "2024",
            "files": [SimpleUploadedFile("Tabula.xlsx", b"PK\x03\x04 not really a workbook")],
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.title == "Jauns virsraksts"
    assert case.period.label == "2024"
    assert list(case.tags.values_list("name", flat=True)) == ["jauns"]
    attachment = case.attachments.get()
    assert attachment.name == "tabula.xlsx"
    stored = settings.MEDIA_ROOT / "private" / attachment.file.name
    assert stored.exists()
    # Another municipality's staff cannot remove it.
    delete = reverse("learning:attachment_delete", kwargs={"pk": attachment.pk})
    assert world.client("staff_b").post(delete).status_code == 403
    assert world.client("viewer_a").post(delete).status_code == 403
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(delete).status_code == 302
    assert not case.attachments.exists()
    assert not stored.exists()
