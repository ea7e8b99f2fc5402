"""Hostile input on every API operation (from the OpenAPI schema, so a new operation is covered
without touching this file): a NUL character, deeply nested JSON, `sNaN`, `1e-999999`,
`10**20` and a 100,000-character string, in every path parameter, query parameter, header
parameter and request body field, one at a time, with valid values everywhere else. Each
answer must be below 500, and an error must have the API's error shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.services import api_token_create
from cart.models import CartLine, WishlistItem
from cart.services import wishlist_add
from inventory.models import Stock
from orders.models import SellerOrder
from orders.services import order_place
from payments.models import Payment
from reviews.services import answer_post, question_ask, review_create
from sellers.models import MemberRole
from tests.factories import SellerMemberFactory, UserFactory
from tests.factories.inventory import WarehouseFactory
from tests.orders.conftest import Market

pytestmark = pytest.mark.django_db

HOSTILE: dict[str, Any] = {
    "nul": "a\x00b",
    "snan": "sNaN",
    "tiny": "1e-999999",
    "huge": 10**20,
    "long": "x" * 100_000,
}
DEEP_JSON = b"[" * 50_000 + b"]" * 50_000


def _operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


OPERATIONS = _operations()
COMPONENTS = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


@dataclass
class World:
    market: Market
    customer: Any
    owner: Any
    values: dict[str, Any]


@pytest.fixture
def world(db) -> World:
    market = Market(stock=50)
    customer = UserFactory()
    placed = market.ready_checkout(user=customer, lines=[(market.a1, 1)])
    order = order_place(checkout=placed, payment_token="tok_visa")
    checkout = market.ready_checkout(user=customer, lines=[(market.a1, 1), (market.b1, 1)])
    line = CartLine.objects.get(cart=checkout.cart, variant=market.a1)
    item = wishlist_add(user=customer, variant_id=market.a2.pk)
    owner = SellerMemberFactory(seller=market.alpha, role=MemberRole.OWNER).user
    stock = Stock.objects.filter(variant=market.a1).first()
    spare = WarehouseFactory(seller=market.alpha)
    api_token, _ = api_token_create(user=customer, name="phone")
    # delivered: the customer may review, answer and rate (reviews.selectors.purchase_completed_q)
    SellerOrder.objects.filter(order_id=order.pk).update(delivered_at=timezone.now())
    review = review_create(user=customer, product=market.a1.product, rating=4)
    question = question_ask(user=customer, product=market.a1.product, body="Which size?")
    answer = answer_post(question=question, user=customer, body="M fits")
    values = {
        "review_id": review.pk,
        "question_id": question.pk,
        "answer_id": answer.pk,
        "seller_order_id": order.seller_orders.first().pk,
        "token_id": api_token.token_key,
        "line_id": line.pk,
        "item_id": item.pk,
        "token": str(checkout.token),
        "number": order.number,
        "payment_id": Payment.objects.get(order_id=order.pk).pk,
        "id": stock.pk,
        "X-Seller-Id": market.alpha.pk,
        "variant_id": market.a1.pk,
        "variant": market.a1.pk,
        "warehouse": stock.warehouse_id,
        "to_warehouse": spare.pk,
        "username": customer.email,
        "email": customer.email,
        "country": "DE",
        "shipping": {str(market.beta.pk): market.ship_beta.pk},
    }
    assert CartLine.objects.exists() and WishlistItem.objects.exists()
    return World(market=market, customer=customer, owner=owner, values=values)


def _path_value(path: str, name: str, world: World) -> Any:
    market = world.market
    if name == "slug":
        if path.startswith("/api/v1/categories/"):
            return market.a1.product.category.slug
        if path.startswith("/api/v1/sellers/"):
            return market.alpha.slug
        return market.a1.product.slug
    if name == "id" and "/warehouses/" in path:
        return world.values["warehouse"]
    return world.values[name]


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema:
        return _resolve(schema["allOf"][0])
    return schema


def _example(name: str, schema: dict, world: World) -> Any:
    """A valid value for a body field, by its name where the world knows one, else by type."""
    if name in world.values:
        return world.values[name]
    schema = _resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {
            prop: _example(prop, sub, world)
            for prop, sub in schema.get("properties", {}).items()
            if not sub.get("readOnly")
        }
    if kind == "integer":
        return 1
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if schema.get("format") == "decimal" or kind == "number":
        return "1.00"
    if schema.get("format") == "email":
        return "someone@example.com"
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    return {"full_name": "Ada", "line1": "1 Main St", "city": "Berlin"}.get(name, "ab")


def _body(operation: dict, world: World) -> dict | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return _example("", content["application/json"]["schema"], world)


def _slots(path: str, operation: dict, body: dict | None) -> list[tuple[str, str, tuple]]:
    """(where, name, nested key path) of every input of the operation."""
    slots = []
    for parameter in operation.get("parameters", []):
        slots.append((parameter["in"], parameter["name"], ()))
    for name, value in (body or {}).items():
        slots.append(("body", name, ()))
        if isinstance(value, dict):
            slots += [("body", name, (key,)) for key in value]
    return slots


def _client(path: str, world: World) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.owner if "/seller/" in path else world.customer)
    return client


def _send(client, method, path, params, headers, body, raw=None):
    kwargs: dict[str, Any] = {"headers": headers}
    if raw is not None:
        kwargs.update(data=raw, content_type="application/json")
    elif body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    url = path
    if params:
        url += "?" + "&".join(f"{quote(str(k))}={quote(str(v))}" for k, v in params.items())
    return getattr(client, method)(url, **kwargs)


def _check(response, label: str) -> None:
    assert response.status_code < 500, label
    if response.status_code >= 400 and response.get("Content-Type", "").startswith(
        "application/json"
    ):
        error = response.json()
        assert {"code", "message"} <= set(error), (label, error)


@pytest.mark.parametrize(
    ("path", "method", "operation"),
    OPERATIONS,
    ids=[f"{method.upper()} {path}" for path, method, _ in OPERATIONS],
)
def test_hostile_values_in_every_input_of_every_api_operation_are_never_a_5xx(
    world, path, method, operation
):
    client = _client(path, world)
    parameters = operation.get("parameters", [])
    path_values = {
        p["name"]: _path_value(path, p["name"], world) for p in parameters if p["in"] == "path"
    }
    headers = {
        p["name"]: str(world.values[p["name"]])
        for p in parameters
        if p["in"] == "header"
        if p["name"] in world.values
    }
    body = _body(operation, world)

    def url_with(values: dict[str, Any]) -> str:
        url = path
        for name, value in values.items():
            url = url.replace("{" + name + "}", quote(str(value), safe=""))
        return url

    for kind, hostile in HOSTILE.items():
        for where, name, nested in _slots(path, operation, body):
            label = f"{kind} in {where} {name}{'.' + nested[0] if nested else ''}"
            values, params, sent_headers = dict(path_values), {}, dict(headers)
            sent_body = json.loads(json.dumps(body)) if body is not None else None
            if where == "path":
                values[name] = hostile
            elif where == "query":
                params[name.replace("<slug>", "colour")] = hostile
            elif where == "header":
                sent_headers[name] = str(hostile)
            elif nested:
                sent_body[name][nested[0]] = hostile
            else:
                sent_body[name] = hostile
            response = _send(client, method, url_with(values), params, sent_headers, sent_body)
            _check(response, label)
    if body is not None:
        response = _send(client, method, url_with(path_values), {}, headers, None, DEEP_JSON)
        _check(response, "deeply nested JSON body")
        assert response.status_code == 400
