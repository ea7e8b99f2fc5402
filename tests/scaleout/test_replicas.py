"""The read-replica router against a real streaming replica (tests/scaleout/conftest.py).

The replica's replay is paused to make it stale on purpose: a row committed on the primary
after the pause is visible only where a read really goes to the primary."""

from __future__ import annotations

import time

import pytest
from django.db import connections, transaction

from catalog.models import Category, Product
from inventory.models import Stock
from inventory.services import stock_reserve
from inventory.services.contracts import ReserveLine
from shop.core.replicas import WROTE_COOKIE, replica_choose, replica_lag_measure, replica_reads
from tests.factories import ProductFactory, ProductVariantFactory
from tests.factories.inventory import stock_with

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=["default", "replica", "replica_down"])
]


def test_the_replica_streams_the_primary(replicated):
    """The fixture's replica is a real hot standby fed by the primary."""
    product = ProductFactory()
    replicated.replay_resume()
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (True,)
    assert Product.objects.using("replica").filter(pk=product.pk).exists()
    assert replica_lag_measure("replica") == 0


def test_catalog_reads_go_to_the_replica_stock_and_transactions_to_the_primary(
    replicated, replicas_on
):
    replicated.replay_pause()
    try:
        stock = stock_with(on_hand=5)
        product = stock.variant.product
        replicated.received_all()
        with replica_reads():
            # the catalog read is served by the stale replica: the new product is not there yet
            assert not Product.objects.filter(pk=product.pk).exists()
            # stock is never read from a replica
            assert Stock.objects.filter(pk=stock.pk).exists()
            # nor anything inside a transaction
            with transaction.atomic():
                assert Product.objects.filter(pk=product.pk).exists()
        with replica_reads():
            # once the scope wrote, its reads go to the primary (read-your-writes)
            Category.objects.create(name="Fresh", slug="fresh")
            assert Product.objects.filter(pk=product.pk).exists()
        # outside any scope (tasks, commands, unsafe requests): the primary
        assert Product.objects.filter(pk=product.pk).exists()
    finally:
        replicated.replay_resume()


def test_a_reservation_never_reads_the_replica(replicated, replicas_on):
    replicated.replay_pause()
    try:
        stock = stock_with(on_hand=3)
        replicated.received_all()
        with replica_reads():
            result = stock_reserve(
                holder="checkout:replica-test",
                lines=[ReserveLine(variant_id=stock.variant_id, quantity=2)],
            )
        assert result
        stock.refresh_from_db()
        assert stock.reserved == 2
    finally:
        replicated.replay_resume()


def test_a_lagging_replica_is_skipped_until_it_catches_up(replicated, replicas_on):
    replicas_on.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
    replicated.replay_pause()
    try:
        product = ProductFactory()
        replicated.received_all()
        time.sleep(1)
        assert replica_lag_measure("replica") > 0.5
        assert replica_choose() is None
        with replica_reads():
            assert Product.objects.filter(pk=product.pk).exists()  # from the primary
    finally:
        replicated.replay_resume()
    assert replica_lag_measure("replica") == 0
    assert replica_choose() == "replica"
    with replica_reads():
        assert Product.objects.filter(pk=product.pk).exists()


def test_an_unreachable_replica_is_skipped(replicated, replicas_on):
    replicas_on.DATABASE_REPLICAS = ["replica_down"]
    product = ProductFactory()
    with replica_reads():
        assert Product.objects.filter(pk=product.pk).exists()
    assert replica_choose() is None


def test_a_client_that_wrote_reads_its_writes_from_the_primary(replicated, replicas_on, client):
    """Storefront: a product page served from the stale replica is not found; after the same
    client posts (any unsafe request), its reads go to the primary for a while."""
    replicated.replay_pause()
    try:
        product = ProductVariantFactory().product
        replicated.received_all()
        assert client.get(f"/p/{product.slug}/").status_code == 404
        response = client.post("/cart/add/", {})
        assert WROTE_COOKIE in response.cookies
        assert client.get(f"/p/{product.slug}/").status_code == 200
        # another client, which wrote nothing, still reads the replica
        from django.test import Client

        assert Client().get(f"/p/{product.slug}/").status_code == 404
    finally:
        replicated.replay_resume()


def test_an_api_client_that_wrote_reads_its_writes(replicated, replicas_on):
    """API clients often keep no cookies: their Authorization header marks them instead."""
    from rest_framework.test import APIClient

    from accounts.services.auth import api_token_create
    from tests.factories import UserFactory

    _token, key = api_token_create(user=UserFactory())
    replicated.replay_pause()
    try:
        product = ProductVariantFactory().product
        replicated.received_all()
        app = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
        assert app.get(f"/api/v1/products/{product.slug}/").status_code == 404
        app.post("/api/v1/cart/", {}, format="json")
        app.cookies.clear()  # no cookie kept: the token alone marks the client
        assert app.get(f"/api/v1/products/{product.slug}/").status_code == 200
        assert APIClient().get(f"/api/v1/products/{product.slug}/").status_code == 404
    finally:
        replicated.replay_resume()


def test_search_reads_the_replica_until_the_client_writes(replicated, replicas_on):
    """The PostgreSQL search engine's hand-written SQL reads where the router sends product
    reads: the stale replica for a shopper who wrote nothing, the primary once it wrote."""
    from django.http import QueryDict
    from rest_framework.test import APIClient

    from search.postgres import PostgresSearchBackend
    from search.query import listing_query_parse
    from search.services import search_index_rebuild

    def found() -> list[int]:
        query = listing_query_parse(params=QueryDict("q=zanzibar"), page_size=20)
        return PostgresSearchBackend().search(query=query).product_ids

    replicated.replay_pause()
    try:
        product = ProductVariantFactory(product__name="Zanzibar Lantern").product
        search_index_rebuild()
        replicated.received_all()
        assert found() == [product.pk]  # outside a request: the primary
        with replica_reads():
            assert found() == []  # the replica has neither the product nor its vector yet
        with replica_reads():
            Category.objects.create(name="Fresh", slug="fresh")
            assert found() == [product.pk]  # the scope wrote: the primary
        shopper = APIClient()
        assert shopper.get("/api/v1/search/?q=zanzibar").json()["count"] == 0
        shopper.post("/api/v1/cart/", {}, format="json")
        assert shopper.get("/api/v1/search/?q=zanzibar").json()["count"] == 1
    finally:
        replicated.replay_resume()
