from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from catalog.models import (
    AttributeType,
    Product,
    ProductStatus,
    SearchSuggestion,
    VariantAttributeValue,
    VariantSalePrice,
)
from catalog.services import (
    category_move,
    category_update,
    product_archive,
    product_create,
    product_publish,
    product_update,
    sale_price_delete,
    variant_attributes_set,
    variant_create,
    variant_update,
)
from inventory.services import stock_receive
from search.postgres import PostgresSearchBackend
from search.query import listing_query_parse
from search.services import (
    search_index_rebuild,
    search_index_refresh,
    search_index_refresh_dirty,
    search_prices_refresh_due,
    search_suggestions_rebuild,
    search_suggestions_refresh,
)
from sellers.models import SellerStatus
from sellers.services import seller_approve, seller_suspend
from shop.celery import app
from shop.core.outbox import OutboxMessage
from tests.factories import (
    AttributeChoiceFactory,
    AttributeFactory,
    ProductFactory,
    ProductTypeFactory,
    ProductVariantFactory,
    SellerFactory,
    VariantAttributeValueFactory,
)
from tests.factories.inventory import WarehouseFactory

pytestmark = pytest.mark.django_db


def found(query_string: str) -> list[int]:
    query = listing_query_parse(params=QueryDict(query_string), page_size=50)
    return PostgresSearchBackend().search(query=query).product_ids


def rename(product: Product, name: str) -> None:
    product_update(
        product=product,
        name=name,
        category=product.category,
        product_type=product.product_type,
        brand=product.brand,
        description=product.description,
    )


def variant_change(variant, **changes) -> None:
    values = {
        "sku": variant.sku,
        "price": variant.price,
        "name": variant.name,
        "compare_at_price": variant.compare_at_price,
        "is_active": variant.is_active,
    }
    variant_update(variant=variant, **{**values, **changes})


@pytest.fixture
def eager_celery():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_rename_is_searchable_after_commit_through_the_celery_task(
    catalog, eager_celery, django_capture_on_commit_callbacks
):
    lamp = catalog.products["lamp"]
    assert Product.objects.get(pk=lamp.pk).search_dirty is False
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rename(lamp, "Desk Lantern")
    # flagged in the same transaction by the service; nothing indexed before commit
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
        variant_change(light.variants.get(), price=Decimal("45.00"))
    assert light.pk in found("price_max=50")


def test_archived_products_and_suspended_sellers_vanish_at_once(catalog):
    lamp = catalog.products["lamp"]
    assert lamp.pk in found("q=lamp")
    product_archive(product=lamp)  # no refresh has run: the live status filter hides it
    assert lamp.pk not in found("q=lamp")
    seller_suspend(seller=catalog.sellers["beta"], reason="Fraud review")
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
        rename(lamp, "Desk Lantern")
    assert [s.label for s in suggest(prefix="des", limit=5) if s.kind == "product"] == [
        "Desk Lantern"
    ]
    # earlier words must be whole words of the name, the last one a prefix
    assert [s.label for s in suggest(prefix="desk lan", limit=5)] == ["Desk Lantern"]
    assert suggest(prefix="des lan", limit=5) == []


def test_autocomplete_never_offers_a_hidden_product_even_before_the_refresh(catalog):
    """The suggestion table is refreshed after commit; until then the live check hides what
    was archived or whose seller was suspended."""
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
    variant = shoe.variants.get()
    shoe_type = ProductTypeFactory()
    shoe_type.attributes.set(
        VariantAttributeValue.objects.filter(variant=variant).values_list("attribute", flat=True)
    )
    Product.objects.filter(pk=shoe.pk).update(product_type=shoe_type)
    variant = shoe.variants.select_related("product__product_type").get()
    with django_capture_on_commit_callbacks(execute=True):
        variant_attributes_set(variant=variant, values={"colour": "blue", "waterproof": True})
    assert shoe.pk in found("attr_colour=blue") and shoe.pk not in found("attr_colour=red")
    with django_capture_on_commit_callbacks(execute=False):
        variant_change(variant, is_active=False)
    # cleared in the writer's transaction: no refresh has run
    assert Product.objects.get(pk=shoe.pk).search_visible is False
    assert shoe.pk not in found("q=shoe")


def test_only_active_variants_reach_the_vector_and_the_facet_values():
    """The refresh reads a product's variants through the catalog's active-variant rule: the
    SKU, attribute values and facet keys of an inactive variant are neither found nor
    offered, those of its active sibling are."""
    wood = AttributeFactory(name="Wood", slug="wood", type=AttributeType.CHOICE)
    oiled = AttributeFactory(name="Oiled", slug="oiled", type=AttributeType.BOOLEAN)
    grain = AttributeFactory(name="Grain", slug="grain", type=AttributeType.TEXT)
    width = AttributeFactory(name="Width", slug="width", type=AttributeType.NUMBER)
    walnut = AttributeChoiceFactory(attribute=wood, value="Walnut", slug="walnut")
    cherry = AttributeChoiceFactory(attribute=wood, value="Cherry", slug="cherry")
    product = ProductFactory(name="Serving Board")
    variants = {
        active: ProductVariantFactory(product=product, sku=f"BOARD-{active}", is_active=active)
        for active in (True, False)
    }
    for active, choice, text, number in [
        (True, walnut, "Quartersawn", Decimal("2.5")),
        (False, cherry, "Burl", Decimal("12.75")),
    ]:
        variant = variants[active]
        VariantAttributeValueFactory(variant=variant, attribute=wood, choice=choice)
        VariantAttributeValueFactory(variant=variant, attribute=oiled, value_boolean=active)
        VariantAttributeValueFactory(variant=variant, attribute=grain, value_text=text)
        VariantAttributeValueFactory(variant=variant, attribute=width, value_number=number)
    search_index_refresh(product_ids=[product.pk])

    for shown in ("BOARD-True", "walnut", "quartersawn", "attr_wood=walnut", "attr_oiled=true"):
        query = shown if shown.startswith("attr_") else f"q={shown}"
        assert found(query) == [product.pk], shown
    for hidden in ("BOARD-False", "cherry", "burl", "attr_wood=cherry", "attr_oiled=false"):
        query = hidden if hidden.startswith("attr_") else f"q={hidden}"
        assert found(query) == [], hidden
    vector = Product.objects.values_list("search_vector", flat=True).get(pk=product.pk)
    # a number as written, no trailing zeros (a factory's name may hold a whole number)
    assert "'2.5'" in vector and "'12.75'" not in vector


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
        rename(lamp, "Desk Lantern")
        with search_index_mark_dirty_batched():  # joins the outer block
            rename(lamp, "Desk Lamp")
            sale_price_delete(sale=VariantSalePrice.objects.get(variant__product=shirt))
            variant_change(shirt.variants.get(), price=Decimal("41.00"))
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
            rename(lamp, "Desk Lantern")
            raise RuntimeError("the bulk write fails")

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        bulk_write_that_fails()
    assert not Product.objects.filter(search_dirty=True).exists()
    assert callbacks == []


def test_rebuild_plans_the_autocomplete_from_statistics_of_the_rows_it_wrote(catalog):
    """After a bulk load the statistics say no product is visible; the autocomplete rebuild's
    self-join planned from them probed a trigram index once per product (minutes at 20,000
    products, a seed of 1M would not finish)."""
    Product.objects.update(search_visible=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_product")

    search_index_rebuild()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text FROM pg_stats "
            "WHERE tablename = 'catalog_product' AND attname = 'search_visible'"
        )
        assert "t" in cursor.fetchone()[0]
    assert SearchSuggestion.objects.exists()


def test_a_product_published_through_the_services_is_found_at_once(
    catalog, client, django_capture_on_commit_callbacks
):
    """No task and no beat: the publishing transaction writes what search reads, as the
    category page shows it from the same commit."""
    with django_capture_on_commit_callbacks(execute=False):
        kettle = product_create(
            seller=catalog.sellers["alpha"],
            name="Copper Kettle",
            category=catalog.categories["electronics"],
        )
        variant_create(product=kettle, sku="KETTLE-1", price=Decimal("35.00"))
        assert kettle.pk not in found("q=kettle")  # a draft is not public
        product_publish(product=kettle)
    assert found("q=kettle") == [kettle.pk]
    assert kettle.pk in found("q=copper&price_max=40")
    response = client.get("/search/", {"q": "kettle"})
    assert response.status_code == 200 and "Copper Kettle" in response.content.decode()
    # the outbox still queues its refresh (OpenSearch, and a lost task is swept)
    assert Product.objects.get(pk=kettle.pk).search_dirty is True
    assert OutboxMessage.objects.filter(
        task="search.tasks.search_index_refresh_task", kwargs={"product_ids": [kettle.pk]}
    ).exists()


def test_a_public_product_whose_first_variant_becomes_active_is_found_at_once(
    catalog, django_capture_on_commit_callbacks
):
    lamp = catalog.products["lamp"]
    with django_capture_on_commit_callbacks(execute=False):
        variant_change(lamp.variants.get(), is_active=False)
    assert lamp.pk not in found("q=lamp")
    with django_capture_on_commit_callbacks(execute=False):
        variant_create(product=lamp, sku="LAMP-2", price=Decimal("25.00"))
    assert lamp.pk in found("q=lamp")
    assert lamp.pk in found("price_max=26")  # the new variant's price is stored already


def test_a_category_rename_reaches_its_whole_subtree(
    catalog, eager_celery, django_capture_on_commit_callbacks
):
    clothing = catalog.categories["clothing"]
    assert found("q=apparel") == []
    with django_capture_on_commit_callbacks(execute=True):
        category_update(category=clothing, name="Apparel", slug="apparel")
    shirts_and_shoes = {catalog.products[name].pk for name in ("blue_shirt", "red_shirt", "shoe")}
    assert set(found("q=apparel")) == shirts_and_shoes


def test_category_move_marks_the_moved_subtree(catalog, django_capture_on_commit_callbacks):
    Product.objects.update(search_dirty=False)
    with django_capture_on_commit_callbacks(execute=False):
        category_move(category=catalog.categories["shoes"], new_parent=None)
    assert set(Product.objects.filter(search_dirty=True).values_list("pk", flat=True)) == {
        catalog.products["shoe"].pk
    }


@pytest.fixture
def opensearch_configured(settings):
    settings.OPENSEARCH_URL = "https://search.example.test:9200"


def dirty_ids() -> set[int]:
    return set(Product.objects.filter(search_dirty=True).values_list("pk", flat=True))


def test_seller_status_changes_mark_its_products_only_for_opensearch(
    catalog, settings, django_capture_on_commit_callbacks
):
    """PostgreSQL search checks the seller live (tested above); OpenSearch documents carry
    `visible`, so suspending or approving a seller flags its products in the same transaction."""
    alpha = catalog.sellers["alpha"]
    alpha_products = set(alpha.products.values_list("pk", flat=True))
    Product.objects.update(search_dirty=False)
    with django_capture_on_commit_callbacks(execute=False):
        seller_suspend(seller=alpha, reason="Fraud review")
    assert dirty_ids() == set()

    settings.OPENSEARCH_URL = "https://search.example.test:9200"
    with django_capture_on_commit_callbacks(execute=False):
        seller_approve(seller=alpha)
    assert dirty_ids() == alpha_products
    assert OutboxMessage.objects.filter(task="search.tasks.search_index_refresh_task").exists()


def test_stock_changes_mark_the_product_after_commit_for_opensearch(
    catalog, opensearch_configured, django_capture_on_commit_callbacks
):
    lamp = catalog.products["lamp"]
    warehouse = WarehouseFactory(seller=lamp.seller)
    Product.objects.update(search_dirty=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stock_receive(warehouse=warehouse, variant=lamp.variants.get(), quantity=3)
    assert dirty_ids() == set()  # the stock transaction never waits on product rows
    callbacks[0]()
    assert dirty_ids() == {lamp.pk}


@pytest.mark.parametrize("rebuild", [False, True], ids=["refresh", "rebuild"])
def test_the_autocomplete_table_counts_and_links_only_public_products(rebuild):
    """The table holds what the listing shows (`product_queryset_listed`): of six products
    named alike, only the public one counts and gets the link, though each hidden one (draft,
    archived, its seller suspended or pending, no variant, no active variant) has more
    ratings; a name only hidden products carry has no row."""
    public = ProductVariantFactory(product__name="Walnut Tray", product__rating_count=1).product
    hidden = [
        ProductVariantFactory(product__status=ProductStatus.DRAFT).product,
        ProductVariantFactory(product__status=ProductStatus.ARCHIVED).product,
        ProductVariantFactory(product__seller=SellerFactory(status=SellerStatus.SUSPENDED)).product,
        ProductVariantFactory(product__seller=SellerFactory(status=SellerStatus.PENDING)).product,
        ProductFactory(),
        ProductVariantFactory(is_active=False).product,
    ]
    Product.objects.filter(pk__in=[p.pk for p in hidden]).update(
        name="Walnut Tray", rating_count=99
    )
    # as the search refresh left them: the flag says "an active variant", not "public"
    Product.objects.filter(pk__in=[p.pk for p in [public, *hidden[:4]]]).update(search_visible=True)
    only_hidden = ProductFactory(name="Cedar Box")
    if rebuild:
        search_suggestions_rebuild()
    else:
        search_suggestions_refresh(product_ids=[public.pk, only_hidden.pk, *(p.pk for p in hidden)])
    rows = SearchSuggestion.objects.filter(phrase="walnut tray").order_by("word")
    assert [(r.word, r.label, r.slug, r.weight) for r in rows] == [
        ("tray", "Walnut Tray", public.slug, 1),
        ("walnut", "Walnut Tray", public.slug, 1),
    ]
    assert not SearchSuggestion.objects.filter(phrase="cedar box").exists()
