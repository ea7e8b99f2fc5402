from django.db import migrations


class Migration(migrations.Migration):
    """`Review` moves to the reviews app: only Django's state forgets it here; the table stays
    and `reviews.0001_initial` takes it over (and renames it)."""

    dependencies = [("catalog", "0010_search_key_lexemes")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Review")], database_operations=[]
        )
    ]
