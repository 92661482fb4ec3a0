"""A reporting round from the first value to the public results, in a real browser, in both languages.

demo-staff fills Aizkraukle's 2025 T3 form; an outlier is refused until explained; the coordinator
returns the submission with a message; staff fixes it and submits again; the coordinator approves,
closes and publishes the round; an anonymous visitor then sees the 2025 results.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "benchlearning-demo"
HOME = "LV0020000"
OUTLIER_ITEM = "DWELLINGS_MUNICIPAL"


def _(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def typed(number: str, language: str) -> str:
    """A number as a person types it in this UI language (decimal comma in Latvian)."""
    return number.replace(".", ",") if language == "lv" else number


def fill_form(page, language: str, entries: dict, outlier: str | None = None) -> None:
    """Type every entered value; `outlier` gets a value a hundred times too large."""
    for item, (number, note) in entries.items():
        if number:
            shown = str(int(float(number) * 100)) if item.code == outlier else number
            page.fill(f"input[name=value_{item.pk}]", typed(shown, language))
        else:
            page.fill(f"input[name=value_{item.pk}]", "")
            page.check(f"input[name=missing_{item.pk}]")
            page.fill(f"input[name=reason_{item.pk}]", note)


@pytest.fixture
def demo_round(demo):
    from indicators.demo import demo_values_rows
    from indicators.models import DataItem, Round

    round_ = Round.objects.get(network__code="T3", period__label="2025")
    items = {item.code: item for item in DataItem.objects.filter(source=DataItem.Source.ENTERED)}
    rows = [row for row in demo_values_rows() if row[0] == HOME and row[2] == "2025" and row[1] in items]
    entries = {items[code]: (value, note) for _code, code, _period, value, note in rows}
    assert len(entries) >= 10 and entries[items[OUTLIER_ITEM]][0]
    return round_, entries, items[OUTLIER_ITEM]


@pytest.mark.parametrize("language", ["lv", "en"])
def test_a_round_from_the_staff_form_to_the_published_results(demo_round, new_page, live_server, language):
    from indicators.models import Round, Submission

    round_, entries, outlier = demo_round
    form_url = live_server.url + reverse("indicators:submission_form", kwargs={"round_pk": round_.pk, "code": HOME})

    # An anonymous visitor does not see 2025 results yet.
    visitor = new_page(language)
    profile_url = live_server.url + reverse("comparisons:profile", kwargs={"network": "T3", "code": HOME})
    visitor.goto(profile_url)
    expect(visitor.locator("#control-period option[value='2024']")).to_have_count(1)
    assert visitor.locator("#control-period option[value='2025']").count() == 0

    # Staff: the form, one value a hundred times too large.
    staff = new_page(language)
    log_in(staff, live_server, "demo-staff", PASSWORD)
    staff.goto(form_url)
    assert staff.locator("html").get_attribute("lang") == language
    expect(staff.locator("h1")).to_contain_text("2025")
    expect(staff.locator("h1 ~ p .badge").first).to_have_text(_(language, "draft"))
    fill_form(staff, language, entries, outlier=OUTLIER_ITEM)
    staff.get_by_role("button", name=_(language, "Submit to the coordinator")).click()
    staff.wait_for_load_state()
    stop = staff.get_by_role("alert").filter(has_text=_(language, "These values stop the submission:"))
    expect(stop).to_be_visible()
    expect(stop.get_by_role("link")).to_have_count(1)
    with translation.override(language):
        outlier_name = outlier.display_name
    expect(stop.get_by_role("link")).to_have_text(outlier_name)
    expect(staff.locator("h1 ~ p .badge").first).to_have_text(_(language, "draft"))
    # Everything typed was kept as a draft; the link leads to the value.
    stop.get_by_role("link").click()
    assert staff.url.endswith(f"#item-{outlier.pk}")
    staff.fill(f"textarea[name=explanation_{outlier.pk}]", "Jauns īres nams nodots ekspluatācijā (demo).")
    staff.get_by_role("button", name=_(language, "Submit to the coordinator")).click()
    staff.wait_for_load_state()
    expect(staff.get_by_text(_(language, "Submitted. The coordinator will review your figures."))).to_be_visible()
    expect(staff.locator("h1 ~ p .badge").first).to_have_text(_(language, "submitted"))
    assert staff.locator(f"input[name=value_{outlier.pk}]").count() == 0  # no longer editable

    # Coordinator: returns it with a message.
    coordinator = new_page(language)
    log_in(coordinator, live_server, "demo-coordinator", PASSWORD)
    submission = Submission.objects.get(round=round_, municipality__code=HOME)
    review_url = live_server.url + reverse("indicators:submission_review", kwargs={"pk": submission.pk})
    coordinator.goto(review_url)
    expect(coordinator.locator(f"#item-{outlier.pk}")).to_contain_text("Jauns īres nams")
    coordinator.get_by_label(_(language, "Return for correction")).check()
    coordinator.get_by_label(_(language, "Message to the municipality")).fill("Lūdzu, pārbaudiet dzīvokļu skaitu.")
    coordinator.get_by_role("button", name=_(language, "Record the decision")).click()
    coordinator.wait_for_load_state()
    expect(coordinator.get_by_text(_(language, "Returned to the municipality with your message."))).to_be_visible()
    expect(coordinator.locator("h1 ~ p .badge").first).to_have_text(_(language, "returned"))

    # Staff sees the message, corrects the value and submits again.
    staff.goto(form_url)
    returned = staff.locator(".alert-danger").filter(has_text=_(language, "Returned by the coordinator"))
    expect(returned).to_contain_text("Lūdzu, pārbaudiet dzīvokļu skaitu.")
    expect(staff.locator("h1 ~ p .badge").first).to_have_text(_(language, "returned"))
    staff.fill(f"input[name=value_{outlier.pk}]", typed(entries[outlier][0], language))
    staff.fill(f"textarea[name=explanation_{outlier.pk}]", "")
    staff.get_by_role("button", name=_(language, "Submit to the coordinator")).click()
    staff.wait_for_load_state()
    expect(staff.get_by_text(_(language, "Submitted. The coordinator will review your figures."))).to_be_visible()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SUBMITTED
    stored = submission.values.get(item=outlier)
    assert stored.number == Decimal(entries[outlier][0]) and stored.explanation == ""

    # Coordinator approves, closes and publishes the round on the coordination pages.
    coordinator.goto(review_url)
    coordinator.get_by_label(_(language, "Approve")).check()
    coordinator.get_by_role("button", name=_(language, "Record the decision")).click()
    coordinator.wait_for_load_state()
    expect(coordinator.get_by_text(_(language, "Approved."), exact=True)).to_be_visible()
    coordinator.goto(
        live_server.url + reverse("indicators:coordination_round", kwargs={"code": "T3", "period": "2025"})
    )
    coordinator.get_by_role("button", name=_(language, "Close the round")).click()
    coordinator.wait_for_load_state()
    expect(coordinator.get_by_text(_(language, "The round is closed."))).to_be_visible()
    coordinator.get_by_role("button", name=_(language, "Publish the results")).click()
    coordinator.wait_for_load_state()
    expect(coordinator.get_by_text(_(language, "The results are published."))).to_be_visible()
    assert Round.objects.get(pk=round_.pk).status == Round.Status.PUBLISHED

    # The anonymous visitor now finds 2025 on Aizkraukle's profile.
    visitor.goto(profile_url)
    expect(visitor.locator("#control-period option[value='2025']")).to_have_count(1)
    visitor.goto(profile_url + "?period=2025")
    expect(visitor.locator("[data-chart] .main-svg").first).to_be_attached(timeout=15000)
    assert "2025" in visitor.locator("#control-period option:checked").inner_text()
