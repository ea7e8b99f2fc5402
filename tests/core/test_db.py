"""shop.core.db: the prepared-statement helpers read and write rows as the ORM does."""

from __future__ import annotations

import pytest

from shop.core.db import hot_insert, hot_select
from shop.core.idempotency import IdempotencyRecord
from tests.factories import UserFactory

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
