from django.db import migrations


def key_lexemes_add(apps, schema_editor):
    """Gave every stored vector its id shard and price band lexemes. The shards are gone:
    0012 rewrites every vector's key lexemes (price band and popularity levels) once the
    popularity columns exist, so this step has nothing left to do."""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0009_search_lexemes"),
    ]

    operations = [
        migrations.RunPython(key_lexemes_add, migrations.RunPython.noop),
    ]
