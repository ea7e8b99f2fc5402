"""Search left the catalog package (catalog.search -> search), and Celery names a task by its
module: outbox rows written before the move, not yet run, would name a task no worker knows.
They are renamed here, so none is lost in the deploy."""

from django.db import migrations

RENAME = """
UPDATE core_outboxmessage SET task = replace(task, %s, %s)
WHERE ran_at IS NULL AND task LIKE %s
"""


def rename(old: str, new: str):
    def run(apps, schema_editor):
        schema_editor.execute(RENAME, [old, new, old + "%"])

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0005_idempotency_owner")]

    operations = [
        migrations.RunPython(
            rename("catalog.search.tasks.", "search.tasks."),
            rename("search.tasks.", "catalog.search.tasks."),
        )
    ]
