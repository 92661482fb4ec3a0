"""E-mail: round opened, three days before the deadline, returned, arrived."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.core import mail

from indicators import notifications, selectors
from indicators.models import DataItem, Round, Submission
from indicators.services.submissions import (
    round_deadline_remind,
    submission_return,
    submission_submit,
)
from indicators.tasks import deadline_reminders_send
from networks.models import Role
from networks.tests.factories import RoleFactory, UserFactory

from .factories import SubmissionFactory, ValueFactory, data_round


def round_opened_notify(round_: Round) -> int:
    return notifications.notify_round_opened(round=round_, municipality_ids=selectors.round_member_ids(round=round_))


def test_round_opened_mails_staff_of_member_municipalities_only(world, django_capture_on_commit_callbacks):
    round_ = data_round(world, others=0)
    # Staff of A whose role reaches only another network is not this round's business.
    elsewhere = UserFactory(username="staff-a-in-u")
    RoleFactory(user=elsewhere, kind=Role.Kind.STAFF, municipality=world.a, network=world.other_network)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sent = round_opened_notify(round_)
    assert sent == 2
    assert len(callbacks) == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["staff-a@example.org", "staff-b@example.org"]
    message = mail.outbox[0]
    assert "2024" in message.subject and "T" in message.subject
    assert message.from_email == settings.DEFAULT_FROM_EMAIL


def test_nothing_is_sent_before_commit(world, django_capture_on_commit_callbacks):
    round_ = data_round(world, others=0)
    with django_capture_on_commit_callbacks(execute=False):
        round_opened_notify(round_)
    assert mail.outbox == []


def test_deadline_reminder_three_days_before_to_those_not_submitted(world, django_capture_on_commit_callbacks):
    round_ = data_round(world, others=0)
    Round.objects.filter(pk=round_.pk).update(deadline=datetime.date(2025, 3, 31))
    SubmissionFactory(round=round_, municipality=world.b, status=Submission.Status.SUBMITTED)
    inactive = UserFactory(username="left-the-job", is_active=False)
    RoleFactory(user=inactive, kind=Role.Kind.STAFF, municipality=world.a)
    assert deadline_reminders_send.delay("2025-03-27").get() == 0  # four days before: nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_reminders_send.delay("2025-03-28").get() == 1
    assert [m.to for m in mail.outbox] == [["staff-a@example.org"]]
    assert "2024" in mail.outbox[0].subject


def test_closed_rounds_get_no_reminder(world):
    round_ = data_round(world, others=0)
    Round.objects.filter(pk=round_.pk).update(deadline=datetime.date(2025, 3, 31), status=Round.Status.CLOSED)
    assert deadline_reminders_send("2025-03-28") == 0


def test_beat_schedules_the_reminder():
    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "indicators.tasks.deadline_reminders_send" in entries


def test_submitted_mails_coordinators_returned_mails_staff(world, django_capture_on_commit_callbacks):
    round_ = data_round(world, others=0)
    submission = SubmissionFactory(round=round_, municipality=world.a)
    for code in ("DWELLINGS", "QUEUE", "AREA"):
        ValueFactory(submission=submission, item=DataItem.objects.get(code=code), number=Decimal(1))
    with django_capture_on_commit_callbacks(execute=True):
        submission_submit(submission=submission, user=world.users["staff_a"])
    assert [m.to for m in mail.outbox] == [["coordinator@example.org"]]
    assert world.a.name in mail.outbox[0].body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        submission_return(submission=submission, user=world.users["coordinator"], message="Check QUEUE, please.")
    assert [m.to for m in mail.outbox] == [["staff-a@example.org"]]
    assert "Check QUEUE, please." in mail.outbox[0].body


def test_reminder_goes_once_per_deadline(world, django_capture_on_commit_callbacks):
    round_ = data_round(world, others=0)
    Round.objects.filter(pk=round_.pk).update(deadline=datetime.date(2025, 3, 31))
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_reminders_send("2025-03-28") == 2
        assert deadline_reminders_send("2025-03-28") == 0  # beat ran twice that day
    assert len(mail.outbox) == 2
    # The deadline is extended: the new one gets its reminder.
    Round.objects.filter(pk=round_.pk).update(deadline=datetime.date(2025, 4, 30))
    with django_capture_on_commit_callbacks(execute=True):
        assert deadline_reminders_send("2025-04-27") == 2
    assert len(mail.outbox) == 4


def test_reminder_task_retries_when_the_mail_server_is_down(world, monkeypatch):
    round_ = data_round(world, others=0)
    Round.objects.filter(pk=round_.pk).update(deadline=datetime.date(2025, 3, 31))
    calls = []

    def flaky(*, round):
        calls.append(round.pk)
        if len(calls) == 1:
            raise ConnectionError("mail server down")
        return 2

    monkeypatch.setattr("indicators.tasks.round_deadline_remind", flaky)
    # The failure schedules a retry (with backoff) instead of losing the reminders...
    with pytest.raises(Retry):
        deadline_reminders_send.apply(args=["2025-03-28"]).get()
    # ...and the retried run sends them.
    assert deadline_reminders_send.apply(args=["2025-03-28"]).get() == 2
    assert calls == [round_.pk, round_.pk]
    assert deadline_reminders_send.max_retries == 5


@pytest.mark.django_db(transaction=True)
def test_failed_reminder_is_sent_again_by_the_retry(world, monkeypatch):
    round_ = data_round(world, others=0)
    Round.objects.filter(pk=round_.pk).update(deadline=datetime.date(2025, 3, 31))

    def down(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("indicators.notifications.send_mass_mail", down)
    with pytest.raises(ConnectionRefusedError):
        round_deadline_remind(round=round_)
    round_.refresh_from_db()
    assert round_.reminded_for is None  # the claim was released
    monkeypatch.undo()
    assert round_deadline_remind(round=round_) == 2
    assert len(mail.outbox) == 2
