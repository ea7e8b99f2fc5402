"""Customers (for saved payment methods) and the ephemeral keys a mobile app needs for one."""

from __future__ import annotations

from typing import Any

from . import common
from .errors import invalid
from .forms import Params, apply_metadata
from .store import RequestContext, Store, new_id, now, token

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
EPHEMERAL_KEY_SECONDS = 3600


def _address_param(p: Params) -> dict[str, Any] | None:
    fields = p.mapping("address", allowed=ADDRESS_FIELDS)
    if fields is None:
        return None
    address = common.address()
    for name in fields:
        address[name] = p.string("address", name)
    return address


def create_customer(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    customer_id = new_id("cus")
    customer: dict[str, Any] = {
        "id": customer_id,
        "object": "customer",
        "address": _address_param(p),
        "balance": 0,
        "created": now(),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": p.string("description"),
        "discount": None,
        "email": p.string("email", max_length=512),
        "invoice_prefix": customer_id[-8:].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": apply_metadata({}, p.metadata()),
        "name": p.string("name", max_length=256),
        "next_invoice_sequence": 1,
        "phone": p.string("phone", max_length=20),
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
    return store.add(customer, ctx.account)


def retrieve_customer(store: Store, ctx: RequestContext, customer_id: str, p: Params) -> dict:
    return store.get_typed(customer_id, "customer", owner=ctx.account)


def update_customer(store: Store, ctx: RequestContext, customer_id: str, p: Params) -> dict:
    customer = store.get_typed(customer_id, "customer", owner=ctx.account)
    address = _address_param(p)
    if address is not None:
        customer["address"] = address
    for name in ("description", "email", "name", "phone"):
        if name in p:
            customer[name] = p.string(name)
    customer["metadata"] = apply_metadata(customer["metadata"], p.metadata())
    return customer


def list_customers(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    customers = store.all_of("customer", ctx.account)
    email = p.string("email")
    if email:
        customers = [customer for customer in customers if customer["email"] == email]
    return common.page(store, customers, "/v1/customers", p)


def create_ephemeral_key(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    """Stripe pins an ephemeral key to the API version of the mobile SDK that will use it, so
    the request must name that version in its Stripe-Version header."""
    if not ctx.version_header:
        raise invalid(
            "Ephemeral keys must be created with an explicit API version: send the API version "
            "of the mobile SDK that will use the key in the Stripe-Version header."
        )
    customer_id = p.string("customer", required=True)
    assert customer_id is not None
    store.get_typed(customer_id, "customer", owner=ctx.account, param="customer")
    created = now()
    key: dict[str, Any] = {
        "id": new_id("ephkey"),
        "object": "ephemeral_key",
        "associated_objects": [{"id": customer_id, "type": "customer"}],
        "created": created,
        "expires": created + EPHEMERAL_KEY_SECONDS,
        "livemode": False,
        "secret": "ek_test_" + token(),
    }
    store.add(key, ctx.account)
    return key


def delete_ephemeral_key(store: Store, ctx: RequestContext, key_id: str, p: Params) -> dict:
    key = store.get_typed(key_id, "ephemeral_key", owner=ctx.account)
    key["expires"] = now()
    return {name: value for name, value in key.items() if name != "secret"}
