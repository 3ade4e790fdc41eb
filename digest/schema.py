"""Schema changes that PostgreSQL and SQLite (the quick start) both survive.

The issue and story tables carry GIN indexes (full text, trigrams) that exist on PostgreSQL
only: their migrations add them there alone (``AddIndexOnPostgreSQL``). SQLite alters a table
by building a new one from the model as the migrations describe it, indexes included, and
would then try to build those GIN indexes too. A migration that alters such a table wraps
its operations in ``OnSQLiteWithoutGinIndexes``.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations


class OnSQLiteWithoutGinIndexes(migrations.operations.base.Operation):
    """Run ``operation``; elsewhere than on PostgreSQL, as if the app's models had no GIN index."""

    reduces_to_sql = False

    def __init__(self, operation):
        self.operation = operation

    @property
    def reversible(self):
        return self.operation.reversible

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.operation], {})

    def state_forwards(self, app_label, state):
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            from_state, to_state = _without_gin(from_state, app_label), _without_gin(to_state, app_label)
        self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            from_state, to_state = _without_gin(from_state, app_label), _without_gin(to_state, app_label)
        self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"{self.operation.describe()} (without GIN indexes off PostgreSQL)"


def _without_gin(state, app_label):
    state = state.clone()
    for (model_app, model_name), model_state in state.models.items():
        indexes = model_state.options.get("indexes", [])
        if model_app == app_label and any(isinstance(index, GinIndex) for index in indexes):
            model_state.options["indexes"] = [index for index in indexes if not isinstance(index, GinIndex)]
            state.reload_model(model_app, model_name, delay=True)
    return state
