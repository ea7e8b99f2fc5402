"""Pieces every resource uses: list pages, money in messages, fees, balance transactions."""

from __future__ import annotations

from typing import Any

from .forms import Params
from .store import Store, new_id, now

STRIPE_FEE_PERCENT = 2.9
STRIPE_FEE_FIXED = 30


def stripe_fee(amount: int) -> int:
    return round(amount * STRIPE_FEE_PERCENT / 100) + STRIPE_FEE_FIXED


def money(amount: int, currency: str) -> str:
    return f"{currency.upper()} {amount / 100:.2f}" if currency != "usd" else f"${amount / 100:.2f}"


def address() -> dict[str, Any]:
    return {
        "city": None,
        "country": None,
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }


def billing_details() -> dict[str, Any]:
    return {"address": address(), "email": None, "name": None, "phone": None, "tax_id": None}


_RANGE = ("gt", "gte", "lt", "lte")


def created_within(objects: list[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """Stripe's `created` list filter: a timestamp, or `created[gte]=...` and friends."""
    created = p.raw("created")
    if isinstance(created, str):
        exact = p.integer("created")
        return [obj for obj in objects if obj["created"] == exact]
    if not isinstance(created, dict):
        return objects
    p.mapping("created", allowed=_RANGE)
    bounds = {name: p.integer("created", name) for name in _RANGE}
    return [
        obj
        for obj in objects
        if (bounds["gt"] is None or obj["created"] > bounds["gt"])
        and (bounds["gte"] is None or obj["created"] >= bounds["gte"])
        and (bounds["lt"] is None or obj["created"] < bounds["lt"])
        and (bounds["lte"] is None or obj["created"] <= bounds["lte"])
    ]


def page(store: Store, objects: list[dict[str, Any]], url: str, p: Params) -> dict[str, Any]:
    return store.page(
        objects,
        url=url,
        limit=p.integer("limit"),
        starting_after=p.string("starting_after"),
        ending_before=p.string("ending_before"),
    )


def balance_transaction(
    store: Store,
    owner: str | None,
    *,
    amount: int,
    currency: str,
    fee: int,
    fee_description: str,
    source: str,
    kind: str,
    reporting_category: str,
    description: str | None = None,
    pending: bool = False,
) -> dict[str, Any]:
    created = now()
    txn = {
        "id": new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created + (2 * 86400 if pending else 0),
        "balance_type": "payments",
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": (
            [
                {
                    "amount": fee,
                    "application": None,
                    "currency": currency,
                    "description": fee_description,
                    "type": "stripe_fee",
                }
            ]
            if fee
            else []
        ),
        "net": amount - fee,
        "reporting_category": reporting_category,
        "source": source,
        "status": "pending" if pending else "available",
        "type": kind,
    }
    store.add(txn, owner)
    balance = store.balance(owner, currency)
    if pending:
        balance.pending += amount - fee
    else:
        balance.available += amount - fee
    return txn
