from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product, ProductImage, ProductStatus, VariantSalePrice
from catalog.selectors import (
    category_ancestors,
    category_names_with_ancestors,
    category_path_in_subtree,
    category_subtree,
    product_get_public,
    product_list_by_ids,
    product_queryset_cards,
    variant_queryset_priced,
    variants_priced,
)
from catalog.services import category_create, category_move, sale_price_schedule
from search.base import ProductSort, SearchQuery
from search.services import listing_run
from sellers.models import SellerStatus
from shop.core.errors import NotFound, ValidationError
from tests.factories import ProductFactory, ProductVariantFactory, SellerFactory

pytestmark = pytest.mark.django_db


def test_subtree_and_breadcrumbs_follow_moves():
    root = category_create(name="Home")
    kitchen = category_create(name="Kitchen", parent=root)
    knives = category_create(name="Knives", parent=kitchen)
    garden = category_create(name="Garden")

    assert set(category_subtree(category=root)) == {root, kitchen, knives}
    assert category_ancestors(category=knives) == [root, kitchen, knives]

    category_move(category=kitchen, new_parent=garden)
    knives.refresh_from_db()
    assert category_ancestors(category=knives) == [garden, kitchen, knives]
    assert knives.depth == 2
    assert set(category_subtree(category=root)) == {root}


def test_the_subtree_rule_reads_alike_in_sql_in_memory_and_in_the_search_text():
    """`category_in_subtree` is the one rule: the ORM's subtree, the in-memory form the
    category facet sums counts with, and the ancestors whose names the search vector
    indexes all follow it."""
    home = category_create(name="Home")
    kitchen = category_create(name="Kitchen", parent=home)
    knives = category_create(name="Knives", parent=kitchen)
    pans = category_create(name="Pans", parent=kitchen)
    garden = category_create(name="Garden")
    tree = [home, kitchen, knives, pans, garden]
    for root in tree:
        in_memory = {c for c in tree if category_path_in_subtree(path=c.path, root_path=root.path)}
        assert set(category_subtree(category=root)) == in_memory, root.name
    assert set(category_subtree(category=kitchen)) == {kitchen, knives, pans}
    names = {
        ProductFactory(category=category).pk: expected
        for category, expected in (
            (knives, "Home Kitchen Knives"),
            (home, "Home"),
            (garden, "Garden"),
        )
    }
    named = Product.objects.annotate(
        names=category_names_with_ancestors(category_ref="category_id")
    ).values_list("pk", "names")
    assert dict(named) == names


def test_category_cannot_move_under_its_own_descendant():
    root = category_create(name="Root")
    child = category_create(name="Child", parent=root)
    with pytest.raises(ValidationError):
        category_move(category=root, new_parent=child)


def test_price_from_uses_live_sale_price_and_sorts_by_it():
    cheap_on_sale = ProductVariantFactory(price=Decimal("50.00")).product
    ProductVariantFactory(product=cheap_on_sale, price=Decimal("70.00"))
    mid = ProductVariantFactory(price=Decimal("30.00")).product
    now = timezone.now()
    sale_price_schedule(
        variant=cheap_on_sale.variants.order_by("price").first(),
        sale_price=Decimal("20.00"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
    )

    by_price = listing_run(query=SearchQuery(sort=ProductSort.PRICE_ASC)).product_ids
    assert by_price == [cheap_on_sale.pk, mid.pk]
    prices = {p.pk: p.price_from for p in product_queryset_cards()}
    assert prices[cheap_on_sale.pk] == Decimal("20.00")

    after_sale = product_queryset_cards(at=now + timedelta(hours=2))
    prices = {p.pk: p.price_from for p in after_sale}
    assert prices[cheap_on_sale.pk] == Decimal("50.00")


def test_hidden_products_are_not_public():
    draft = ProductVariantFactory(product__status=ProductStatus.DRAFT).product
    suspended = ProductVariantFactory(
        product__seller=SellerFactory(status=SellerStatus.SUSPENDED)
    ).product
    no_variant = ProductFactory()
    visible = ProductVariantFactory().product

    assert [p.pk for p in product_queryset_cards()] == [visible.pk]
    for hidden in (draft, suspended, no_variant):
        with pytest.raises(NotFound):
            product_get_public(slug=hidden.slug)


def test_prepared_checkout_prices_agree_with_the_price_expression():
    """`variants_priced` (the prepared statement pricing uses) runs the sale-price rule compiled
    once with a stand-in moment: it must charge what `variant_queryset_priced` shows, at every
    edge of a sale window, and load the same product, seller and category."""
    now = timezone.now().replace(microsecond=0)
    hour = timedelta(hours=1)
    plain = ProductVariantFactory(price=Decimal("30.00"))
    windows = {
        "live": (now - hour, now + hour),
        "open_ended": (now - hour, None),
        "starts_now": (now, now + hour),
        "ends_now": (now - hour, now),
        "future": (now + timedelta(seconds=1), None),
        "past": (now - 2 * hour, now - hour),
    }
    variants = [plain]
    for starts_at, ends_at in windows.values():
        variant = ProductVariantFactory(price=Decimal("30.00"))
        VariantSalePrice.objects.create(
            variant=variant, sale_price=Decimal("21.50"), starts_at=starts_at, ends_at=ends_at
        )
        variants.append(variant)
    overlapping = ProductVariantFactory(price=Decimal("30.00"))
    for price in ("25.00", "19.99"):
        VariantSalePrice.objects.create(
            variant=overlapping, sale_price=Decimal(price), starts_at=now - hour
        )
    variants.append(overlapping)
    ids = [v.pk for v in variants]
    for at in (now - 2 * hour, now - hour, now, now + timedelta(seconds=1), now + 2 * hour):
        expected = dict(
            variant_queryset_priced(at=at).filter(pk__in=ids).values_list("pk", "current_price")
        )
        got = {v.pk: v.current_price for v in variants_priced(variant_ids=ids, at=at)}
        assert got == expected, at
    assert {v.pk: v.current_price for v in variants_priced(variant_ids=ids, at=now)} == {
        plain.pk: Decimal("30.00"),
        variants[1].pk: Decimal("21.50"),
        variants[2].pk: Decimal("21.50"),
        variants[3].pk: Decimal("21.50"),
        variants[4].pk: Decimal("30.00"),
        variants[5].pk: Decimal("30.00"),
        variants[6].pk: Decimal("30.00"),
        overlapping.pk: Decimal("19.99"),
    }
    (loaded,) = variants_priced(variant_ids=[plain.pk])
    assert (loaded.sku, loaded.product.name, loaded.product.seller.name) == (
        plain.sku,
        plain.product.name,
        plain.product.seller.name,
    )
    assert loaded.product.category.path == plain.product.category.path


def test_products_by_id_load_as_the_storefront_list_shows_them():
    """`product_list_by_ids` (a search page's prepared statement) runs the storefront list's
    visibility and prices compiled once, in its own frame of card data: it must show the
    same products, at the same prices, with the same seller, category and first image, in
    the order asked."""
    now = timezone.now().replace(microsecond=0)
    hour = timedelta(hours=1)
    on_sale = ProductVariantFactory(price=Decimal("50.00"), compare_at_price=Decimal("80.00"))
    ProductVariantFactory(product=on_sale.product, price=Decimal("45.00"), position=1)
    VariantSalePrice.objects.create(
        variant=on_sale, sale_price=Decimal("30.00"), starts_at=now - hour, ends_at=now + hour
    )
    ProductVariantFactory(product=on_sale.product, price=Decimal("5.00"), is_active=False)
    with_images = ProductVariantFactory(price=Decimal("12.00")).product
    for position, name in ((2, "last"), (1, "first"), (1, "second")):
        ProductImage.objects.create(
            product=with_images,
            image=f"products/{name}.jpg",
            width=400,
            height=400,
            position=position,
        )
    flagged_but_inactive = ProductVariantFactory(is_active=False).product
    Product.objects.filter(pk=flagged_but_inactive.pk).update(search_visible=True)
    hidden = [
        ProductVariantFactory(product__status=ProductStatus.ARCHIVED).product,
        ProductVariantFactory(product__seller=SellerFactory(status=SellerStatus.SUSPENDED)).product,
        ProductFactory(),  # no variant
        ProductVariantFactory(is_active=False).product,
    ]
    shown = [with_images, on_sale.product, flagged_but_inactive]
    ids = [p.pk for p in shown + hidden] + [10**9]
    for at in (now, now + 2 * hour):
        expected = {p.pk: p for p in product_queryset_cards(at=at).filter(pk__in=ids)}
        got = product_list_by_ids(ids=ids, at=at)
        assert [p.pk for p in got] == [p.pk for p in shown], at
        for product in got:
            listed = expected[product.pk]
            assert (product.price_from, product.price_was) == (
                listed.price_from,
                listed.price_was,
            ), at
            assert product.seller == listed.seller and product.seller.name == listed.seller.name
            assert product.category == listed.category and product.category.slug
            assert [i.pk for i in product.image_list] == [i.pk for i in listed.image_list]
            assert product.name == listed.name and product.rating_avg == listed.rating_avg
    on_sale_now = product_list_by_ids(ids=[on_sale.product.pk], at=now)[0]
    assert (on_sale_now.price_from, on_sale_now.price_was) == (Decimal("30.00"), Decimal("80.00"))
    assert product_list_by_ids(ids=[with_images.pk])[0].image_list[0].image.name == (
        "products/first.jpg"
    )
    assert product_list_by_ids(ids=[]) == []
