"""Backup and restore of one network: export, flush, import, export again (see networks/backup.py)."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from comparisons.models import Result
from comparisons.services import results_recompute
from indicators.models import DataItem, Round, Submission, Value
from indicators.services.periods import submission_get_or_create
from indicators.services.rounds import round_close, round_publish
from indicators.services.submissions import (
    submission_approve,
    submission_return,
    submission_submit,
    value_query_add,
)
from indicators.services.values import ValueInput, submission_values_save
from indicators.tests.factories import PeriodFactory, data_round
from learning.models import Meeting, PracticeAttachment, PracticeCase, Tag
from learning.tests.factories import PlanTargetFactory, learning_objects
from networks.models import Membership, Municipality, Network, Role
from networks.sections import backup_sections
from networks.tests.factories import MembershipFactory, MunicipalityFactory, RoleFactory, UserFactory

ATTACHMENT = b"%PDF-1.4 plan of the social housing queue\n"


def _save(submission: Submission, user, values: dict[str, ValueInput]) -> None:
    submission.refresh_from_db()
    items = {item.code: item.pk for item in DataItem.objects.filter(code__in=values)}
    submission_values_save(
        submission=submission,
        user=user,
        values={items[code]: given for code, given in values.items()},
        expected_version=submission.version,
    )


def _rich_network(world) -> Round:
    """T with a published round built through the workflow services (so values have history),
    a predecessor municipality, a query thread, practice with an attachment, a plan and a meeting."""
    users = world.users
    round_ = data_round(world)
    # Two decimals, as 14.25 below is entered (a figure with more decimals than its item shows
    # stops the submission).
    DataItem.objects.filter(code="DWELLINGS").update(decimals=2)
    old = MunicipalityFactory(
        code="LVO000009",
        name="Pļaviņu novads",
        valid_from=datetime.date(2009, 7, 1),
        valid_to=datetime.date(2021, 6, 30),
        successor=world.a,
        attributes={"family_group": "2"},
    )
    MembershipFactory(network=world.network, municipality=old, joined=None, left=datetime.date(2021, 6, 30))

    submission = submission_get_or_create(round=round_, municipality=world.a)
    _save(
        submission,
        users["staff_a"],
        {
            "DWELLINGS": ValueInput(number=Decimal("12")),
            "POPULATION": ValueInput(number=Decimal("8123.5")),
            "QUEUE": ValueInput(number=Decimal("3")),
            "AREA": ValueInput(is_missing=True, missing_reason="not measured"),
        },
    )
    _save(
        submission,
        users["staff_a"],
        {"DWELLINGS": ValueInput(number=Decimal("14.25"), explanation="Two new flats"), "QUEUE": ValueInput()},
    )
    _save(submission, users["staff_a"], {"QUEUE": ValueInput(number=Decimal("4"))})
    submission_submit(submission=submission, user=users["staff_a"])
    submission_return(submission=submission, user=users["coordinator"], message="Please check the dwellings.")
    value_query_add(
        submission=submission,
        item=DataItem.objects.get(code="DWELLINGS"),
        user=users["coordinator"],
        text="Is 14.25 right?",
    )
    _save(submission, users["staff_a"], {"POPULATION": ValueInput(number=Decimal("8124"))})
    submission_submit(submission=submission, user=users["staff_a"], message="Checked.")
    for other in Submission.objects.filter(round=round_).exclude(municipality=world.a):
        _save(other, users["coordinator"], {"POPULATION": ValueInput(number=Decimal(5000 + other.pk))})
    for other in Submission.objects.filter(round=round_):
        submission_approve(submission=other, user=users["coordinator"])
    round_close(round=round_, user=users["coordinator"])
    round_publish(round=round_, user=users["coordinator"])
    results_recompute(network=world.network, period=round_.period)

    objects = learning_objects(world)
    case = objects["published"]
    case.tags.add(Tag.objects.create(name="housing"))
    case.indicators.add(round_.indicators.model.objects.get(code="SOC_HOUSING"))
    attachment = PracticeAttachment(case=case, name="plan.pdf", content_type="application/pdf", size=len(ATTACHMENT))
    attachment.file.save("plan.pdf", ContentFile(ATTACHMENT), save=True)
    PlanTargetFactory(
        plan=objects["plan"],
        indicator=case.indicators.get(),
        baseline_period=round_.period,
        target_period=PeriodFactory(label="2026"),
    )
    objects["meeting"].attendees.add(users["coordinator"], users["staff_a"])
    objects["meeting"].host = world.b
    objects["meeting"].save()
    return round_


def _figures() -> list[tuple]:
    return sorted(
        Result.objects.filter(network__code="T").values_list(
            "period__label", "indicator__code", "peer_group", "municipality__code", "value", "rank", "n", "median"
        ),
        key=repr,
    )


def _export(tmp_path, name: str) -> str:
    path = tmp_path / name
    call_command("export_network", "T", "--output", str(path))
    return path.read_text(encoding="utf-8")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_network_moves_to_an_empty_installation_identically(world, media, tmp_path):
    _rich_network(world)
    # A role the network's invitation gave (scoped to T) and one another network gave (not T's).
    invited = UserFactory(username="invited-b")
    RoleFactory(user=invited, kind=Role.Kind.STAFF, municipality=world.b, network=world.network)
    RoleFactory(user=invited, kind=Role.Kind.VIEWER, municipality=world.b, network=world.other_network)
    figures = _figures()
    assert figures, "the published round has stored results"
    first = _export(tmp_path, "first.json")
    data = json.loads(first)
    assert "password" not in first
    assert {m["code"] for m in data["municipalities"]} >= {"LVA000001", "LVB000002", "LVO000009"}

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # TRUNCATE refuses while deferred FK checks are pending
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False)
    assert not Network.objects.exists()
    assert not Municipality.objects.exists()
    assert not get_user_model().objects.exists()

    call_command("import_network", str(tmp_path / "first.json"), stdout=open("/dev/null", "w"))  # noqa: SIM115
    second = _export(tmp_path, "second.json")
    assert second == first

    # The history of A's dwellings: created, then changed, by staff-a; QUEUE's removal is kept.
    a = Municipality.objects.get(code="LVA000001")
    assert a.predecessors.get().code == "LVO000009"
    dwellings = Value.objects.get(submission__municipality=a, item__code="DWELLINGS")
    rows = list(dwellings.history.order_by("history_date", "history_id"))
    assert [(r.history_type, r.number, r.history_user.username) for r in rows] == [
        ("+", Decimal("12"), "staff-a"),
        ("~", Decimal("14.25"), "staff-a"),
    ]
    # QUEUE was removed and entered again: the removed value's history is kept under its own id.
    queue = Value.history.filter(submission__municipality=a, item__code="QUEUE").order_by("history_date", "history_id")
    assert [(r.history_type, r.number) for r in queue] == [
        ("+", Decimal("3")),
        ("-", Decimal("3")),
        ("+", Decimal("4")),
    ]
    current = Value.objects.get(submission__municipality=a, item__code="QUEUE")
    ids = [r.id for r in queue]
    assert ids[0] == ids[1] != ids[2] == current.pk
    submission = Submission.objects.get(municipality=a)
    assert [(e.to_status, e.user.username) for e in submission.events.order_by("at", "pk")] == [
        ("submitted", "staff-a"),
        ("returned", "coordinator"),
        ("submitted", "staff-a"),
        ("approved", "coordinator"),
    ]
    assert submission.queries.get().text == "Is 14.25 right?"
    assert Round.objects.get(network__code="T").status == Round.Status.PUBLISHED

    # People come back with their roles and no usable password; the attachment with its bytes.
    coordinator = get_user_model().objects.get(username="coordinator")
    assert not coordinator.has_usable_password()
    assert Role.objects.filter(user=coordinator, kind=Role.Kind.COORDINATOR, network__code="T").exists()
    assert Role.objects.filter(user__username="viewer-a", kind=Role.Kind.VIEWER, municipality=a).exists()
    # A role scoped to T comes back scoped to T; another network's role is not T's to carry.
    assert list(Role.objects.filter(user__username="invited-b").values_list("kind", "network__code")) == [
        ("staff", "T")
    ]
    attachment = PracticeAttachment.objects.get()
    with attachment.file.open("rb") as fh:
        assert fh.read() == ATTACHMENT
    assert PracticeCase.objects.get(title="Publicēta prakse").tags.get().name == "housing"
    assert sorted(Meeting.objects.get().attendees.values_list("username", flat=True)) == ["coordinator", "staff-a"]

    # The stored results were recomputed by the import to the very same figures.
    assert _figures() == figures


def test_import_refuses_a_network_that_exists_and_writes_nothing(world, media, tmp_path):
    _rich_network(world)
    _export(tmp_path, "t.json")
    memberships = Membership.objects.count()
    with pytest.raises(CommandError, match="network T already exists"):
        call_command("import_network", str(tmp_path / "t.json"))
    assert Network.objects.filter(code="T").count() == 1
    assert Membership.objects.count() == memberships


def test_a_damaged_document_writes_nothing(world, media, tmp_path):
    _rich_network(world)
    data = json.loads(_export(tmp_path, "t.json"))
    data["network"]["code"] = "T2"
    data["indicator_set"].append({"indicator": "NO_SUCH_INDICATOR", "position": 9})
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    users = get_user_model().objects.count()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_network", str(broken))
    assert not Network.objects.filter(code="T2").exists()
    assert get_user_model().objects.count() == users


def test_export_of_an_unknown_network_is_refused(db):
    with pytest.raises(CommandError, match="No network with the code NOPE"):
        call_command("export_network", "NOPE")


def test_a_network_joins_an_installation_that_has_other_networks(world, media, tmp_path):
    """Municipalities, people and the catalogue that exist already are reused, not duplicated."""
    _rich_network(world)
    data = json.loads(_export(tmp_path, "t.json"))
    data["network"]["code"] = "T2"
    copy = tmp_path / "t2.json"
    copy.write_text(json.dumps(data), encoding="utf-8")
    municipalities, users, values = (
        Municipality.objects.count(),
        get_user_model().objects.count(),
        Value.objects.count(),
    )

    call_command("import_network", str(copy), "--no-recompute", stdout=open("/dev/null", "w"))  # noqa: SIM115

    t2 = Network.objects.get(code="T2")
    assert sorted(t2.memberships.values_list("municipality__code", flat=True)) == sorted(
        world.network.memberships.values_list("municipality__code", flat=True)
    )
    assert (Municipality.objects.count(), get_user_model().objects.count()) == (municipalities, users)
    assert Value.objects.filter(submission__round__network=t2).count() == values
    assert Role.objects.filter(user__username="coordinator", network=t2).exists()
    assert not Result.objects.filter(network=t2).exists()  # --no-recompute


def test_every_app_with_records_has_its_section_in_layer_order(db):
    """Import runs the sections in this order (each refers to objects the ones before recreated),
    export in the reverse one; an app that forgot to register would silently drop its records."""
    assert [name for name, _section in backup_sections()] == ["networks", "indicators", "learning"]
