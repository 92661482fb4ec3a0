"""The sentences for decision makers: one table of cases over every rule (docs/statistics.md)."""

from __future__ import annotations

import math

import pytest
from django.utils import translation

from comparisons.words import comparison_words, distance_band, trend_words

NAN = math.nan

# (value, median, mad, n, polarity, expected English text or None, tone)
CASES = [
    # Bands by the distance in MAD, higher is better.
    (10.2, 10.0, 1.0, 10, "higher", "10.2 is broadly similar to the peer median (10.0).", "similar"),
    (9.6, 10.0, 1.0, 10, "higher", "9.6 is broadly similar to the peer median (10.0).", "similar"),
    (10.5, 10.0, 1.0, 10, "higher", "10.5 is slightly better than the peer median (10.0).", "better"),
    (11.4, 10.0, 1.0, 10, "higher", "11.4 is slightly better than the peer median (10.0).", "better"),
    (11.5, 10.0, 1.0, 10, "higher", "11.5 is better than the peer median (10.0).", "better"),
    (13.0, 10.0, 1.0, 10, "higher", "13.0 is better than the peer median (10.0).", "better"),
    (13.1, 10.0, 1.0, 10, "higher", "13.1 is much better than the peer median (10.0).", "better"),
    (17.5, 10.0, 1.0, 10, "higher", "17.5 is much better than the peer median (10.0).", "better"),
    (
        17.6,
        10.0,
        1.0,
        10,
        "higher",
        "17.6 is unusually far from the peer median (10.0): check the figure before drawing conclusions.",
        "unusual",
    ),
    (9.0, 10.0, 1.0, 10, "higher", "9.0 is slightly worse than the peer median (10.0).", "worse"),
    (8.0, 10.0, 1.0, 10, "higher", "8.0 is better than the peer median (10.0).".replace("better", "worse"), "worse"),
    (5.0, 10.0, 1.0, 10, "higher", "5.0 is much worse than the peer median (10.0).", "worse"),
    (
        1.0,
        10.0,
        1.0,
        10,
        "higher",
        "1.0 is unusually far from the peer median (10.0): check the figure before drawing conclusions.",
        "unusual",
    ),
    # Lower is better: the same distances the other way round.
    (9.0, 10.0, 1.0, 10, "lower", "9.0 is slightly better than the peer median (10.0).", "better"),
    (8.0, 10.0, 1.0, 10, "lower", "8.0 is better than the peer median (10.0).", "better"),
    (5.0, 10.0, 1.0, 10, "lower", "5.0 is much better than the peer median (10.0).", "better"),
    (12.0, 10.0, 1.0, 10, "lower", "12.0 is better than the peer median (10.0).".replace("better", "worse"), "worse"),
    (14.0, 10.0, 1.0, 10, "lower", "14.0 is much worse than the peer median (10.0).", "worse"),
    (10.3, 10.0, 1.0, 10, "lower", "10.3 is broadly similar to the peer median (10.0).", "similar"),
    # Neutral: higher or lower, never better or worse.
    (11.0, 10.0, 1.0, 10, "neutral", "11.0 is slightly higher than the peer median (10.0).", "higher"),
    (12.0, 10.0, 1.0, 10, "neutral", "12.0 is higher than the peer median (10.0).", "higher"),
    (15.0, 10.0, 1.0, 10, "neutral", "15.0 is much higher than the peer median (10.0).", "higher"),
    (7.0, 10.0, 1.0, 10, "neutral", "7.0 is lower than the peer median (10.0).", "lower"),
    (10.1, 10.0, 1.0, 10, "neutral", "10.1 is broadly similar to the peer median (10.0).", "similar"),
    (
        30.0,
        10.0,
        1.0,
        10,
        "neutral",
        "30.0 is unusually far from the peer median (10.0): check the figure before drawing conclusions.",
        "unusual",
    ),
    # The scale is the MAD, not the value: the same gap is small where peers spread widely.
    (14.0, 10.0, 4.0, 10, "higher", "14.0 is slightly better than the peer median (10.0).", "better"),
    # Too few peers, a MAD of 0, no median: the figures alone.
    (12.0, 10.0, 1.0, 4, "higher", None, None),
    (12.0, 10.0, 1.0, 0, "higher", None, None),
    (12.0, 10.0, 1.0, None, "higher", None, None),
    (12.0, 10.0, 0.0, 10, "higher", None, None),
    (12.0, 10.0, None, 10, "higher", None, None),
    (12.0, None, 1.0, 10, "higher", None, None),
    (12.0, NAN, 1.0, 10, "higher", None, None),
    (12.0, 10.0, NAN, 10, "higher", None, None),
    # Exactly five peers is enough.
    (12.0, 10.0, 1.0, 5, "higher", "12.0 is better than the peer median (10.0).", "better"),
    # Missing value: said as missing.
    (None, 10.0, 1.0, 10, "higher", "No figure for this period.", "missing"),
    (NAN, 10.0, 1.0, 10, "lower", "No figure for this period.", "missing"),
]


@pytest.mark.parametrize(("value", "median", "mad", "n", "polarity", "expected", "tone"), CASES)
def test_the_sentence_for_each_case(value, median, mad, n, polarity, expected, tone):
    with translation.override("en"):
        words = comparison_words(value=value, median=median, mad=mad, n=n, polarity=polarity, decimals=1)
    if expected is None:
        assert words is None
    else:
        assert words.text == expected
        assert words.tone == tone


def test_no_sentence_judges():
    """Words never judge: the vocabulary of every sentence, in both languages."""
    judging = ("expensive", "failing", "bad ", "good ", "dārg", "slikt ", "neveiksm")
    for value, median, mad, n, polarity, *_rest in CASES:
        for language in ("en", "lv"):
            with translation.override(language):
                words = comparison_words(value=value, median=median, mad=mad, n=n, polarity=polarity, decimals=1)
            if words:
                assert not any(word in words.text.lower() for word in judging), words.text


@pytest.mark.parametrize(
    ("value", "polarity", "expected"),
    [
        (10.5, "higher", "10,5 ir nedaudz labāks rezultāts nekā salīdzināmo pašvaldību mediāna (10,0)."),
        (8.0, "higher", "8,0 ir sliktāks rezultāts nekā salīdzināmo pašvaldību mediāna (10,0)."),
        (5.0, "lower", "5,0 ir daudz labāks rezultāts nekā salīdzināmo pašvaldību mediāna (10,0)."),
        (12.0, "neutral", "12,0 ir augstāks nekā salīdzināmo pašvaldību mediāna (10,0)."),
        (10.2, "higher", "10,2 ir līdzīgs salīdzināmo pašvaldību mediānai (10,0)."),
        (
            30.0,
            "higher",
            "30,0 ir neparasti tālu no salīdzināmo pašvaldību mediānas (10,0): pirms secinājumu izdarīšanas "
            "pārbaudiet skaitli.",
        ),
    ],
)
def test_the_sentence_in_latvian(value, polarity, expected):
    with translation.override("lv"):
        words = comparison_words(value=value, median=10.0, mad=1.0, n=10, polarity=polarity, decimals=1)
    assert words.text == expected


def test_units_and_decimals_follow_the_indicator():
    with translation.override("en"):
        words = comparison_words(value=1400.4, median=1000, mad=100, n=9, polarity="lower", decimals=0, unit="EUR")
    assert words.text == "1,400\u00a0EUR is much worse than the peer median (1,000\u00a0EUR)."
    with translation.override("lv"):
        words = comparison_words(value=1400.4, median=1000, mad=100, n=9, polarity="lower", decimals=0, unit="EUR")
    assert words.text.startswith("1\u00a0400\u00a0EUR ir daudz sliktāks rezultāts")


def test_a_missing_value_says_why():
    with translation.override("en"):
        words = comparison_words(value=None, median=1, mad=1, n=9, polarity="higher", missing_reason="not collected.")
    assert words.text == "No figure for this period: not collected."
    with translation.override("lv"):
        words = comparison_words(value=None, median=1, mad=1, n=9, polarity="higher", missing_reason="")
    assert words.text == "Par šo periodu skaitļa nav."


def test_a_reconstructed_value_is_marked():
    with translation.override("en"):
        words = comparison_words(value=12, median=10, mad=1, n=9, polarity="higher", decimals=0, reconstructed=True)
    assert words.text == "12 is better than the peer median (10). (Reconstructed from the predecessor municipalities.)"
    with translation.override("lv"):
        words = comparison_words(value=12, median=10, mad=1, n=9, polarity="higher", decimals=0, reconstructed=True)
    assert words.text.endswith("(Rekonstruēts no priekšteču pašvaldību datiem.)")


@pytest.mark.parametrize(
    ("distance", "band"),
    [
        (0, "similar"),
        (0.49, "similar"),
        (0.5, "slightly"),
        (1.49, "slightly"),
        (1.5, "clearly"),
        (3.0, "clearly"),
        (3.01, "much"),
        (7.5, "much"),
        (7.51, "unusual"),
        (1e9, "unusual"),
    ],
)
def test_band_edges(distance, band):
    assert distance_band(distance) == band


@pytest.mark.parametrize(
    ("values", "polarity", "expected"),
    [
        ([1, 2, 3], "higher", "Improving over the last three periods."),
        ([3, 2, 1], "higher", "Worsening over the last three periods."),
        ([3, 2, 1], "lower", "Improving over the last three periods."),
        ([1, 2, 3], "lower", "Worsening over the last three periods."),
        ([1, 3, 2], "higher", "No steady direction over the last three periods."),
        ([1, 2, 3], "neutral", "Rising over the last three periods."),
        ([3, 2, 1], "neutral", "Falling over the last three periods."),
        ([None, 2, 3], "higher", "Better than the period before."),
        ([None, 3, 2], "lower", "Better than the period before."),
        ([5, 5, 5], "higher", "Unchanged since the period before."),
        ([4, 5, 5], "higher", "Unchanged since the period before."),
        ([5, None, 6], "higher", ""),
        ([None, None, 6], "higher", ""),
        ([], "higher", ""),
        ([0, 1, 2, 1], "higher", "No steady direction over the last three periods."),
        ([2, 3], "neutral", "Higher than the period before."),
    ],
)
def test_the_direction_over_the_last_three_periods(values, polarity, expected):
    with translation.override("en"):
        assert trend_words(values=values, polarity=polarity) == expected


def test_plural_forms_in_latvian():
    from comparisons.words import changes_summary

    with translation.override("lv"):
        assert changes_summary(improved=1, worsened=2) == (
            "Kopš iepriekšējā perioda: 1 rādītājs uzlabojies, 2 rādītāji pasliktinājušies."
        )
        assert changes_summary(improved=21, worsened=11) == (
            "Kopš iepriekšējā perioda: 21 rādītājs uzlabojies, 11 rādītāji pasliktinājušies."
        )
    with translation.override("en"):
        assert changes_summary(improved=1, worsened=0) == (
            "Since the previous period: 1 indicator improved, 0 indicators got worse."
        )
        assert changes_summary(improved=0, worsened=0) == ""
