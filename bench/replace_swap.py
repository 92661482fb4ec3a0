"""Replacing stored results: today's DELETE + insert against a swap of the scope's partition.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/replace_swap.py \
        [--periods 10] [--indicators 50] [--municipalities 200] [--groups 5]

SQL only (no portal code): a table with `Result`'s columns, primary key and municipality index,
filled scope by scope from a staged copy as a first write, then replaced twice (after a VACUUM,
then without); the same rows in a table partitioned by scope, where a replace builds the scope's
partition aside (no index maintained row by row, no dead rows) and swaps it in with DETACH and
ATTACH in one short transaction. Prints the times and the sizes. It creates and drops its own
database, `benchlearning_swap`, on the server of DATABASE_URL. The design it measured, now
built (`comparisons/partitions.py`), is in docs/architecture.md ("Replacing a scope without dead
rows").
"""

from __future__ import annotations

import argparse
import os
import time
from urllib.parse import urlsplit

import psycopg

DB = "benchlearning_swap"

COLUMNS = """
    network_id bigint NOT NULL, period_id bigint NOT NULL, indicator_id bigint NOT NULL,
    peer_group varchar(120) NOT NULL, group_key varchar(200) NOT NULL, municipality_id bigint NOT NULL,
    value double precision, missing_reason varchar(200) NOT NULL, n integer NOT NULL,
    mean double precision, median double precision, q1 double precision, q3 double precision,
    min double precision, max double precision, std double precision, mad double precision,
    rank integer, percentile double precision, band varchar(8) NOT NULL, z double precision,
    score double precision, previous_value double precision, change_abs double precision,
    change_rel double precision, improved boolean, computed_at timestamptz NOT NULL
"""
PK = "PRIMARY KEY (network_id, period_id, peer_group, indicator_id, municipality_id)"
SOURCE = """
CREATE UNLOGGED TABLE src AS
SELECT 1::bigint AS network_id, p::bigint AS period_id, i::bigint AS indicator_id,
       'g' || g AS peer_group, 'k' || (m % 5) AS group_key, m::bigint AS municipality_id,
       random() * 1000 AS value, ''::varchar AS missing_reason, 100 AS n,
       random() AS mean, random() AS median, random() AS q1, random() AS q3, random() AS min,
       random() AS max, random() AS std, random() AS mad, (random() * 100)::int AS rank,
       random() AS percentile, 'mid'::varchar AS band, random() AS z, random() AS score,
       random() AS previous_value, random() AS change_abs, random() AS change_rel, true AS improved,
       now() AS computed_at
FROM generate_series(1, {periods:d}) p, generate_series(1, {indicators:d}) i,
     generate_series(1, {municipalities:d}) m, generate_series(1, {groups:d}) g
ORDER BY p, i, m, g
"""


def timed(conn, label, work) -> float:
    conn.execute("CHECKPOINT")
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"  {label:<58} {elapsed:7.2f} s", flush=True)
    return elapsed


def size(conn, table: str) -> str:
    (total,) = conn.execute(
        "SELECT coalesce(sum(pg_total_relation_size(relid)), pg_total_relation_size(%s::regclass))"
        " FROM pg_partition_tree(%s::regclass) WHERE isleaf",
        [table, table],
    ).fetchone()
    return f"{total / 2**20:.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in (("periods", 10), ("indicators", 50), ("municipalities", 200), ("groups", 5)):
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not url.startswith("postgres"):
        raise SystemExit("PostgreSQL only: set DATABASE_URL=postgres://…")
    admin_url = urlsplit(url)._replace(path="/postgres").geturl()
    periods = args.periods
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB}")
    conn = psycopg.connect(urlsplit(url)._replace(path=f"/{DB}").geturl(), autocommit=True)
    conn.execute("SET synchronous_commit = off")  # as the engine's writing transaction
    conn.execute(SOURCE.format(**vars(args)))  # integers, from argparse
    conn.execute("ANALYZE src")
    rows = conn.execute("SELECT count(*) FROM src").fetchone()[0]
    print(f"{rows:,} result rows, {periods} scopes of {rows // periods:,}")

    conn.execute(f"CREATE TABLE plain ({COLUMNS}, {PK})")
    conn.execute("CREATE INDEX plain_municipality ON plain (municipality_id, network_id, peer_group)")

    def write_plain(delete: bool):
        def work():
            for p in range(1, periods + 1):
                with conn.transaction():
                    if delete:
                        conn.execute("DELETE FROM plain WHERE network_id = 1 AND period_id = %s", [p])
                    conn.execute("INSERT INTO plain SELECT * FROM src WHERE period_id = %s", [p])

        return work

    print("Today: one table, DELETE the scope's rows + insert, in one transaction per scope")
    first = timed(conn, "first write (empty table)", write_plain(False))
    conn.execute("VACUUM ANALYZE plain")
    timed(conn, "replace after VACUUM (dead rows of the night before gone)", write_plain(True))
    print(f"    size {size(conn, 'plain')}")
    timed(conn, "replace again, no VACUUM between (dead rows kept)", write_plain(True))
    print(f"    size {size(conn, 'plain')}")

    print("Proposal: partitioned by scope, a new partition built and swapped in")
    conn.execute(f"CREATE TABLE part ({COLUMNS}, {PK}) PARTITION BY RANGE (network_id, period_id)")
    conn.execute("CREATE INDEX part_municipality ON part (municipality_id, network_id, peer_group)")
    generation = [0]

    def swap():
        generation[0] += 1
        for p in range(1, periods + 1):
            new = f"part_1_{p}_{generation[0]}"
            # Built outside the readers' sight: no index maintained row by row, no dead rows.
            conn.execute(f"CREATE TABLE {new} (LIKE part INCLUDING DEFAULTS)")
            conn.execute(f"INSERT INTO {new} SELECT * FROM src WHERE period_id = %s", [p])
            conn.execute(f"ALTER TABLE {new} ADD {PK}")
            conn.execute(f"CREATE INDEX ON {new} (municipality_id, network_id, peer_group)")
            # The bound as a CHECK: ATTACH skips its validating scan.
            conn.execute(f"ALTER TABLE {new} ADD CHECK (network_id = 1 AND period_id = {p})")
            old = f"part_1_{p}_{generation[0] - 1}"
            with conn.transaction():
                conn.execute("SET LOCAL lock_timeout = '2s'")
                if generation[0] > 1:
                    conn.execute(f"ALTER TABLE part DETACH PARTITION {old}")
                conn.execute(f"ALTER TABLE part ATTACH PARTITION {new} FOR VALUES FROM (1, {p}) TO (1, {p + 1})")
            if generation[0] > 1:
                conn.execute(f"DROP TABLE {old}")

    timed(conn, "first write (new partitions)", swap)
    second = timed(conn, "replace (new partitions swapped in)", swap)
    print(f"    size {size(conn, 'part')}")
    timed(conn, "replace again", swap)
    print(f"    size {size(conn, 'part')}")
    print(f"  swap replace / today's first write: {second / first:.2f}")
    conn.close()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
