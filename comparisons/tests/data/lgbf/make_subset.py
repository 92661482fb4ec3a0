"""Regenerate this folder's files from the shared LGBF data set (not run by the tests).

    python make_subset.py /path/to/lgbf-data

Councils get codes made from their names; their family group per service type becomes two
municipality attributes. Indicator codes lose characters formulas do not allow (C&L01 → CL01).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

INDICATORS = {"C&L01": "env", "ENV01a": "env", "SW01": "people", "HSN01b": "people", "SW08": "people"}
YEARS = ["2021-22", "2022-23"]
TYPES = {"Environmental": "env", "Children": "people"}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("&", "and")).strip("-")


def main(source: Path, target: Path) -> None:
    values = pd.read_csv(source / "lgbf_values_real.csv")
    groups = pd.read_csv(source / "family_groups.csv", encoding="utf-8-sig")
    info = pd.read_csv(source / "indicator_information.csv", encoding="utf-8-sig")
    groups["type"] = groups["Type"].str.split(",").str[0].str.split().str[0].map(TYPES)
    groups["number"] = groups["Family_Group"].str.extract(r"(\d+)$", expand=False)
    councils = groups.pivot(index="Local_Authority", columns="type", values="number")
    municipalities = pd.DataFrame(
        {
            "code": [slug(n) for n in councils.index],
            "name": councils.index,
            "family_group_env": councils["env"].to_numpy(),
            "family_group_people": councils["people"].to_numpy(),
        }
    ).sort_values("code")
    municipalities.to_csv(target / "municipalities.csv", index=False)
    pd.DataFrame(
        [{"code": "LGBF", "name": "Scottish LGBF", "public": "yes", "members": " ".join(municipalities["code"])}]
    ).to_csv(target / "networks.csv", index=False)

    chosen = values[values["Code"].isin(INDICATORS) & values["Year"].isin(YEARS)].copy()
    chosen["item_code"] = chosen["Code"].str.replace("&", "", regex=False)
    chosen["municipality_code"] = chosen["LocalAuthority"].map(slug)
    info = info.set_index("Code")
    catalogue = pd.DataFrame(
        [
            {
                "code": code.replace("&", ""),
                "kind": "indicator",
                "name": info.loc[code, "Title"],
                "polarity": "lower" if info.loc[code, "Ranking_Type"] == "Ascending" else "higher",
                "networks": "LGBF",
            }
            for code in INDICATORS
        ]
    )
    catalogue.to_csv(target / "catalogue.csv", index=False)
    long = chosen[["municipality_code", "item_code", "Year", "LA_IndicatorReal"]].rename(
        columns={"Year": "period", "LA_IndicatorReal": "value"}
    )
    long.sort_values(["item_code", "period", "municipality_code"]).to_csv(
        target / "values.csv", index=False, float_format="%.15g"
    )
    published = chosen.assign(
        family_type=chosen["Code"].map(INDICATORS),
        published_fg_avg=chosen["FG_Avg_Indicator_Real"],
        published_label=chosen["FamilyGroup"],
    )[["item_code", "Year", "municipality_code", "family_type", "published_label", "published_fg_avg"]]
    published.rename(columns={"Year": "period"}).sort_values(["item_code", "period", "municipality_code"]).to_csv(
        target / "published_family_group_averages.csv", index=False, float_format="%.15g"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).parent)
