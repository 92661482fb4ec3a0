"""A real-data check: Scotland's LGBF family-group averages are our `attr:` peer-group mean.

The files in `data/lgbf/` are a subset of the shared LGBF data set (see `make_subset.py`):
five indicators, two years, 32 councils with their family group per service type as
municipality attributes. They are loaded with the import commands of the command-line contract, exactly as
a coordinator would, and recomputed with `recompute --sync`.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest
from django.core.management import call_command

from comparisons.models import Result

DATA = Path(__file__).parent / "data" / "lgbf"

# Where the published average is not the plain mean of the group's councils (found by
# comparing the whole data set): SW08 2022-23, family group 1 ("Least Deprived") is published
# as 499.29, the mean of its 8 councils is 653.07. The test asserts that it differs.
NOT_PLAIN_MEAN = {("SW08", "2022-23", "1")}


def _published() -> dict[tuple[str, str, str], float]:
    """(indicator, period, council code) -> published family-group average, with its group type."""
    with (DATA / "published_family_group_averages.csv").open(encoding="utf-8") as handle:
        return {
            (row["item_code"], row["period"], row["municipality_code"]): (
                row["family_type"],
                float(row["published_fg_avg"]),
            )
            for row in csv.DictReader(handle)
        }


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


@pytest.fixture
def lgbf(db, settings):
    settings.COMPARISON_ATTRIBUTES = ["family_group_env", "family_group_people"]
    out = io.StringIO()
    call_command("import_municipalities", str(DATA / "municipalities.csv"), stdout=out)
    call_command("import_networks", str(DATA / "networks.csv"), stdout=out)
    call_command("import_catalogue", str(DATA / "catalogue.csv"), stdout=out)
    call_command("import_values", str(DATA / "values.csv"), "--network", "LGBF", "--status", "approved", stdout=out)
    call_command("recompute", "--network", "LGBF", "--sync", stdout=out)
    return out.getvalue()


def test_published_family_group_averages_are_the_attribute_peer_group_mean(lgbf):
    published = _published()
    with (DATA / "published_family_group_averages.csv").open(encoding="utf-8") as handle:
        texts = {
            (r["item_code"], r["period"], r["municipality_code"]): r["published_fg_avg"] for r in csv.DictReader(handle)
        }
    stored = {
        (indicator, period, council, peer_group): (group_key, mean, n)
        for indicator, period, council, peer_group, group_key, mean, n in Result.objects.filter(
            network__code="LGBF", peer_group__startswith="attr:family_group_"
        ).values_list("indicator__code", "period__label", "municipality__code", "peer_group", "group_key", "mean", "n")
    }
    equal, differing = 0, set()
    for key, (family_type, average) in published.items():
        group_key, mean, n = stored[(*key, f"attr:family_group_{family_type}")]
        assert n >= 2
        # The published figure is rounded to about ten significant digits (from inputs that were
        # rounded too): equal to within one unit of its last decimal place or of the tenth digit.
        tolerance = max(10 ** -_decimals(texts[key]), 1e-9 * abs(average))
        if (key[0], key[1], group_key) in NOT_PLAIN_MEAN:
            assert not math.isclose(mean, average, abs_tol=tolerance), key
            differing.add((key[0], key[1], group_key))
        else:
            assert mean == pytest.approx(average, abs=tolerance), key
            equal += 1
    # 5 indicators x 2 years x 32 councils, less HSN01b's 6 councils without council housing,
    # less the 8 councils of the one group whose published average is not the plain mean.
    assert len(published) == 5 * 2 * 32 - 2 * 6
    assert equal == len(published) - 8
    assert differing == NOT_PLAIN_MEAN


def test_lgbf_network_results_rank_every_council(lgbf):
    # Lower cost is better: the cheapest council is ranked 1 in the network peer group.
    rows = list(
        Result.objects.filter(
            network__code="LGBF", indicator__code="CL01", period__label="2022-23", peer_group="network"
        )
        .order_by("rank")
        .values_list("rank", "value", "n")
    )
    assert len(rows) == 32
    assert rows[0][0] == 1 and rows[0][1] == min(value for _rank, value, _n in rows)
    assert {n for _rank, _value, n in rows} == {32}
    assert "LGBF 2022-23: run" in lgbf


def test_lgbf_export_has_one_row_per_council_indicator_period_and_peer_group(lgbf, tmp_path):
    target = tmp_path / "lgbf.csv"
    call_command(
        "export_results",
        "--network",
        "LGBF",
        "--peer-group",
        "attr:family_group_people",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    with target.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    # 32 councils x 2 years x 5 indicators; the 6 councils without council housing have no
    # HSN01b figure: their rows are there with empty cells, not left out.
    assert len(rows) == 32 * 2 * 5
    empty = [row for row in rows if row["value"] == ""]
    assert len(empty) == 2 * 6
    assert {row["indicator"] for row in empty} == {"HSN01b"}
    assert all(row["rank"] == "" and row["z"] == "" and row["n"] != "" for row in empty)
    assert {row["peer_group"] for row in rows} == {"attr:family_group_people"}
