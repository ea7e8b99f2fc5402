"""Storefront catalog pages: what a shopper sees, what stays hidden, and what each page costs."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from catalog.models import AttributeType, Product, ProductStatus, VariantSalePrice
from catalog.services import product_archive, product_image_add, variant_delete, variant_update
from search.popularity import product_popularity_refresh
from search.services import search_index_refresh
from sellers.models import SellerStatus
from sellers.services import seller_suspend
from tests.factories import (
    AttributeChoiceFactory,
    AttributeFactory,
    CategoryFactory,
    ProductFactory,
    ProductVariantFactory,
    SellerFactory,
    VariantAttributeValueFactory,
)
from tests.factories.inventory import stock_with

pytestmark = pytest.mark.django_db

# Queries of a category page, whatever the number of products shown: category, nav, ancestors
# (breadcrumbs), ancestors again and the number attributes (their range filters),
# subcategories; then the engine (`listing_run`): its lookups (approved sellers, tree,
# facet attributes; the subtree's ids are read from its tree), the table's size, the facet
# statement (counts and total), the page's ids (one merged walk per category of the
# subtree), the page's products.
CATEGORY_PAGE_QUERIES = 11
# nav, featured categories, approved sellers' ids, the featured and the newest ids, the
# products of each (with their first image)
HOME_QUERIES = 7
# product, variants, their attribute values, images, breadcrumbs, nav; the reviews section's
# review count, per-star distribution and questions (tests/reviews pins it with reviews shown)
PRODUCT_PAGE_QUERIES = 9
# seller, nav, the buyers' seller ratings (reviews' `seller_ratings` tag); the engine: its
# lookups, the seller filter's ids, the table's size, the facet statement, the page's ids, the
# page's products
SELLER_PAGE_QUERIES = 9


def make_product(*, price="19.99", variant_kwargs=None, **kwargs):
    product = ProductFactory(**kwargs)
    ProductVariantFactory(product=product, price=Decimal(price), **(variant_kwargs or {}))
    # what the after-commit search refresh does: price filters and sorts read search_price_min
    search_index_refresh(product_ids=[product.pk])
    return product


def names_in(response) -> list[str]:
    page = response.context["page_obj"]
    return [p.name for p in page.object_list] if page else []


def png_upload(name="photo.png", colour=(200, 40, 40)):
    buffer = io.BytesIO()
    Image.new("RGB", (120, 120), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def tree():
    root = CategoryFactory(name="Clothing", slug="clothing")
    child = CategoryFactory(name="Shirts", slug="shirts", parent=root)
    grandchild = CategoryFactory(name="Polo shirts", slug="polo-shirts", parent=child)
    other = CategoryFactory(name="Garden", slug="garden")
    return root, child, grandchild, other


# --- home ---------------------------------------------------------------------------------------


def test_home_shows_featured_categories_and_products(client):
    root = CategoryFactory(name="Garden", is_featured=True)
    make_product(name="Watering Can", category=root, is_featured=True)
    make_product(name="Spade", category=root)

    response = client.get(reverse("catalog:home"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Featured categories" in body and "Garden" in body
    assert [p.name for p in response.context["featured_products"]] == ["Watering Can"]
    assert {p.name for p in response.context["new_products"]} == {"Watering Can", "Spade"}
    # the header lists top-level categories and the account links
    assert reverse("catalog:category", args=[root.slug]) in body
    assert reverse("accounts:login") in body and reverse("sellers:apply") in body


def test_home_query_count_does_not_grow_with_products(client, django_assert_num_queries):
    category = CategoryFactory(is_featured=True)
    product = make_product(category=category, is_featured=True)
    product_image_add(product=product, upload=png_upload())
    with django_assert_num_queries(HOME_QUERIES):
        client.get(reverse("catalog:home"))
    for _ in range(8):
        product = make_product(category=category, is_featured=True)
        product_image_add(product=product, upload=png_upload())
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("catalog:home"))
    assert len(response.context["new_products"]) == 8


# --- category page ------------------------------------------------------------------------------


def test_category_lists_the_whole_subtree_with_breadcrumbs_and_subcategories(client, tree):
    root, child, grandchild, other = tree
    make_product(name="Plain tee", category=child)
    make_product(name="Classic polo", category=grandchild)
    make_product(name="Rake", category=other)

    response = client.get(reverse("catalog:category", args=[child.slug]))

    assert response.status_code == 200
    assert sorted(names_in(response)) == ["Classic polo", "Plain tee"]
    body = response.content.decode()
    assert [c.name for c in response.context["breadcrumbs"]] == ["Clothing", "Shirts"]
    assert reverse("catalog:category", args=[root.slug]) in body
    assert [c.name for c in response.context["subcategories"]] == ["Polo shirts"]


def test_unknown_category_is_404(client):
    assert client.get(reverse("catalog:category", args=["nope"])).status_code == 404


def test_price_filter_narrows_results(client, tree):
    root = tree[0]
    make_product(name="Cheap", category=root, price="5.00")
    make_product(name="Middle", category=root, price="25.00")
    make_product(name="Dear", category=root, price="90.00")

    response = client.get(
        reverse("catalog:category", args=[root.slug]), {"price_min": "10", "price_max": "50"}
    )

    assert names_in(response) == ["Middle"]
    # the form keeps what the shopper typed
    assert 'name="price_min" min="0" step="0.01" inputmode="decimal" value="10"' in (
        response.content.decode()
    )


def test_price_filter_uses_the_live_sale_price(client, tree):
    root = tree[0]
    product = make_product(name="On sale", category=root, price="80.00")
    VariantSalePrice.objects.create(
        variant=product.variants.get(),
        sale_price=Decimal("30.00"),
        starts_at=timezone.now() - timedelta(days=1),
    )
    search_index_refresh(product_ids=[product.pk])
    response = client.get(reverse("catalog:category", args=[root.slug]), {"price_max": "40"})
    assert names_in(response) == ["On sale"]
    body = response.content.decode()
    assert "$30.00" in body
    assert '<s class="price-was" data-price-was>$80.00</s>' in body


def test_compare_at_price_is_struck_through(client, tree):
    root = tree[0]
    make_product(
        name="Discounted",
        category=root,
        price="40.00",
        variant_kwargs={"compare_at_price": Decimal("55.00")},
    )
    make_product(name="Regular", category=root, price="40.00")
    body = client.get(reverse("catalog:category", args=[root.slug])).content.decode()
    assert body.count('<s class="price-was" data-price-was>$55.00</s>') == 1
    assert body.count("data-price-was hidden") == 1


def test_choice_attribute_filter_narrows_results_and_is_offered(client, tree):
    root = tree[0]
    colour = AttributeFactory(name="Colour", slug="colour", type=AttributeType.CHOICE)
    root.attributes.add(colour)
    red = AttributeChoiceFactory(attribute=colour, value="Red", slug="red")
    blue = AttributeChoiceFactory(attribute=colour, value="Blue", slug="blue")
    red_shirt = make_product(name="Red shirt", category=tree[1])
    blue_shirt = make_product(name="Blue shirt", category=tree[1])
    VariantAttributeValueFactory(variant=red_shirt.variants.get(), attribute=colour, choice=red)
    VariantAttributeValueFactory(variant=blue_shirt.variants.get(), attribute=colour, choice=blue)
    # choice filters read the facet values the after-commit search refresh stores
    assert (
        names_in(
            client.get(reverse("catalog:category", args=[tree[1].slug]), {"attr_colour": "red"})
        )
        == []
    )
    search_index_refresh(product_ids=[red_shirt.pk, blue_shirt.pk])

    # offered on a descendant category page, because the attribute belongs to an ancestor
    response = client.get(reverse("catalog:category", args=[tree[1].slug]), {"attr_colour": "red"})

    assert names_in(response) == ["Red shirt"]
    body = response.content.decode()
    assert 'name="attr_colour" value="red" checked' in body
    assert 'name="attr_colour" value="blue">' in body


def test_boolean_and_number_attribute_filters(client, tree):
    root = tree[0]
    waterproof = AttributeFactory(name="Waterproof", slug="waterproof", type=AttributeType.BOOLEAN)
    size = AttributeFactory(name="Size", slug="size", type=AttributeType.NUMBER, unit="cm")
    root.attributes.add(waterproof, size)
    coat = make_product(name="Coat", category=root)
    jumper = make_product(name="Jumper", category=root)
    VariantAttributeValueFactory(
        variant=coat.variants.get(), attribute=waterproof, value_boolean=True
    )
    VariantAttributeValueFactory(
        variant=jumper.variants.get(), attribute=waterproof, value_boolean=False
    )
    VariantAttributeValueFactory(variant=coat.variants.get(), attribute=size, value_number=90)
    VariantAttributeValueFactory(variant=jumper.variants.get(), attribute=size, value_number=60)
    search_index_refresh(product_ids=[coat.pk, jumper.pk])  # yes/no values: stored facet values
    url = reverse("catalog:category", args=[root.slug])

    assert names_in(client.get(url, {"attr_waterproof": "true"})) == ["Coat"]
    assert names_in(client.get(url, {"attr_waterproof": "false"})) == ["Jumper"]
    assert names_in(client.get(url, {"attr_size_min": "50", "attr_size_max": "70"})) == ["Jumper"]
    assert names_in(client.get(url, {"attr_size": "60"})) == ["Jumper"]
    # an exact value that is no number matches nothing, on its own or beside a number
    assert names_in(client.get(url, {"attr_size": "large"})) == []
    assert names_in(client.get(url, {"attr_size": "NaN,90"})) == ["Coat"]
    search = client.get(reverse("search:results"), {"q": "coat", "attr_size": "large"})
    assert search.status_code == 200
    # numbers the numeric columns cannot hold: dropped as exact values, refused as bounds
    assert names_in(client.get(url, {"attr_size": "1e999999"})) == []
    assert names_in(client.get(url, {"attr_size": "1e-999999,60"})) == ["Jumper"]
    for bad in ({"attr_size_min": "1e-999999"}, {"price_min": "1e-999999"}):
        assert client.get(url, bad).status_code == 400
        assert client.get(reverse("search:results"), {"q": "coat", **bad}).status_code == 400
        assert client.get("/api/v1/products/", bad).status_code == 400


def test_seller_filter_narrows_results_and_lists_only_sellers_in_the_subtree(client, tree):
    root, _, grandchild, other = tree
    alpha = SellerFactory(name="Alpha", slug="alpha")
    beta = SellerFactory(name="Beta", slug="beta")
    gamma = SellerFactory(name="Gamma", slug="gamma")
    delta = SellerFactory(name="Delta", slug="delta")
    epsilon = SellerFactory(name="Epsilon", slug="epsilon")
    make_product(name="From alpha", category=root, seller=alpha)
    make_product(name="From beta", category=root, seller=beta)
    make_product(name="Elsewhere", category=other, seller=gamma)
    archived = make_product(name="Archived", category=grandchild, seller=delta)
    product_archive(product=archived)  # before its refresh: its stored flag is still set
    ProductVariantFactory(product=ProductFactory(category=grandchild, seller=epsilon))

    response = client.get(reverse("catalog:category", args=[root.slug]), {"seller": "beta"})

    assert names_in(response) == ["From beta"]
    # the seller facet counts with its own filter lifted; epsilon's product is deep in the
    # subtree and not refreshed yet (checked live)
    offered = [v.value for v in response.context["result"].facets.sellers]
    assert offered == ["alpha", "beta", "epsilon"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price_asc", ["B", "C", "A"]),
        ("price_desc", ["A", "C", "B"]),
        ("name", ["A", "B", "C"]),
        ("", ["C", "B", "A"]),  # newest first by default
    ],
)
def test_sorting(client, tree, sort, expected):
    root = tree[0]
    now = timezone.now()
    make_product(name="A", category=root, price="30.00", published_at=now - timedelta(days=3))
    make_product(name="B", category=root, price="10.00", published_at=now - timedelta(days=2))
    make_product(name="C", category=root, price="20.00", published_at=now - timedelta(days=1))
    response = client.get(reverse("catalog:category", args=[root.slug]), {"sort": sort})
    assert names_in(response) == expected


def test_pagination_keeps_filters_in_page_links(client, tree, settings):
    settings.CATALOG_PAGE_SIZE = 2
    root = tree[0]
    for i in range(5):
        make_product(name=f"Item {i}", category=root, price=f"{10 + i}.00")
    url = reverse("catalog:category", args=[root.slug])

    first = client.get(url, {"sort": "price_asc"})
    third = client.get(url, {"sort": "price_asc", "page": "3"})
    beyond = client.get(url, {"sort": "price_asc", "page": "99"})

    assert names_in(first) == ["Item 0", "Item 1"]
    assert names_in(third) == ["Item 4"]
    assert names_in(beyond) == ["Item 4"]  # out of range shows the last page
    assert "?sort=price_asc&amp;page=2" in first.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"price_min": "cheap"}, "Enter a number."),
        (
            {"price_min": "50", "price_max": "10"},
            "The maximum price must not be below the minimum.",
        ),
        ({"sort": "random"}, "Choose one of:"),
        ({"attr_size_min": "NaN"}, "Enter a number between 0"),
    ],
)
def test_malformed_filters_answer_400_with_a_message(client, tree, params, message):
    make_product(name="Shown without filters", category=tree[0])
    response = client.get(reverse("catalog:category", args=[tree[0].slug]), params)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Some filters are invalid." in body
    assert message in body
    assert "Shown without filters" not in body
    assert "Clear all filters" in body


def test_category_page_query_count_is_the_same_for_1_and_24_products(
    client, tree, django_assert_num_queries
):
    root = tree[0]
    colour = AttributeFactory(slug="colour", type=AttributeType.CHOICE)
    root.attributes.add(colour)
    AttributeChoiceFactory(attribute=colour)
    url = reverse("catalog:category", args=[root.slug])

    def add_products(count):
        for _ in range(count):
            product = make_product(category=tree[1], seller=SellerFactory())
            product_image_add(product=product, upload=png_upload())

    add_products(1)
    with django_assert_num_queries(CATEGORY_PAGE_QUERIES):
        response = client.get(url)
    assert len(names_in(response)) == 1
    add_products(23)
    with django_assert_num_queries(CATEGORY_PAGE_QUERIES):
        response = client.get(url)
    assert len(names_in(response)) == 24


# --- hidden products ----------------------------------------------------------------------------


@pytest.fixture
def hidden_products(tree):
    root = tree[0]
    seller = SellerFactory(slug="open-shop")
    draft = make_product(
        name="Draft thing", category=root, seller=seller, status=ProductStatus.DRAFT
    )
    archived = make_product(
        name="Archived thing", category=root, seller=seller, status=ProductStatus.ARCHIVED
    )
    no_variant = make_product(
        name="Inactive variant thing",
        category=root,
        seller=seller,
        variant_kwargs={"is_active": False},
    )
    suspended = SellerFactory(slug="suspended-shop", status=SellerStatus.SUSPENDED)
    of_suspended = make_product(name="Suspended seller thing", category=root, seller=suspended)
    pending = SellerFactory(slug="pending-shop", status=SellerStatus.PENDING)
    of_pending = make_product(name="Pending seller thing", category=root, seller=pending)
    make_product(name="Visible thing", category=root, seller=seller, is_featured=True)
    return [draft, archived, no_variant, of_suspended, of_pending]


def test_hidden_products_are_404_on_their_page(client, hidden_products):
    for product in hidden_products:
        response = client.get(reverse("catalog:product", args=[product.slug]))
        assert response.status_code == 404, product.name


def test_hidden_products_are_absent_from_every_list(client, tree, hidden_products):
    pages = [
        reverse("catalog:home"),
        reverse("catalog:category", args=[tree[0].slug]),
        reverse("catalog:seller", args=["open-shop"]),
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert "Visible thing" in body, url
        for product in hidden_products:
            assert product.name not in body, (url, product.name)


def test_pending_and_suspended_sellers_pages_are_404(client, hidden_products):
    for slug in ["suspended-shop", "pending-shop", "no-such-shop"]:
        assert client.get(reverse("catalog:seller", args=[slug])).status_code == 404


def test_product_names_are_escaped_everywhere(client, tree):
    evil = "<script>alert('x')</script>"
    product = make_product(name=evil, category=tree[0], is_featured=True)
    pages = [
        reverse("catalog:home"),
        reverse("catalog:category", args=[tree[0].slug]),
        reverse("catalog:product", args=[product.slug]),
        reverse("catalog:seller", args=[product.seller.slug]),
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert evil not in body, url
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body, url


# --- product page -------------------------------------------------------------------------------


@pytest.fixture
def shirt(tree):
    seller = SellerFactory(name="Shirt Co", slug="shirt-co")
    product = ProductFactory(
        name="Oxford shirt",
        category=tree[2],
        seller=seller,
        rating_avg=Decimal("4.50"),
        rating_count=12,
    )
    size = AttributeFactory(name="Size", slug="size", type=AttributeType.CHOICE)
    material = AttributeFactory(name="Material", slug="material", type=AttributeType.TEXT)
    small = ProductVariantFactory(product=product, name="Small", price=Decimal("30.00"), position=0)
    large = ProductVariantFactory(
        product=product,
        name="Large",
        price=Decimal("35.00"),
        compare_at_price=Decimal("45.00"),
        position=1,
    )
    ProductVariantFactory(product=product, name="Retired", is_active=False, position=2)
    for variant, label in [(small, "S"), (large, "L")]:
        choice = AttributeChoiceFactory(attribute=size, value=label, slug=label.lower())
        VariantAttributeValueFactory(variant=variant, attribute=size, choice=choice)
        VariantAttributeValueFactory(variant=variant, attribute=material, value_text="Cotton")
    product_image_add(product=product, upload=png_upload("front.png"), alt_text="Shirt, front")
    product_image_add(
        product=product, upload=png_upload("back.png", (0, 0, 200)), alt_text="Shirt, back"
    )
    return product, small, large


def test_product_page_shows_variants_gallery_attributes_seller_and_reviews(client, shirt):
    product, small, large = shirt

    response = client.get(reverse("catalog:product", args=[product.slug]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Oxford shirt" in body
    # variant selector: one radio per active variant, the first selected, prices shown
    assert f'name="variant" value="{small.pk}" checked' in body
    assert f'name="variant" value="{large.pk}"' in body
    assert "Retired" not in body
    assert 'data-price="$35.00"' in body and 'data-was="$45.00"' in body
    # gallery: alt text, thumbnails link to full-size images
    images = list(product.images.order_by("position"))
    assert 'alt="Shirt, front"' in body
    for image in images:
        assert f'<a href="{image.image.url}"' in body
        assert image.thumbnail.url in body
    # attributes table merges values over variants
    assert dict(response.context["attribute_rows"]) == {"Material": "Cotton", "Size": "S, L"}
    assert reverse("catalog:seller", args=["shirt-co"]) in body
    assert "4.5 out of 5" in body and "12 reviews" in body
    assert [c.name for c in response.context["breadcrumbs"]] == [
        "Clothing",
        "Shirts",
        "Polo shirts",
    ]
    # the blocks other apps fill are in place
    assert 'class="purchase-box"' in body


def test_product_page_selected_variant_without_javascript(client, shirt):
    product, _, large = shirt
    response = client.get(reverse("catalog:product", args=[product.slug]), {"variant": large.pk})
    body = response.content.decode()
    assert response.context["selected_variant"] == large
    assert f'name="variant" value="{large.pk}" checked' in body
    assert '<s class="price-was" data-price-was>$45.00</s>' in body


def test_product_page_opens_on_the_first_option_in_stock(client, shirt):
    product, small, large = shirt
    stock_with(variant=large, on_hand=3)
    response = client.get(reverse("catalog:product", args=[product.slug]))
    assert response.context["selected_variant"] == large
    # asking for the sold-out option still shows it
    response = client.get(reverse("catalog:product", args=[product.slug]), {"variant": small.pk})
    assert response.context["selected_variant"] == small


def test_product_page_ignores_a_foreign_variant_id(client, shirt, tree):
    product, small, _ = shirt
    other = make_product(category=tree[0])
    response = client.get(
        reverse("catalog:product", args=[product.slug]), {"variant": other.variants.get().pk}
    )
    assert response.context["selected_variant"] == small


def test_product_page_query_count_does_not_grow_with_variants(
    client, shirt, django_assert_num_queries
):
    product = shirt[0]
    url = reverse("catalog:product", args=[product.slug])
    with django_assert_num_queries(PRODUCT_PAGE_QUERIES):
        client.get(url)
    for _ in range(5):
        variant = ProductVariantFactory(product=product)
        VariantAttributeValueFactory(variant=variant, value_text="x")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert len(queries) == PRODUCT_PAGE_QUERIES
    assert len(response.context["variants"]) == 7


# --- seller page --------------------------------------------------------------------------------


def test_seller_page_lists_only_that_sellers_products_with_filters(
    client, tree, django_assert_num_queries
):
    seller = SellerFactory(name="Nice Shop", slug="nice-shop", description="Hand-made goods.")
    make_product(name="Mug", category=tree[0], seller=seller, price="12.00")
    make_product(name="Bowl", category=tree[3], seller=seller, price="40.00")
    make_product(name="Not theirs", category=tree[0])
    url = reverse("catalog:seller", args=[seller.slug])

    with django_assert_num_queries(SELLER_PAGE_QUERIES):
        response = client.get(url)

    assert sorted(names_in(response)) == ["Bowl", "Mug"]
    assert "Hand-made goods." in response.content.decode()
    assert names_in(client.get(url, {"price_max": "20"})) == ["Mug"]
    # another seller's slug in the query does not widen the page
    assert sorted(names_in(client.get(url, {"seller": "seller-0"}))) == ["Bowl", "Mug"]
    assert client.get(url, {"price_min": "x"}).status_code == 400


def test_seller_page_with_a_category_that_no_longer_exists_says_so(client, tree):
    seller = SellerFactory(slug="nice-shop")
    make_product(name="Mug", category=tree[0], seller=seller)

    response = client.get(reverse("catalog:seller", args=[seller.slug]), {"category": "gone"})

    assert response.status_code == 400
    assert "No such category" in response.content.decode() or "category" in str(
        response.context["filter_field_errors"]
    )


def test_filter_parameters_are_escaped_when_shown_back(client, tree):
    evil = "<script>alert(1)</script>"
    url = reverse("catalog:category", args=[tree[0].slug])

    refused = client.get(url, {f"attr_{evil}_min": "x"})
    kept = client.get(url, {"attr_colour": evil, "sort": "name"})

    assert refused.status_code == 400
    assert kept.status_code == 200
    for response in (refused, kept):
        body = response.content.decode()
        assert evil not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_category_count_stops_at_the_limit(client, tree, monkeypatch):
    """Counting every match of a million-product category costs more than the page: the
    count stops at COUNT_LIMIT and the paginator says more match."""
    from shop.core import pagination

    root = tree[0]
    for name in ("A", "B", "C"):
        make_product(name=name, category=root)
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 2)
    response = client.get(reverse("catalog:category", args=[root.slug]))
    paginator = response.context["page_obj"].paginator
    assert paginator.count == 2 and paginator.count_capped
    body = response.content.decode()
    assert "More than 2 products" in body and "narrow the list with filters" in body
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 3)
    response = client.get(reverse("catalog:category", args=[root.slug]))
    paginator = response.context["page_obj"].paginator
    assert paginator.count == 3 and not paginator.count_capped
    body = response.content.decode()
    assert "3 products" in body and "More than" not in body


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc", "rating", "name", "popular"])
def test_a_subtree_pages_in_one_order_across_its_categories(client, tree, settings, sort):
    """Over a subtree, a page's ids come from one short index walk per category, merged: the
    pages together are the whole subtree in the chosen order, none twice, none missing (ties
    broken by id)."""
    root, child, grandchild, other = tree
    settings.CATALOG_PAGE_SIZE = 2
    now = timezone.now()
    for i, category in enumerate([root, child, grandchild, child, root, grandchild, child]):
        make_product(
            name=f"{'mzkbqfa'[i]} {i}",
            category=category,
            price=f"{10 + (i * 7) % 5}.00",
            published_at=now - timedelta(hours=(i * 3) % 7),
            rating_avg=Decimal((i * 2) % 3),
            rating_count=i % 2,
        )
    make_product(name="Elsewhere", category=other)
    product_popularity_refresh()
    rows = list(Product.objects.exclude(name="Elsewhere"))
    expected = {
        "newest": sorted(rows, key=lambda p: (p.published_at, p.pk), reverse=True),
        "price_asc": sorted(rows, key=lambda p: (p.search_price_min, p.pk)),
        "price_desc": sorted(rows, key=lambda p: (p.search_price_min, p.pk), reverse=True),
        "rating": sorted(rows, key=lambda p: (p.rating_avg, p.rating_count, p.pk), reverse=True),
        "name": sorted(rows, key=lambda p: (p.name, p.pk)),
        "popular": sorted(rows, key=lambda p: (p.popularity, p.pk), reverse=True),
    }[sort]

    url = reverse("catalog:category", args=[root.slug])
    seen = []
    for number in (1, 2, 3, 4):
        seen += names_in(client.get(url, {"sort": sort, "page": number}))
    assert seen == [p.name for p in expected]


def _listed(client, category) -> tuple[list[str], int]:
    page = client.get(reverse("catalog:category", args=[category.slug])).context["page_obj"]
    return [p.name for p in page.object_list], page.paginator.count


def test_archiving_or_suspending_hides_from_the_page_and_count_before_any_refresh(client, tree):
    """Lists read the stored visibility flag, but status and seller stay live checks."""
    root = tree[0]
    kept = make_product(name="Kept", category=root)
    archived = make_product(name="Archived now", category=root)
    suspended = make_product(name="Suspended seller's", category=root)
    assert _listed(client, root) == (["Suspended seller's", "Archived now", "Kept"], 3)

    # the search refresh that would clear their stored flags has not run
    product_archive(product=archived)
    seller_suspend(seller=suspended.seller, reason="Test")

    assert Product.objects.filter(search_visible=True).count() == 3
    assert _listed(client, root) == ([kept.name], 1)


def test_a_new_product_is_listed_before_its_search_refresh(client, tree):
    """A product the refresh has not flagged yet is checked live (its active variant), so a
    seller's new product shows at once; without an active variant it stays hidden."""
    root = tree[0]
    fresh = ProductFactory(name="Fresh", category=root)
    ProductVariantFactory(product=fresh)
    retired = ProductFactory(name="Retired", category=root)
    ProductVariantFactory(product=retired, is_active=False)

    assert not Product.objects.filter(search_visible=True).exists()
    assert _listed(client, root) == (["Fresh"], 1)


def test_a_deactivated_last_variant_leaves_the_list_at_once(client, tree):
    """The stored flag is cleared in the writer's transaction when the last active variant is
    deactivated or deleted (no refresh has run), and not while another active one remains."""
    root = tree[0]
    product = make_product(name="Last variant", category=root)
    search_index_refresh(product_ids=[product.pk])
    spare = ProductVariantFactory(product=product)
    first = product.variants.exclude(pk=spare.pk).get()

    variant_update(variant=first, sku=first.sku, price=first.price, is_active=False)
    assert _listed(client, root) == (["Last variant"], 1)

    variant_update(variant=spare, sku=spare.sku, price=spare.price, is_active=False)
    assert _listed(client, root) == ([], 0)
    assert client.get(reverse("catalog:product", args=[product.slug])).status_code == 404


def test_a_deleted_last_variant_leaves_the_list_at_once(client, tree):
    root = tree[0]
    product = make_product(name="Deleted variant", category=root)
    search_index_refresh(product_ids=[product.pk])
    assert _listed(client, root) == (["Deleted variant"], 1)

    variant_delete(variant=product.variants.get())
    assert _listed(client, root) == ([], 0)
