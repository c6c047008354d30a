"""Make the database itself refuse UPDATE and DELETE on the main courante (per vendor)."""

from django.db import migrations

from carbet.crisis import triggers


class VendorSQL(migrations.RunSQL):
    """RunSQL whose statements depend on the database vendor (other vendors: nothing)."""

    def __init__(self, forward: dict, backward: dict) -> None:
        super().__init__(sql="", reverse_sql="")
        self.forward, self.backward = forward, backward

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {"forward": self.forward, "backward": self.backward})

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for statement in self.forward.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for statement in self.backward.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    def describe(self):
        return "Append-only triggers on the main courante"


class Migration(migrations.Migration):
    dependencies = [("crisis", "0001_initial"), ("audit", "0003_append_only_triggers")]

    operations = [VendorSQL(forward=triggers.CREATE, backward=triggers.DROP)]
