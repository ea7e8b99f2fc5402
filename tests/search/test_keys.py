"""Every writer of a search vector gives it the key lexemes its row calls for (`search.keys`):
a vector without them is silently missing from price-sorted pages and popularity pools."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from catalog.models import Product
from search import keys
from search.popularity import product_popularity_refresh
from search.services import (
    search_index_rebuild,
    search_index_refresh,
    search_key_lexemes_backfill,
)
from tests.factories import ProductFactory, ProductVariantFactory

pytestmark = pytest.mark.django_db

# the modules allowed to write Product.search_vector, each exercised below
VECTOR_WRITERS = {"search/services.py", "search/popularity.py"}
_WRITES = re.compile(r"search_vector\s*=(?!=)|SET search_vector|\"search_vector\":")


def _wrong_keys() -> list[int]:
    """Products whose vector's key lexemes differ from what their stored price and tier
    call for."""
    expected = keys.key_lexemes_sql(price="search_price_min", tier="popularity_tier")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM catalog_product WHERE search_vector IS NOT NULL AND "  # noqa: S608 - constant SQL
            "ARRAY(SELECT l FROM unnest(tsvector_to_array(search_vector)) l "
            "WHERE starts_with(l, '~') ORDER BY l) "
            f"IS DISTINCT FROM ARRAY(SELECT unnest(tsvector_to_array({expected})) ORDER BY 1)"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def products(db) -> list[Product]:
    made = []
    for n in range(6):
        product = ProductFactory(name=f"Kettle {n}", rating_avg=n % 5, rating_count=n * 7)
        if n:  # the first has no variant, so no price and no band
            ProductVariantFactory(product=product)
        made.append(product)
    return made


def test_the_refresh_and_the_rebuild_write_every_key(products):
    search_index_refresh(product_ids=[p.pk for p in products])
    assert _wrong_keys() == []
    Product.objects.filter(pk=products[2].pk).update(popularity_tier=3)
    assert _wrong_keys() == [products[2].pk]  # the check sees a stale key
    search_index_rebuild()
    assert _wrong_keys() == []


def test_the_popularity_refresh_rekeys_the_vectors_whose_tier_moved(products):
    search_index_rebuild()
    assert set(Product.objects.values_list("popularity_tier", flat=True)) == {10}
    assert product_popularity_refresh() == len(products)
    assert len(set(Product.objects.values_list("popularity_tier", flat=True))) > 1
    assert _wrong_keys() == []


def test_the_backfill_replaces_stale_and_old_shard_keys(products):
    search_index_rebuild()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_product SET popularity_tier = 4, "
            "search_vector = search_vector || array_to_tsvector(ARRAY['~s3'])"
        )
    assert len(_wrong_keys()) == len(products)
    search_key_lexemes_backfill()
    assert _wrong_keys() == []


def test_no_module_writes_a_vector_outside_the_known_writers():
    """A new writer of `search_vector` must build it with `KeyLexemes` or `VectorRekeyed` and
    be added here (and exercised above)."""
    root = Path(settings.BASE_DIR)
    writers = set()
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "tests/")) or "/migrations/" in relative:
            continue
        text = path.read_text()
        lines = [line for line in text.splitlines() if _WRITES.search(line)]
        if any("SearchVectorField(" not in line and "filter(" not in line for line in lines):
            writers.add(relative)
    assert writers == VECTOR_WRITERS


def test_the_default_tier_is_the_last_level():
    field = Product._meta.get_field("popularity_tier")
    db_default = getattr(field.db_default, "value", field.db_default)
    assert db_default == keys.POPULARITY_LEVELS == field.default


def test_the_level_for_a_share_is_the_smallest_holding_it_or_the_nearest():
    popularity_level_for = keys.popularity_level_for

    # level j holds 2 ** j / 1024 of the catalogue
    assert (
        popularity_level_for(share=64 / 1024)
        == popularity_level_for(share=64 / 1024, nearest=True)
        == 6
    )
    assert popularity_level_for(share=90 / 1024) == 7  # 6 holds 64: too few
    assert popularity_level_for(share=90 / 1024, nearest=True) == 6  # 64 is nearer than 128
    assert popularity_level_for(share=100 / 1024, nearest=True) == 7
    assert popularity_level_for(share=1e-9) == popularity_level_for(share=1e-9, nearest=True) == 0
    assert popularity_level_for(share=1.0, nearest=True) == keys.POPULARITY_LEVELS
