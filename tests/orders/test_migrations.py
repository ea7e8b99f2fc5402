"""Data migrations run against real rows: what an existing database looks like after them."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.db import connection

from pricing.models import ShippingMethod
from tests.factories.orders import ShippingMethodFactory

pytestmark = pytest.mark.django_db

unique_name = importlib.import_module("orders.migrations.0002_shipping_method_unique_name")


def test_duplicate_shipping_names_are_renamed_oldest_first_before_the_constraint():
    constraint = next(
        c for c in ShippingMethod._meta.constraints if c.name == "orders_shipping_unique_name"
    )
    with connection.schema_editor() as editor:  # rolled back with the test's transaction
        editor.remove_constraint(ShippingMethod, constraint)
    oldest = ShippingMethodFactory(name="Standard")
    seller = oldest.seller
    names = ["standard", "Standard (2)", "STANDARD", "Express", "x" * 100, "X" * 100]
    names += ["İstanbul", "istanbul"]  # one name to PostgreSQL's LOWER(), two to Python's
    later = [ShippingMethodFactory(seller=seller, name=name) for name in names]
    untouched = ShippingMethodFactory(name="Standard")  # another seller's

    unique_name.rename_duplicates(apps, None)

    for method in [oldest, *later, untouched]:
        method.refresh_from_db()
    assert [oldest.name, *(m.name for m in later)] == [
        "Standard",
        "standard (3)",  # "(2)" is already another row's name
        "Standard (2)",
        "STANDARD (4)",
        "Express",
        "x" * 100,
        "X" * 96 + " (2)",
        "İstanbul",
        "istanbul (2)",
    ]
    assert untouched.name == "Standard"
    with connection.cursor() as cursor:  # run the inserts' deferred checks before the DDL
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.schema_editor() as editor:  # the renamed rows satisfy the constraint
        editor.add_constraint(ShippingMethod, constraint)
