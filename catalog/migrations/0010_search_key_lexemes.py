from django.db import migrations


def key_lexemes_add(apps, schema_editor):
    """Every stored vector gains its shard and price band lexemes, in committed batches of
    20,000 (atomic = False) with progress: about 3 minutes per million products. Vectors the
    previous release writes during the deploy lack them, and are missing from price-sorted
    pages until then: run `search_reindex --keys` after the deploy (docs/search.md)."""
    from search.services import search_key_lexemes_backfill

    def progress(done: int, total: int) -> None:
        print(f"\r  search key lexemes: {done:,}/{total:,} products", end="", flush=True)

    if apps.get_model("catalog", "Product").objects.exists():
        search_key_lexemes_backfill(progress=progress)
        print()


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("catalog", "0009_search_lexemes"),
    ]

    operations = [
        migrations.RunPython(key_lexemes_add, migrations.RunPython.noop),
    ]
