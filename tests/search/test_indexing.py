from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.utils import timezone

from catalog.models import (
    AttributeChoice,
    Product,
    SearchSuggestion,
    VariantAttributeValue,
    VariantSalePrice,
)
from catalog.services import product_archive
from search.postgres import PostgresSearchBackend
from search.query import listing_query_parse
from search.services import (
    search_index_rebuild,
    search_index_refresh_dirty,
    search_prices_refresh_due,
)
from sellers.models import SellerStatus
from shop.celery import app

pytestmark = pytest.mark.django_db


def found(query_string: str) -> list[int]:
    query = listing_query_parse(params=QueryDict(query_string), page_size=50)
    return PostgresSearchBackend().search(query=query).product_ids


@pytest.fixture
def eager_celery():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_rename_is_searchable_after_commit_through_the_celery_task(
    catalog, eager_celery, django_capture_on_commit_callbacks
):
    lamp = catalog.products["lamp"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lamp.name = "Desk Lantern"
        lamp.save()
    # flagged in the same transaction; nothing indexed before commit
    assert Product.objects.get(pk=lamp.pk).search_dirty is True
    assert lamp.pk not in found("q=lantern")
    assert len(callbacks) == 1
    callbacks[0]()
    assert Product.objects.get(pk=lamp.pk).search_dirty is False
    assert found("q=lantern") == [lamp.pk]


def test_variant_price_change_refreshes_the_price_filter(
    catalog, eager_celery, django_capture_on_commit_callbacks
):
    light = catalog.products["light"]
    assert light.pk not in found("price_max=50")
    with django_capture_on_commit_callbacks(execute=True):
        variant = light.variants.get()
        variant.price = Decimal("45.00")
        variant.save()
    assert light.pk in found("price_max=50")


def test_archived_products_and_suspended_sellers_vanish_at_once(catalog):
    lamp = catalog.products["lamp"]
    assert lamp.pk in found("q=lamp")
    product_archive(product=lamp)  # no refresh has run: the live status filter hides it
    assert lamp.pk not in found("q=lamp")
    beta = catalog.sellers["beta"]
    beta.status = SellerStatus.SUSPENDED
    beta.save()
    assert found("seller=beta") == []
    assert catalog.products["red_shirt"].pk not in found("q=shirt")


def test_sale_window_boundaries_refresh_the_denormalised_price(catalog):
    shoe = catalog.products["shoe"]
    variant = shoe.variants.get()
    now = timezone.now()
    VariantSalePrice.objects.create(
        variant=variant,
        sale_price=Decimal("90.00"),
        starts_at=now - timedelta(seconds=30),
        ends_at=now + timedelta(days=1),
    )
    Product.objects.filter(pk=shoe.pk).update(search_dirty=False)  # as if the task had run
    search_index_rebuild()
    assert shoe.pk in found("price_max=99.99")
    Product.objects.filter(pk=shoe.pk).update(search_price_min=Decimal("120.00"))
    assert search_prices_refresh_due(now=now, window=timedelta(minutes=2)) == 1
    assert shoe.pk in found("price_max=99.99")
    later = now + timedelta(days=1, seconds=30)
    assert search_prices_refresh_due(now=later, window=timedelta(minutes=2)) == 1
    assert Product.objects.get(pk=shoe.pk).search_price_min == Decimal("120.00")


def test_sweep_refreshes_what_a_lost_task_left_dirty(catalog):
    lamp = catalog.products["lamp"]
    Product.objects.filter(pk=lamp.pk).update(name="Desk Lantern", search_dirty=True)
    assert search_index_refresh_dirty() == 1
    assert found("q=lantern") == [lamp.pk]
    assert not Product.objects.filter(search_dirty=True).exists()


def test_search_reindex_command_shows_progress(catalog):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    Product.objects.update(search_dirty=True, search_vector=None)
    call_command("search_reindex", stdout=out)
    assert "100.0%  8/8 products" in out.getvalue()
    assert "Indexed 8 products" in out.getvalue()
    assert found("q=lamp") == [catalog.products["lamp"].pk, catalog.products["light"].pk]


def test_autocomplete_table_follows_renames_after_commit(
    catalog, eager_celery, django_capture_on_commit_callbacks
):
    suggest = PostgresSearchBackend().suggest
    lamp = catalog.products["lamp"]
    assert "Desk Lamp" in [s.label for s in suggest(prefix="des", limit=5)]
    with django_capture_on_commit_callbacks(execute=True):
        lamp.name = "Desk Lantern"
        lamp.save()
    assert [s.label for s in suggest(prefix="des", limit=5) if s.kind == "product"] == [
        "Desk Lantern"
    ]
    # earlier words must be whole words of the name, the last one a prefix
    assert [s.label for s in suggest(prefix="desk lan", limit=5)] == ["Desk Lantern"]
    assert suggest(prefix="des lan", limit=5) == []


def test_autocomplete_never_offers_a_hidden_product_even_before_the_refresh(catalog):
    """The suggestion table is refreshed after commit; until then the live check hides what
    was archived or whose seller was suspended."""
    from sellers.services import seller_suspend

    suggest = PostgresSearchBackend().suggest
    lamp = catalog.products["lamp"]
    assert "Desk Lamp" in [s.label for s in suggest(prefix="des", limit=5)]
    product_archive(product=lamp)  # no on-commit callbacks run: the table still has the row
    assert SearchSuggestion.objects.filter(slug=lamp.slug).exists()
    assert "Desk Lamp" not in [s.label for s in suggest(prefix="des", limit=5)]

    light = catalog.products["light"]
    prefix = light.name.split()[0][:3]
    assert light.slug in {s.slug for s in suggest(prefix=prefix, limit=10)}
    seller_suspend(seller=light.seller, reason="Fraud review")
    assert light.slug not in {s.slug for s in suggest(prefix=prefix, limit=10)}


def test_hiding_a_variant_and_changing_a_value_reach_the_stored_columns(
    catalog, eager_celery, django_capture_on_commit_callbacks
):
    """search_visible and search_facet_values are kept by the same after-commit refresh."""
    shoe = catalog.products["shoe"]
    assert shoe.pk in found("attr_colour=red") and shoe.pk not in found("attr_colour=blue")
    value = VariantAttributeValue.objects.get(variant__product=shoe, attribute__slug="colour")
    with django_capture_on_commit_callbacks(execute=True):
        value.choice = AttributeChoice.objects.get(slug="blue")
        value.save()
    assert shoe.pk in found("attr_colour=blue") and shoe.pk not in found("attr_colour=red")
    with django_capture_on_commit_callbacks(execute=True):
        shoe.variants.update(is_active=False)
        shoe.save()
    assert Product.objects.get(pk=shoe.pk).search_visible is False
    assert shoe.pk not in found("q=shoe")


def test_reindex_can_refresh_only_the_denormalised_columns(catalog):
    from io import StringIO

    from django.core.management import call_command

    Product.objects.update(search_visible=False, search_facet_values=[])
    SearchSuggestion.objects.all().delete()
    assert found("attr_colour=red") == []
    assert len(found("")) == 5  # visibility does not wait for the flag (checked live)
    out = StringIO()
    call_command("search_reindex", "--denormalised-only", stdout=out)
    assert "100.0%" in out.getvalue() and "Refreshed search columns of 8 products" in out.getvalue()
    assert len(found("")) == 5
    assert catalog.products["shoe"].pk in found("attr_waterproof=true")
    assert SearchSuggestion.objects.filter(word="lamp").exists()


def test_batched_marks_flag_once_at_the_end_and_nothing_if_the_block_fails(
    catalog, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from search.services import search_index_mark_dirty_batched

    lamp, shirt = catalog.products["lamp"], catalog.products["red_shirt"]
    Product.objects.update(search_dirty=False)
    lamp.refresh_from_db()
    with django_capture_on_commit_callbacks() as callbacks, search_index_mark_dirty_batched():
        lamp.save()
        with search_index_mark_dirty_batched():  # joins the outer block
            lamp.save()
            VariantSalePrice.objects.filter(variant__product=shirt).delete()
            shirt.variants.get().save()
        assert not Product.objects.filter(search_dirty=True).exists()
    assert set(Product.objects.filter(search_dirty=True).values_list("pk", flat=True)) == {
        lamp.pk,
        shirt.pk,
    }
    assert len(callbacks) == 1

    Product.objects.update(search_dirty=False)
    lamp.refresh_from_db()

    def bulk_write_that_fails() -> None:
        with transaction.atomic(), search_index_mark_dirty_batched():
            lamp.save()
            raise RuntimeError("the bulk write fails")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        bulk_write_that_fails()
    assert not Product.objects.filter(search_dirty=True).exists()
    assert callbacks == []
