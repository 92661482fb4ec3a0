"""Celery tasks of the submission workflow: thin wrappers that load by id and call a service."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from .models import Round
from .services.submissions import round_deadline_remind

REMIND_DAYS_BEFORE = 3


@shared_task(autoretry_for=(ConnectionError, OSError), retry_backoff=True, max_retries=5)
def deadline_reminders_send(today: str | None = None) -> int:
    """Daily (Celery beat): remind the staff of open rounds whose deadline is three days away.

    Runs once a day, so each round's reminder goes out once; `today` (ISO date) is for tests and
    re-runs of a missed day. Returns the number of e-mails sent.
    """
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    due = day + datetime.timedelta(days=REMIND_DAYS_BEFORE)
    sent = 0
    for round_ in Round.objects.filter(status=Round.Status.OPEN, deadline=due).select_related("network", "period"):
        sent += round_deadline_remind(round=round_)
    return sent
