from django.db import migrations, models


def lexemes_fill(apps, schema_editor):
    """Every lexeme the stored vectors hold (5-10 s at 1M products). Vectors the previous code
    writes while this deploy rolls out are not recorded: `search_reindex --lexemes` adds
    them afterwards (docs/search.md)."""
    from search.services import search_lexemes_rebuild

    search_lexemes_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_category_seller_filter_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="SearchLexeme",
            fields=[
                ("lexeme", models.TextField(db_collation="C", primary_key=True, serialize=False)),
            ],
        ),
        migrations.RunPython(lexemes_fill, migrations.RunPython.noop),
    ]
