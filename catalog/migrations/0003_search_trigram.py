"""Typo tolerance for search needs the pg_trgm extension. It ships with PostgreSQL's contrib
package but not with every server (the embedded test server has none), so this migration
enables it when it can and otherwise leaves search without "did you mean" (the search code
detects the extension at runtime and logs that it degrades)."""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger("search")

TRIGRAM_INDEXES = (
    "CREATE INDEX IF NOT EXISTS catalog_product_name_trgm "
    "ON catalog_product USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS catalog_category_name_trgm "
    "ON catalog_category USING gin (lower(name) gin_trgm_ops)",
)


def trigram_enable(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as exc:
            logger.warning("pg_trgm unavailable (%s); search runs without typo tolerance.", exc)
            return
        for statement in TRIGRAM_INDEXES:
            cursor.execute(statement)


def trigram_disable(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS catalog_product_name_trgm")
        cursor.execute("DROP INDEX IF EXISTS catalog_category_name_trgm")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search_columns")]

    operations = [migrations.RunPython(trigram_enable, trigram_disable)]
