"""The shared value rules: the hard check and saving with history and optimistic locking."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from indicators.models import DataItem, Submission, Value
from indicators.services.periods import period_get_or_create, round_get_or_create, submission_get_or_create
from indicators.services.values import ConcurrentEditError, ValueInput, submission_values_save
from indicators.validation import check_value_hard


@pytest.fixture
def item(db):
    return DataItem.objects.create(code="DWELLINGS", name="Dzīvokļi", unit="gab.", min_value=0, max_value=100000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1 234,5", Decimal("1234.5")),
        ("1234.5", Decimal("1234.5")),
        ("\u00a012\u00a0345", Decimal("12345")),
        ("0,000000000000001", Decimal("0.000000000000001")),
        ("123456789012345.5", Decimal("123456789012345.5")),  # 16 significant digits, kept exactly
        (12.5, Decimal("12.5")),
        (7, Decimal(7)),
    ],
)
def test_numbers_as_entered_are_kept_exactly(item, raw, expected):
    item.max_value = None
    checked = check_value_hard(item, raw)
    assert checked.error is None
    assert checked.number == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "'abc' is not a number"),
        ("1,2,3", "is not a number"),
        ("-1", "below the allowed minimum 0"),
        ("100001", "above the allowed maximum 100,000"),
        ("0,0000000000000001", "at most 15 digits after the decimal point"),
        ("1e30", "too large"),
        ("nan", "is not a number"),
        ("inf", "is not a number"),
    ],
)
def test_hard_errors_are_clear(item, raw, message):
    from django.utils import translation

    item.refresh_from_db()
    with translation.override("en"):
        checked = check_value_hard(item, raw)
    assert checked.number is None
    assert message in checked.error


def test_hard_errors_speak_latvian_numbers(item):
    from django.utils import translation

    item.refresh_from_db()
    with translation.override("lv"):
        assert "100\u00a0000" in check_value_hard(item, "100001").error


def test_empty_is_not_an_error(item):
    assert check_value_hard(item, "  ") == check_value_hard(item, None)
    assert check_value_hard(item, "").number is None and check_value_hard(item, "").error is None


@pytest.fixture
def submission(world, item):
    period = period_get_or_create(label="2024")
    return submission_get_or_create(
        round=round_get_or_create(network=world.network, period=period), municipality=world.a
    )


def test_save_records_who_changed_what(world, submission, item):
    staff = world.users["staff_a"]
    submission_values_save(
        submission=submission, user=staff, values={item.pk: ValueInput(Decimal("10.50"))}, expected_version=0
    )
    submission_values_save(
        submission=submission,
        user=staff,
        values={item.pk: ValueInput(Decimal("12"), explanation="Jauna māja")},
        expected_version=1,
    )
    value = Value.objects.get(submission=submission, item=item)
    assert value.number == Decimal("12") and value.explanation == "Jauna māja"
    history = list(value.history.order_by("history_date"))
    assert [h.number for h in history] == [Decimal("10.5"), Decimal("12")]
    assert {h.history_user for h in history} == {staff}


def test_unchanged_values_add_no_history(world, submission, item):
    staff = world.users["staff_a"]
    submission_values_save(
        submission=submission, user=staff, values={item.pk: ValueInput(Decimal(5))}, expected_version=0
    )
    changed = submission_values_save(
        submission=submission, user=staff, values={item.pk: ValueInput(Decimal("5.0"))}, expected_version=1
    )
    assert changed == []
    assert Value.history.count() == 1


def test_the_second_of_two_concurrent_edits_is_refused_and_nothing_is_lost(world, submission, item):
    # Both editors opened the submission at version 0.
    first, second = world.users["staff_a"], world.users["coordinator"]
    submission_values_save(
        submission=submission, user=first, values={item.pk: ValueInput(Decimal(1))}, expected_version=0
    )
    with translation.override("en"), pytest.raises(ConcurrentEditError, match="Someone else saved this submission"):
        submission_values_save(
            submission=Submission.objects.get(pk=submission.pk),
            user=second,
            values={item.pk: ValueInput(Decimal(2))},
            expected_version=0,
        )
    assert Value.objects.get(submission=submission, item=item).number == Decimal(1)
    assert Submission.objects.get(pk=submission.pk).version == 1


def test_declared_missing_and_cleared(world, submission, item):
    staff = world.users["staff_a"]
    submission_values_save(
        submission=submission,
        user=staff,
        values={item.pk: ValueInput(is_missing=True, missing_reason="Nav uzskaites")},
        expected_version=0,
    )
    value = Value.objects.get(submission=submission, item=item)
    assert value.is_missing and value.number is None and value.missing_reason == "Nav uzskaites"
    submission_values_save(submission=submission, user=staff, values={item.pk: ValueInput()}, expected_version=1)
    assert not Value.objects.filter(submission=submission).exists()
    assert Value.history.filter(history_type="-").count() == 1  # the removal is in the history too
