"""The engine's reaches past the ORM (`search.sqlcompile`), each on its own."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import OuterRef, Subquery

from catalog.models import Product
from search.sqlcompile import MATCH_SCAN_SETTINGS, match_scan, tablesample
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def _rows(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return sorted(cursor.fetchall())


def test_the_sample_clause_goes_after_the_statements_own_from():
    """A subquery over the same table in the select list comes first in the SQL text: the
    clause must not land there (it would sample the subquery and read the whole table)."""
    for n in range(3):
        ProductFactory(name=f"Sampled {n}")
    newer = Product.objects.filter(pk__gt=OuterRef("pk")).order_by("pk").values("pk")[:1]
    qs = Product.objects.annotate(next_id=Subquery(newer)).values("id", "next_id")
    sql, params = qs.query.sql_with_params()
    assert sql.index('FROM "catalog_product"') < sql.rindex('FROM "catalog_product"')
    sampled = tablesample(sql, percent=100)
    outer = sampled.rindex('FROM "catalog_product"')
    assert sampled[outer:].startswith(
        'FROM "catalog_product" TABLESAMPLE SYSTEM (100.000000) REPEATABLE (7)'
    )
    assert sampled.count("TABLESAMPLE") == 1
    assert _rows(sampled, params) == _rows(sql, params)  # all pages: the same rows


def test_a_statement_without_its_own_from_or_a_bad_share_is_refused():
    with pytest.raises(ValueError):
        tablesample('SELECT (SELECT 1 FROM "catalog_product")', percent=1)
    with pytest.raises(ValueError):
        tablesample('SELECT 1 FROM "catalog_product"', percent=0)
    with pytest.raises(ValueError):
        tablesample('SELECT 1 FROM "catalog_product"', percent=100.5)
    # a name in quotes or a string holding the words is not the statement's FROM
    sql = 'SELECT \'FROM "catalog_product"\' AS x FROM "catalog_product"'
    assert tablesample(sql, percent=5).endswith(
        'FROM "catalog_product" TABLESAMPLE SYSTEM (5.000000) REPEATABLE (7)'
    )


def test_the_match_scan_settings_end_with_it_inside_a_callers_transaction():
    """Inside a caller's transaction (a test, an atomic request) the settings are put back, so
    the caller's later queries plan as usual."""
    names = sorted(MATCH_SCAN_SETTINGS)
    query = "SELECT name, setting FROM pg_settings WHERE name = ANY(%s) ORDER BY name"
    with connection.cursor() as cursor:
        cursor.execute(query, [names])
        before = cursor.fetchall()
        with match_scan(connection):
            cursor.execute(query, [names])
            inside = dict(cursor.fetchall())
        cursor.execute(query, [names])
        assert cursor.fetchall() == before
    assert inside["enable_seqscan"] == inside["enable_indexscan"] == "off"
    assert inside["work_mem"] == "16384"  # kB
    assert dict(before)["enable_seqscan"] == "on" and dict(before)["enable_indexscan"] == "on"
