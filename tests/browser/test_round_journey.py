"""A reporting round from the first value to the public results, in a real browser, in both languages.

demo-staff fills Aizkraukle's 2025 T3 form; an outlier is refused until explained; the coordinator
returns the submission with a message; staff fixes it and submits again; the coordinator filters the
review list, approves every submitted submission after a confirmation that lists the unexplained
warnings, closes and publishes the round after pages that say how many members are still in draft;
an anonymous visitor then sees the 2025 results.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "benchlearning-demo"
HOME = "LV0020000"
OUTLIER_ITEM = "DWELLINGS_MUNICIPAL"


def _(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def _home_name(language: str) -> str:
    from networks.models import Municipality

    with translation.override(language):
        return Municipality.objects.get(code=HOME).display_name


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
    from indicators import selectors
    from indicators.models import Round, Submission
    from indicators.views.coordination import round_state_sentences

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

    # Another member's figures came in by import, submitted with an outlier nobody explained.
    other = (
        Submission.objects.filter(round=round_, status=Submission.Status.SUBMITTED)
        .exclude(municipality__code=HOME)
        .select_related("municipality")
        .order_by("municipality__name")
        .first()
    )
    other.values.filter(item=outlier).update(number=Decimal(entries[outlier][0]) * 100, explanation="")
    with translation.override(language):
        other_name = other.municipality.display_name

    # Coordinator: from the round's page to the review list, filtered to the unexplained warnings.
    round_page = live_server.url + reverse("indicators:coordination_round", kwargs={"code": "T3", "period": "2025"})
    coordinator.goto(round_page)
    coordinator.get_by_role("link", name=_(language, "Review the submissions")).click()
    coordinator.wait_for_load_state()
    expect(coordinator.locator("#status-counts")).to_be_visible()
    coordinator.check("#filter-unexplained")
    coordinator.get_by_role("button", name=_(language, "Filter"), exact=True).click()
    coordinator.wait_for_load_state()
    assert "unexplained=1" in coordinator.url
    warned_row = coordinator.locator(f"tr[data-municipality='{other.municipality.code}']")
    expect(warned_row).to_contain_text(_(language, "no explanation"))
    expect(coordinator.locator(f"tr[data-municipality='{HOME}']")).to_have_count(0)

    # Every submitted submission, chosen with the select-all checkbox (ticks the rows).
    coordinator.select_option("select[name=status]", "submitted")
    coordinator.uncheck("#filter-unexplained")
    coordinator.get_by_role("button", name=_(language, "Filter"), exact=True).click()
    coordinator.wait_for_load_state()
    waiting = Submission.objects.filter(round=round_, status=Submission.Status.SUBMITTED).count()
    rows = coordinator.locator("input[name=submissions]")
    expect(rows).to_have_count(waiting)
    coordinator.check("#select-all")
    for index in range(waiting):
        expect(rows.nth(index)).to_be_checked()
    coordinator.get_by_role("button", name=_(language, "Approve the selected submissions")).click()
    coordinator.wait_for_load_state()

    # The confirmation lists the unexplained warnings; nothing is approved yet.
    alert = coordinator.locator("#unexplained-warnings")
    expect(alert).to_contain_text(other_name)
    expect(alert).to_contain_text(outlier_name)
    expect(alert).not_to_contain_text(_home_name(language))
    assert not Submission.objects.filter(round=round_, status=Submission.Status.APPROVED, pk=other.pk).exists()
    with translation.override(language):
        confirm = ngettext(
            "Confirm: approve %(counter)s submission", "Confirm: approve %(counter)s submissions", waiting
        )
    coordinator.get_by_role("button", name=confirm % {"counter": waiting}).click()
    coordinator.wait_for_load_state()
    with translation.override(language):
        approved = ngettext("%(count)d submission approved.", "%(count)d submissions approved.", waiting)
    expect(coordinator.get_by_text(approved % {"count": waiting})).to_be_visible()
    assert Submission.objects.get(pk=submission.pk).status == Submission.Status.APPROVED
    assert Submission.objects.get(pk=other.pk).status == Submission.Status.APPROVED

    # Close and publish, each confirmed on a page that says how complete the round is.
    coordinator.goto(round_page)
    coordinator.get_by_role("link", name=_(language, "Close the round")).click()
    coordinator.wait_for_load_state()
    with translation.override(language):
        state = round_state_sentences(selectors.round_completion(round=round_))
    for sentence in state:
        expect(coordinator.locator("#round-state")).to_contain_text(sentence)
    assert Round.objects.get(pk=round_.pk).status == Round.Status.OPEN
    coordinator.get_by_role("button", name=_(language, "Close the round")).click()
    coordinator.wait_for_load_state()
    expect(coordinator.get_by_text(_(language, "The round is closed."))).to_be_visible()
    coordinator.get_by_role("link", name=_(language, "Publish the results")).click()
    coordinator.wait_for_load_state()
    still_draft = Submission.objects.filter(round=round_, status=Submission.Status.DRAFT).count()
    assert still_draft, "the demo keeps late members in draft"
    with translation.override(language):
        members = len(selectors.round_completion(round=round_))
        in_draft = ngettext(
            "%(count)d of %(total)d members is still in draft.",
            "%(count)d of %(total)d members are still in draft.",
            still_draft,
        ) % {"count": still_draft, "total": members}
    expect(coordinator.locator("h1")).to_have_text(_(language, "Publish anyway?"))
    expect(coordinator.locator("#round-state")).to_contain_text(in_draft)
    assert Round.objects.get(pk=round_.pk).status == Round.Status.CLOSED
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
