"""shop.core.db: the prepared-statement helpers read and write rows as the ORM does."""

from __future__ import annotations

import pytest
from django.db.models import F, Q

from catalog.models import Product, ProductStatus
from shop.core.db import (
    compiled_part,
    hot_cursor,
    hot_insert,
    hot_select,
    named_parameters,
    placeholder,
)
from shop.core.idempotency import IdempotencyRecord
from tests.factories import ProductVariantFactory, SellerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_insert_then_select_round_trips_like_the_orm():
    user = UserFactory()
    records = [
        IdempotencyRecord(
            owner=f"user:{user.pk}",
            user=user,
            key=f"k{i}",
            scope="s",
            request_hash="h",
            response_body=body,
        )
        for i, body in enumerate([{"a": [1, "x"]}, None])
    ]
    hot_insert(records)
    assert all(r.pk and r.created_at and not r._state.adding for r in records)
    loaded = hot_select(IdempotencyRecord, "WHERE user_id = %s ORDER BY id", [user.pk])
    stored = list(IdempotencyRecord.objects.filter(user=user).order_by("id"))
    assert [(r.pk, r.key, r.response_body, r.created_at) for r in loaded] == [
        (r.pk, r.key, r.response_body, r.created_at) for r in stored
    ]
    assert loaded[0].response_body == {"a": [1, "x"]}
    assert not loaded[0]._state.adding


def test_an_insert_past_the_bound_parameter_limit_is_split_into_statements():
    """Server-side binding allows 65,535 parameters per statement: 10,000 rows of 7 columns
    (70,000 parameters) go in two statements, every row stored with its id."""
    user = UserFactory()
    records = [
        IdempotencyRecord(
            owner=f"user:{user.pk}", user=user, key=f"k{i}", scope="s", request_hash="h"
        )
        for i in range(10_000)
    ]
    hot_insert(records)
    assert IdempotencyRecord.objects.filter(user=user).count() == 10_000
    assert len({r.pk for r in records}) == 10_000


def test_a_placeholder_is_found_once_among_compiled_parameters_and_never_twice_the_same():
    """`placeholder` stands for a value while a statement is compiled once; `placeholder_slot`
    finds where it went. Drawn at random: two never match, and a request's value (a number
    filter, a word) is not taken for one."""
    from shop.core.db import placeholder, placeholder_slot

    number, text = placeholder(), placeholder(str)
    assert isinstance(number, int) and isinstance(text, str)
    assert placeholder() != number and placeholder(str) != text
    assert placeholder_slot([5, "a", number, text], number) == 2
    assert placeholder_slot([5, "a", number, text], text) == 3
    assert placeholder_slot([str(number), number], number) == 1  # the type must match too
    with pytest.raises(ValueError, match="found 0"):
        placeholder_slot([1, 2], placeholder())
    with pytest.raises(ValueError, match="found 2"):
        placeholder_slot([number, number], number)


def test_a_compiled_rule_runs_in_a_statement_as_the_orm_runs_it():
    """A rule compiled once with a stand-in (here the seller, twice) and a constant (the
    status), its parameters named, selects in a hand-written statement what the ORM selects."""
    seller = SellerFactory()
    ProductVariantFactory(product__seller=seller, product__name="Kept")
    ProductVariantFactory(product__seller=seller, product__status=ProductStatus.DRAFT)
    ProductVariantFactory(product__name="Other seller's")
    stand_in = placeholder()

    def rule(seller_id: object) -> Q:
        return Q(status=ProductStatus.ACTIVE, seller_id=seller_id) | Q(
            seller_id=seller_id, name="Never"
        )

    sql, constants = named_parameters(
        *compiled_part(Product.objects.filter(rule(stand_in))),
        names={"seller": stand_in},
        prefix="rule",
    )
    assert sql.count("%(seller)s") == 2 and list(constants.values()) == [
        ProductStatus.ACTIVE,
        "Never",
    ]
    with hot_cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM catalog_product WHERE {sql} ORDER BY id",  # noqa: S608 - compiled
            {**constants, "seller": seller.pk},
        )
        got = [row[0] for row in cursor.fetchall()]
    expected = Product.objects.filter(rule(seller.pk)).order_by("id")
    assert got == list(expected.values_list("id", flat=True)) and len(got) == 1


def test_a_compiled_part_that_joins_or_a_stand_in_it_does_not_take_is_refused():
    with pytest.raises(ValueError):
        compiled_part(Product.objects.filter(seller__status="approved"))
    sql, params = compiled_part(Product.objects.filter(status="active"))
    with pytest.raises(ValueError):
        named_parameters(sql, params, names={"at": placeholder()}, prefix="p")
    with pytest.raises(ValueError):
        named_parameters(sql, [], names={}, prefix="p")
    # a literal percent sign (written %%) stays one
    like, like_params = compiled_part(
        Product.objects.filter(name__startswith=F("brand"), status="active")
    )
    named, constants = named_parameters(like, like_params, names={}, prefix="p")
    assert "'%%'" in named and named.count("%(p0)s") == 1 and constants == {"p0": "active"}
