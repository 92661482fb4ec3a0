"""A returned submission, in a real browser, in both languages: the coordinator returns
Aizkraukle's 2025 T3 figures with a message; demo-staff signs in and the landing page shows the
returned form with the message first; the link in the e-mail leads to the form, which shows the
message too. Screenshots of the landing pages at 1280 and 375 px (`BROWSER_SCREENSHOTS` keeps them).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from playwright.sync_api import expect

from .conftest import log_in
from .test_accessibility import serious

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "benchlearning-demo"
HOME = "LV0020000"
MESSAGE = "Lūdzu, pārbaudiet dzīvokļu skaitu: 2024. gadā bija 412."
SCREENS = {"desk": 1280, "phone": 375}


def _(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def shoot(page, tmp_path: Path, name: str) -> None:
    """Full-page screenshots at both widths; nothing may scroll sideways."""
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    for screen, width in SCREENS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
        page.screenshot(path=str(folder / f"{name}-{screen}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.fixture
def submitted_round(demo, settings, live_server):
    """The demo's open 2025 T3 round with Aizkraukle's figures submitted; links in e-mails point
    at the live server."""
    from indicators.demo import demo_values_rows
    from indicators.models import DataItem, Round, Submission, SubmissionEvent, Value

    settings.PORTAL_URL = live_server.url
    round_ = Round.objects.get(network__code="T3", period__label="2025")
    submission = Submission.objects.get(round=round_, municipality__code=HOME)
    items = {item.code: item for item in DataItem.objects.filter(source=DataItem.Source.ENTERED)}
    for municipality_code, code, period, value, note in demo_values_rows():
        if municipality_code == HOME and period == "2025" and code in items:
            missing = not value
            Value.objects.update_or_create(
                submission=submission,
                item=items[code],
                defaults={"number": None if missing else value, "is_missing": missing, "missing_reason": note},
            )
    SubmissionEvent.objects.create(submission=submission, from_status=submission.status, to_status="submitted")
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED)
    mail.outbox.clear()
    return round_, submission


@pytest.mark.parametrize("language", ["lv", "en"])
def test_the_returned_message_and_the_mails_link_lead_back_to_the_form(
    submitted_round, new_page, live_server, language, tmp_path
):
    from django.contrib.auth import get_user_model

    from indicators import selectors
    from learning.models import Follow
    from networks.models import Municipality, Network

    round_, submission = submitted_round
    staff_user = get_user_model().objects.get(username="demo-staff")
    # The staff member reads the portal in this language: they followed their municipality in it
    # (the language every e-mail to them is written in).
    Follow.objects.create(
        user=staff_user,
        network=Network.objects.get(code="T3"),
        municipality=Municipality.objects.get(code=HOME),
        language=language,
    )
    form_path = reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": HOME})

    # The coordinator's landing page: the submission waits for review, linked to the filter.
    coordinator = new_page(language)
    log_in(coordinator, live_server, "demo-coordinator", PASSWORD)
    reviews = coordinator.locator("[data-panel=reviews]")
    expect(reviews).to_be_visible()
    shoot(coordinator, tmp_path, f"coordinator-landing-{language}")
    assert serious(coordinator) == []
    matrix = reverse("indicators:round_matrix", kwargs={"round_pk": round_.pk})
    review = selectors.round_review(round=round_)
    with translation.override(language):
        waiting = ngettext(
            "%(counter)s submission to review", "%(counter)s submissions to review", review.count("submitted")
        ) % {"counter": review.count("submitted")}
        warned = ngettext(
            "%(counter)s submission with unexplained warnings",
            "%(counter)s submissions with unexplained warnings",
            review.with_unexplained,
        ) % {"counter": review.with_unexplained}
    expect(reviews.locator(f"a[href='{matrix}?status=submitted']")).to_have_text(waiting)
    expect(reviews.locator(f"a[href='{matrix}?unexplained=1']")).to_have_text(warned)

    # ...and returns Aizkraukle's figures with a message.
    coordinator.goto(live_server.url + reverse("indicators:submission_review", kwargs={"pk": submission.pk}))
    coordinator.get_by_label(_(language, "Return for correction")).check()
    coordinator.get_by_label(_(language, "Message to the municipality")).fill(MESSAGE)
    coordinator.get_by_role("button", name=_(language, "Record the decision")).click()
    coordinator.wait_for_load_state()
    expect(coordinator.get_by_text(_(language, "Returned to the municipality with your message."))).to_be_visible()

    # Staff sign in and land on their tasks: the returned form first, with the message.
    staff = new_page(language)
    log_in(staff, live_server, "demo-staff", PASSWORD)
    assert urlsplit(staff.url).path == reverse("networks:my_work")
    panels = staff.locator("[data-panel]")
    expect(panels.first).to_have_attribute("data-panel", "forms")
    task = staff.locator("[data-task=form].task-returned")
    expect(task).to_have_count(1)
    expect(task).to_contain_text(_(language, "Returned by the coordinator"))
    expect(task).to_contain_text(MESSAGE)
    expect(task.get_by_role("link", name=_(language, "Continue the form"))).to_have_attribute("href", form_path)
    shoot(staff, tmp_path, f"staff-landing-{language}")
    assert serious(staff) == []

    # The e-mail: in the staff member's language, with the absolute link to the form.
    (message,) = [m for m in mail.outbox if m.to == [staff_user.email]]
    with translation.override(language):
        subject = gettext("Your figures for %(period)s were returned") % {"period": "2025"}
    assert message.subject == subject
    assert MESSAGE in message.body
    (link,) = re.findall(r"https?://\S+", message.body)
    assert link == live_server.url + form_path

    # Opening the link leads to the form, which shows the message.
    staff.goto(link)
    assert urlsplit(staff.url).path == form_path
    returned = staff.locator(".alert-danger").filter(has_text=_(language, "Returned by the coordinator"))
    expect(returned).to_contain_text(MESSAGE)
    expect(staff.locator("h1")).to_contain_text("2025")
