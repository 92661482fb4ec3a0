"""Synthetic data at benchmark scale, in the files of the command-line contract (README, Command line).

    python bench/generate.py --municipalities 500 --indicators 200 --periods 10 --out bench/out

writes municipalities.csv, networks.csv, catalogue.csv and values.csv (long format, one row per
municipality x indicator x period: 500 x 200 x 10 = 1,000,000 values). Deterministic (seeded).
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

REGIONS = ["Kurzeme", "Latgale", "Rīga", "Vidzeme", "Zemgale"]


def generate(*, municipalities: int, indicators: int, periods: int, out: Path, seed: int = 20261125) -> dict[str, Path]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    codes = [f"BM{i:07d}" for i in range(municipalities)]
    files = {name: out / f"{name}.csv" for name in ("municipalities", "networks", "catalogue", "values")}

    with files["municipalities"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "name_en", "kind", "region", "size_class"])
        for i, code in enumerate(codes):
            kind = "state_city" if i % 25 == 0 else "municipality"
            writer.writerow([code, f"Pašvaldība {i}", f"Municipality {i}", kind, REGIONS[i % 5], f"S{i % 4}"])

    with files["networks"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "name_en", "public", "members"])
        writer.writerow(["BENCH", "Etalontīkls", "Benchmark network", "yes", "*"])

    polarities = ["higher", "lower", "neutral"]
    items = [f"IND{j:04d}" for j in range(indicators)]
    with files["catalogue"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "kind", "name", "name_en", "unit", "decimals", "polarity", "in_index", "networks"])
        for j, code in enumerate(items):
            # No formula: each indicator is the data item of the same code (the catalogue contract).
            writer.writerow(
                [
                    code,
                    "indicator",
                    f"Rādītājs {j}",
                    f"Indicator {j}",
                    "",
                    2,
                    polarities[j % 3],
                    "yes" if j % 10 == 0 else "no",
                    "BENCH",
                ]
            )

    labels = [str(2016 + p) for p in range(periods)]
    with files["values"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["municipality_code", "item_code", "period", "value", "note"])
        for code in codes:
            size = rng.lognormvariate(9, 1)
            for j, item in enumerate(items):
                base = size * (1 + j % 7)
                for label in labels:
                    # ~0.5 % declared missing; values with ties (rounded) and full precision.
                    if rng.random() < 0.005:
                        writer.writerow([code, item, label, "", "not collected this year"])
                    elif j % 5 == 0:
                        writer.writerow([code, item, label, round(base * rng.uniform(0.8, 1.2)), ""])
                    else:
                        writer.writerow([code, item, label, repr(base * rng.uniform(0.8, 1.2)), ""])
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--municipalities", type=int, default=500)
    parser.add_argument("--indicators", type=int, default=200)
    parser.add_argument("--periods", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    files = generate(municipalities=args.municipalities, indicators=args.indicators, periods=args.periods, out=args.out)
    for name, path in files.items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
