"""Checkout's hot inventory statements run prepared (shop/core/db.py): PostgreSQL plans them
once per connection instead of on every reservation."""

from __future__ import annotations

import pytest
from django.db import connection

from inventory.services import ReserveLine, stock_release, stock_reserve
from shop.core.db import PREPARE_THRESHOLD
from tests.factories.inventory import stock_with

pytestmark = pytest.mark.django_db


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_reservation_statements_are_prepared_after_a_few_runs():
    stock = stock_with(on_hand=50)
    for i in range(PREPARE_THRESHOLD + 1):
        stock_reserve(holder=f"checkout:{i}", lines=[ReserveLine(stock.variant_id, 1)])
        stock_reserve(holder=f"checkout:{i}", lines=[ReserveLine(stock.variant_id, 2)])  # replace
    prepared = _prepared()
    assert any("FOR UPDATE OF s" in sql for sql in prepared)  # the lock
    assert any(sql.startswith("DELETE FROM inventory_reservation") for sql in prepared)
    assert any("INSERT INTO inventory_reservation" in sql for sql in prepared)
    assert any("UPDATE inventory_stock" in sql for sql in prepared)
    # the connection's other cursors stay client-side: nothing of Django's own is prepared
    assert not any('"inventory_stock"' in sql for sql in prepared)
    stock.refresh_from_db()
    assert stock.reserved == 2 * (PREPARE_THRESHOLD + 1)
    for i in range(PREPARE_THRESHOLD + 1):
        assert stock_release(holder=f"checkout:{i}") == 2
    stock.refresh_from_db()
    assert stock.reserved == 0


def test_prepared_lock_names_its_columns():
    """`s.*` in a prepared statement breaks on long-lived connections when a migration adds a
    stock column ("cached plan must not change result type")."""
    from inventory.locks import _RESERVATION_LOCK_SQL

    assert "s.*" not in _RESERVATION_LOCK_SQL
