"""`Result` partitioned by scope on PostgreSQL: by network, each network's partition by period.

One leaf per (network, period), so that a full run replaces a scope by building its leaf aside
and swapping it in, with no dead rows (`comparisons.partitions`, docs/architecture.md,
"Replacing a scope without dead rows"). The table is rebuilt and its rows moved scope by scope;
the columns, the primary key and the `result_municipality` index (now partitioned) stay, so
the model state does not change. DEFAULT partitions take rows of a scope (or network) with no
leaf yet. On SQLite nothing changes. Backwards: the plain table again, every row kept.
"""

from django.db import migrations

TABLE = "comparisons_result"
PLAIN = "comparisons_result_plain"
KEY = "network_id, period_id, peer_group, indicator_id, municipality_id"
MUNICIPALITY = "municipality_id, network_id, peer_group"


def _partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(f"ALTER TABLE {TABLE} RENAME TO {PLAIN}")
    run(f"ALTER INDEX {TABLE}_pkey RENAME TO {PLAIN}_pkey")
    run(f"ALTER INDEX result_municipality RENAME TO {PLAIN}_municipality")
    run(f"CREATE TABLE {TABLE} (LIKE {PLAIN} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST (network_id)")
    run(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY ({KEY})")
    run(f"CREATE INDEX result_municipality ON {TABLE} ({MUNICIPALITY})")
    run(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT network_id, period_id FROM {PLAIN} ORDER BY 1, 2")  # noqa: S608  # nosec B608 - constant
        scopes = cursor.fetchall()
    networks = set()
    for network_id, period_id in scopes:
        network, leaf = f"{TABLE}_{int(network_id)}", f"{TABLE}_{int(network_id)}_{int(period_id)}"
        if network_id not in networks:
            networks.add(network_id)
            run(
                f"CREATE TABLE {network} PARTITION OF {TABLE} FOR VALUES IN ({int(network_id)})"
                " PARTITION BY LIST (period_id)"
            )
            run(f"CREATE TABLE {network}_default PARTITION OF {network} DEFAULT")
        run(f"CREATE TABLE {leaf} PARTITION OF {network} FOR VALUES IN ({int(period_id)})")
        run(
            f"INSERT INTO {leaf} SELECT * FROM {PLAIN} WHERE network_id = %s AND period_id = %s ORDER BY {KEY}",  # noqa: S608  # nosec B608 - generated names
            [network_id, period_id],
        )
    run(f"DROP TABLE {PLAIN}")
    run(f"ANALYZE {TABLE}")


def _plain(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(f"CREATE TABLE {PLAIN} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    run(f"INSERT INTO {PLAIN} SELECT * FROM {TABLE} ORDER BY {KEY}")  # noqa: S608  # nosec B608 - constants
    run(f"DROP TABLE {TABLE}")  # its partitions with it
    run(f"ALTER TABLE {PLAIN} RENAME TO {TABLE}")
    run(f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY ({KEY})")
    run(f"CREATE INDEX result_municipality ON {TABLE} ({MUNICIPALITY})")


class Migration(migrations.Migration):
    dependencies = [
        ("comparisons", "0003_result_mad"),
    ]

    operations = [migrations.RunPython(_partition, _plain, elidable=False)]
