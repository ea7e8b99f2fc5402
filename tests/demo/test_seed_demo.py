from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import authenticate
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.test import RequestFactory
from django.utils import timezone

from catalog.models import Category, Product, ProductImage, ProductVariant, VariantSalePrice
from catalog.selectors import product_queryset_cards
from demo.seed import (
    CATEGORY_LIST_INDEXES,
    DEMO_LOGINS,
    SEEDED_TABLES,
    product_table_rebuild,
    seeded_tables_vacuum,
)
from sellers.models import Seller, SellerMember, SellerStatus

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_builds_a_browsable_marketplace():
    output = _seed("--products", "60", "--batch-size", "25")

    assert Product.objects.count() == 60
    assert "100%" in output and "60/60 products" in output
    # three levels, paths consistent with parents
    assert set(Category.objects.values_list("depth", flat=True)) == {0, 1, 2}
    for category in Category.objects.select_related("parent"):
        expected_prefix = category.parent.path if category.parent else ""
        assert category.path.startswith(expected_prefix)
        assert category.path.count("/") == category.depth + 1
    # 1-4 variants per product, unique SKUs
    per_product = Product.objects.annotate(n=Count("variants")).values_list("n", flat=True)
    assert set(per_product) <= {1, 2, 3, 4}
    skus = list(ProductVariant.objects.values_list("sku", flat=True))
    assert len(skus) == len(set(skus))
    # public list works and hides the suspended/pending sellers' products
    public = product_queryset_cards()
    assert public.exists()
    assert not public.exclude(seller__status=SellerStatus.APPROVED).exists()
    hidden = Product.objects.filter(seller__status=SellerStatus.SUSPENDED, status="active")
    assert hidden.exists()  # the demo shows hiding: active products of a suspended seller
    assert not public.filter(pk__in=hidden.values("pk")).exists()
    # every product has an image whose files exist in storage
    assert not Product.objects.filter(images__isnull=True).exists()
    image = ProductImage.objects.first()
    assert default_storage.exists(image.image.name)
    assert default_storage.exists(image.thumbnail.name)
    # seeding leaves search vectors NULL and hands over to the search app's rebuild hook
    assert "Search index rebuilt." in output
    assert not Product.objects.filter(search_vector__isnull=True).exists()

    # a sale running now lowers the price shoppers pay
    live = VariantSalePrice.objects.filter(starts_at__lte=timezone.now())
    sale = live.filter(variant__product__in=public).select_related("variant").first()
    assert sale.sale_price < sale.variant.price
    assert public.get(pk=sale.variant.product_id).price_from <= sale.sale_price

    # the demo logins work; the seller user owns the first (approved) seller
    request = RequestFactory().post("/accounts/login/")  # sign-ins are per request (axes)
    for _who, email, password in DEMO_LOGINS:
        assert authenticate(request, username=email, password=password) is not None, email
    assert authenticate(request, username="admin@example.com", password=DEMO_LOGINS[0][2]).is_staff
    membership = SellerMember.objects.get(user__email="seller@example.com")
    assert membership.seller.slug == "northwind-outfitters"
    assert membership.seller.status == SellerStatus.APPROVED


def test_refuses_appends_forces_and_is_deterministic():
    _seed("--products", "10", "--seed", "7")
    first = list(Product.objects.order_by("pk").values_list("name", "brand", "category__slug"))
    with pytest.raises(CommandError, match="--append"):
        _seed("--products", "10")
    assert Product.objects.count() == 10  # the refusal changed nothing

    _seed("--products", "7", "--append")
    assert Product.objects.count() == 17
    assert Category.objects.filter(slug="laptops").count() == 1  # tree not duplicated

    _seed("--products", "10", "--seed", "7", "--force")
    again = list(Product.objects.order_by("pk").values_list("name", "brand", "category__slug"))
    assert again == first


def test_seed_stocks_every_variant_through_the_ledger():
    from inventory.models import Stock, StockMovement, Warehouse
    from inventory.selectors import variant_availability

    output = _seed("--products", "80", "--batch-size", "30")

    assert "opening-stock ledger rows" in output
    variants = ProductVariant.objects.count()
    assert not ProductVariant.objects.filter(stocks__isnull=True).exists()
    # every seller ships from its own warehouse; the demo seller's shop has two
    for stock in Stock.objects.select_related("warehouse", "variant__product"):
        assert stock.warehouse.seller_id == stock.variant.product.seller_id
    demo_seller = SellerMember.objects.get(user__email="seller@example.com").seller
    assert Warehouse.objects.filter(seller=demo_seller).count() == 2
    # a realistic spread: sold out, "only N left" and plenty
    on_hand = list(Stock.objects.filter(warehouse__code="main").values_list("on_hand", flat=True))
    assert 0 in on_hand and any(1 <= n <= 5 for n in on_hand) and max(on_hand) >= 10
    # the ledger explains every unit, so inventory_check agrees
    for stock in Stock.objects.filter(on_hand__gt=0):
        assert list(stock.movements.values_list("delta", flat=True)) == [stock.on_hand]
    assert not StockMovement.objects.filter(stock__on_hand=0).exists()
    out = io.StringIO()
    call_command("inventory_check", stdout=out)
    assert "All stock counters agree" in out.getvalue()
    # the storefront can sell it
    in_stock = Stock.objects.filter(on_hand__gt=0, warehouse__seller=demo_seller).first()
    available = variant_availability(variant_ids=[in_stock.variant_id])[in_stock.variant_id]
    assert available >= in_stock.on_hand

    # appending stocks only the new variants; existing rows are left alone
    rows = Stock.objects.count()
    _seed("--products", "10", "--append", "--seed", "7")
    assert ProductVariant.objects.count() > variants
    assert not ProductVariant.objects.filter(stocks__isnull=True).exists()
    assert Stock.objects.count() > rows
    assert StockMovement.objects.filter(reference="seed_demo").count() == (
        Stock.objects.filter(on_hand__gt=0).count()
    )


def test_seed_analyses_every_seeded_table_in_a_transaction():
    output = _seed("--products", "5")

    for table in SEEDED_TABLES:
        assert f"ANALYZE {table}:" in output
    assert "VACUUM" not in output  # a test runs in a transaction, where VACUUM cannot


def test_seed_rebuilds_the_product_table_and_reports_its_sizes():
    output = _seed("--products", "5")

    assert set(CATEGORY_LIST_INDEXES) >= {
        "catalog_product_catnew_cover",
        "catalog_product_catprice_cover",
        "catalog_product_catrate_cover",
        "catalog_product_catname_cover",
    }
    # in a transaction (a test) the indexes are rebuilt; outside one the table is packed too
    assert re.search(r"REINDEX TABLE catalog_product: [\d.]+s", output)
    for name in ("catalog_product", *CATEGORY_LIST_INDEXES):
        assert re.search(rf"    {name}: [\d.]+ MB -> [\d.]+ MB", output)
    assert (
        output.index("Search index rebuilt.")
        < output.index("REINDEX TABLE")
        < output.index("ANALYZE catalog_product")
    )


def test_rebuilding_shrinks_an_index_the_search_refresh_bloated():
    _seed("--products", "40")
    with connection.cursor() as cursor:
        for _ in range(20):  # what a refresh does: every row gets a new version in the index
            cursor.execute("UPDATE catalog_product SET search_price_min = search_price_min + 1")

    rebuilt = {r.name: r for r in product_table_rebuild(out=io.StringIO())}

    price = rebuilt["catalog_product_catprice_cover"]
    assert price.bytes_after < price.bytes_before
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size('catalog_product_catprice_cover')")
        assert cursor.fetchone()[0] == price.bytes_after
    # the rebuilt index still answers a category page
    from catalog.selectors import ProductFilters
    from search.base import SearchQuery
    from search.services import listing_run

    category = Category.objects.get(pk=Product.objects.values("category_id")[:1])
    query = SearchQuery(filters=ProductFilters(category=category))
    assert listing_run(query=query).product_ids


@pytest.mark.django_db(transaction=True)
def test_vacuum_sets_the_visibility_map_index_only_scans_need():
    _seed("--products", "5")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_product SET updated_at = updated_at")  # dead versions
        assert seeded_tables_vacuum(out=io.StringIO())
        cursor.execute(
            "SELECT relallvisible, relpages FROM pg_class WHERE relname = 'catalog_product'"
        )
        all_visible, pages = cursor.fetchone()
    assert pages > 0 and all_visible == pages


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_rebuild_rewrites_the_table_and_its_indexes():
    """VACUUM FULL writes the table and every index afresh (new files), which is what packs
    them. (How much it frees depends on which dead versions no open snapshot still needs: a
    size is not asserted here; docs/search.md has the 1M figures.)"""
    _seed("--products", "40")
    names = ["catalog_product", "catalog_product_catprice_cover", "catalog_product_search"]
    files = "SELECT pg_relation_filenode(name::regclass) FROM unnest(%s::text[]) AS name"
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_product SET search_price_min = search_price_min + 1")
        cursor.execute(files, [names])
        before = [row[0] for row in cursor.fetchall()]
    out = io.StringIO()

    rebuilt = {r.name: r for r in product_table_rebuild(out=out)}

    assert "VACUUM (FULL) catalog_product:" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute(files, [names])
        after = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT pg_relation_size('catalog_product')")
        assert cursor.fetchone()[0] == rebuilt["catalog_product"].bytes_after
    assert all(b != a for b, a in zip(before, after, strict=True))


def test_seed_queues_no_search_refresh_after_rebuilding_the_index(
    django_capture_on_commit_callbacks,
):
    """`make run` seeds, rebuilds the index, then starts the worker: a refresh queued per
    reviewed product (~200) would only redo the rebuild's work."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _seed("--products", "40")
    assert callbacks == []
    assert not Product.objects.filter(search_dirty=True).exists()


def test_the_demo_customer_can_buy_from_the_seed_with_shipping_tax_and_a_voucher():
    """A fresh seed checks out: every approved seller ships to the customer's country, the
    destination's tax applies (shipping included), the seeded voucher works."""
    from decimal import Decimal

    from accounts.models import User
    from cart.services import cart_get_or_create, cart_line_add, cart_voucher_apply
    from inventory.selectors import variant_availability
    from orders.models import OrderStatus
    from orders.selectors import shipping_options
    from orders.services import checkout_set_address, checkout_set_shipping, checkout_start
    from orders.services.placement import checkout_price, order_place
    from pricing.models import Promotion, Voucher

    _seed("--products", "60")
    assert Voucher.objects.filter(code__in=["WELCOME10", "SAVE5", "NORTHWIND15"]).count() == 3
    assert Promotion.objects.exists()
    customer = User.objects.get(email="customer@example.com")
    address = customer.addresses.get(is_default=True)
    assert address.country == "DE" and address.latitude is not None
    for country in ("DE", "US", "GB", "JP"):
        approved = list(
            Seller.objects.filter(status=SellerStatus.APPROVED).values_list("pk", flat=True)
        )
        options = shipping_options(seller_ids=approved, country=country)
        assert all(options[pk] for pk in approved), country

    variants = list(
        ProductVariant.objects.filter(
            product__seller__status=SellerStatus.APPROVED, product__status="active", is_active=True
        ).order_by("pk")[:40]
    )
    available = variant_availability(variant_ids=[v.pk for v in variants])
    variant = next(v for v in variants if available[v.pk] >= 2 and v.price >= 25)
    cart = cart_get_or_create(user=customer)
    cart_line_add(cart=cart, variant_id=variant.pk, quantity=1)
    cart_voucher_apply(cart=cart, code="WELCOME10")
    checkout = checkout_start(cart=cart, user=customer)
    checkout_set_address(checkout=checkout, email=customer.email, address_id=address.pk)
    seller_id = variant.product.seller_id
    method = shipping_options(seller_ids=[seller_id], country="DE")[seller_id][0]
    checkout_set_shipping(checkout=checkout, choices={seller_id: method.pk})
    totals = checkout_price(checkout=checkout)
    assert totals.discount_total > 0
    assert totals.tax_total > 0
    if totals.shipping_total:
        assert totals.shipping_tax_total == (totals.shipping_total * Decimal("0.19")).quantize(
            Decimal("0.01")
        )
    order = order_place(checkout=checkout, payment_token="tok_visa", expected_total=totals.total)
    assert order.status == OrderStatus.PAID
