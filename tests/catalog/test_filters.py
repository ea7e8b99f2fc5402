from decimal import Decimal

import pytest
from django.http import QueryDict

from catalog.filters import product_filters_parse
from shop.core.errors import NotFound, ValidationError

pytestmark = pytest.mark.django_db


def test_parses_prices_sellers_attributes_and_stock():
    params = QueryDict(
        "price_min=5&price_max=20.50&seller=a,b&seller=c&attr_colour=red,blue&attr_size_min=2"
        "&in_stock=1"
    )
    filters = product_filters_parse(params=params)
    assert filters.price_min == Decimal("5")
    assert filters.price_max == Decimal("20.50")
    assert filters.sellers == ("a", "b", "c")
    assert filters.in_stock is True
    by_slug = {a.slug: a for a in filters.attributes}
    assert by_slug["colour"].values == ("red", "blue")
    assert by_slug["size"].number_min == Decimal("2")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("price_min=abc", "price_min"),
        ("price_min=-1", "price_min"),
        ("price_min=NaN", "price_min"),
        ("price_min=10&price_max=5", "price_max"),
        ("in_stock=maybe", "in_stock"),
        ("attr_size_min=1e999999", "attr_size_min"),
    ],
)
def test_malformed_values_name_the_field(query, field):
    with pytest.raises(ValidationError) as info:
        product_filters_parse(params=QueryDict(query))
    assert field in info.value.fields


def test_unknown_category_is_not_found():
    with pytest.raises(NotFound):
        product_filters_parse(params=QueryDict("category=nope"))
