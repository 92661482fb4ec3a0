"""`Result` keyed by its natural key (network, period, peer group, indicator, municipality).

The surrogate `id` and its index go: the unique constraint becomes the primary key, so a full
recompute maintains two indexes per row instead of three. Django cannot alter a table into a
composite primary key, so the table is rebuilt and its rows copied, on any database.
"""

from django.db import migrations, models
from django.db.migrations.operations.base import Operation

TABLE = "comparisons_result"
KEEP = "comparisons_result_keep"


def _rebuild(schema_editor, old_model, new_model) -> None:
    """Replace the table of ``old_model`` by that of ``new_model``, keeping every row."""
    old_columns = {field.column for field in old_model._meta.local_concrete_fields}
    columns = [field.column for field in new_model._meta.local_concrete_fields if field.column in old_columns]
    names = ", ".join(schema_editor.quote_name(column) for column in columns)
    table, keep = schema_editor.quote_name(TABLE), schema_editor.quote_name(KEEP)
    schema_editor.execute(f"CREATE TABLE {keep} AS SELECT {names} FROM {table}")  # noqa: S608  # nosec B608 - model column names
    schema_editor.delete_model(old_model)
    schema_editor.create_model(new_model)
    schema_editor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {keep}")  # noqa: S608  # nosec B608 - model column names
    schema_editor.execute(f"DROP TABLE {keep}")


class ResultNaturalPrimaryKey(Operation):
    """The model state of the three operations below, and a rebuild of the table in the database."""

    reversible = True
    state_operations = [
        migrations.RemoveConstraint(model_name="result", name="result_unique"),
        migrations.RemoveField(model_name="result", name="id"),
        migrations.AddField(
            model_name="result",
            name="pk",
            field=models.CompositePrimaryKey(
                "network",
                "period",
                "peer_group",
                "indicator",
                "municipality",
                blank=True,
                editable=False,
                primary_key=True,
                serialize=False,
            ),
        ),
    ]

    def state_forwards(self, app_label, state) -> None:
        for operation in self.state_operations:
            operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        _rebuild(schema_editor, from_state.apps.get_model(app_label, "Result"), to_state.apps.get_model(app_label, "Result"))

    # Backwards the states swap roles: the same rebuild, from the composite key to the id.
    database_backwards = database_forwards

    def describe(self) -> str:
        return "Key Result by (network, period, peer_group, indicator, municipality); rebuild its table"

    @property
    def migration_name_fragment(self) -> str:
        return "result_natural_primary_key"


class Migration(migrations.Migration):
    dependencies = [
        ("comparisons", "0001_initial"),
    ]

    operations = [ResultNaturalPrimaryKey()]
