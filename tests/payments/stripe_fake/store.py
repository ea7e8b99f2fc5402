"""The fake's in-memory state: every object in its API shape, who owns it (the platform or a
connected account, by the `Stripe-Account` header), the events, expansion and list pages.
One re-entrant lock serialises every change, so concurrent requests see Stripe-like
per-object atomicity (two refunds racing for the last cents: one wins)."""

from __future__ import annotations

import copy
import itertools
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .cards import TestCard
from .errors import StripeFakeError, invalid, no_such

_ALPHABET = string.ascii_letters + string.digits
_ID_LENGTHS = {"cus": 14, "acct": 16, "py": 14, "pyr": 24}

# The object names Stripe uses in "No such ...: 'id'" for each id prefix.
KINDS = {
    "pi": "payment_intent",
    "ch": "charge",
    "re": "refund",
    "tr": "transfer",
    "trr": "transfer_reversal",
    "acct": "account",
    "cus": "customer",
    "ephkey": "ephemeral_key",
    "evt": "event",
    "dp": "dispute",
    "issfr": "radar.early_fraud_warning",
    "txn": "balance_transaction",
    "pm": "PaymentMethod",
}


def token(length: int = 24) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str) -> str:
    return f"{prefix}_1{token(_ID_LENGTHS.get(prefix, 24) - 1)}"


def now() -> int:
    return int(time.time())


@dataclass(frozen=True)
class RequestContext:
    """The API request a change happens in; None for changes made through the fake's control
    methods (the shopper, the bank, the card network)."""

    request_id: str
    idempotency_key: str | None
    account: str | None
    api_version: str
    version_header: str | None  # the Stripe-Version header as sent, if any


@dataclass
class ChargeState:
    released: int = 0  # the part of an authorisation not captured (or released by cancel)
    refunded: int = 0  # refunds made through the Refunds API
    transferred: int = 0  # transfers funded by it (source_transaction)
    refund_ids: list[str] = field(default_factory=list)
    dispute_id: str | None = None
    early_fraud_warning_ids: list[str] = field(default_factory=list)


@dataclass
class Balance:
    available: int = 0
    pending: int = 0


class Store:
    def __init__(self, *, api_version: str) -> None:
        self.lock = threading.RLock()
        self.api_version = api_version
        self.objects: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str | None] = {}
        self.sequence: dict[str, int] = {}
        self._counter = itertools.count()
        self.cards: dict[str, TestCard] = {}
        self.charges: dict[str, ChargeState] = {}
        self.balances: dict[tuple[str | None, str], Balance] = {}
        self.event_ids: list[str] = []

    # --- objects -------------------------------------------------------------------------

    def add(self, obj: dict[str, Any], owner: str | None) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        self.owners[obj["id"]] = owner
        self.sequence[obj["id"]] = next(self._counter)
        return obj

    def get_typed(
        self, object_id: str, object_type: str, *, owner: str | None, param: str | None = "id"
    ) -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != object_type or self.owners[object_id] != owner:
            kind = KINDS.get(object_id.split("_", 1)[0], object_type)
            if obj is not None and obj["object"] != object_type:
                kind = object_type
            raise no_such(kind, object_id, param=param)
        return obj

    def all_of(self, object_type: str, owner: str | None) -> list[dict[str, Any]]:
        return [
            obj
            for object_id, obj in self.objects.items()
            if obj["object"] == object_type and self.owners[object_id] == owner
        ]

    def balance(self, owner: str | None, currency: str) -> Balance:
        return self.balances.setdefault((owner, currency), Balance())

    # --- events --------------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        obj: dict[str, Any],
        ctx: RequestContext | None,
        *,
        previous: dict[str, Any] | None = None,
        account: str | None = None,
    ) -> dict[str, Any]:
        """Record an event whose data.object is the object as it is now (a copy, so later
        changes do not alter it: out-of-order delivery is then observable)."""
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous and event_type.endswith(".updated"):
            data["previous_attributes"] = copy.deepcopy(previous)
        event: dict[str, Any] = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {
                "id": ctx.request_id if ctx else None,
                "idempotency_key": ctx.idempotency_key if ctx else None,
            },
            "type": event_type,
        }
        if account:
            event["account"] = account
        self.add(event, account)
        self.event_ids.append(event["id"])
        return event

    # --- rendering -----------------------------------------------------------------------

    def render(
        self, obj: dict[str, Any], expand: Iterable[str], *, owner: str | None
    ) -> dict[str, Any]:
        rendered = copy.deepcopy(obj)
        for path in expand:
            parts = path.split(".")
            if len(parts) > 4:
                raise invalid(
                    f"You cannot expand more than 4 levels of a property ({path}).",
                    param="expand",
                )
            self._expand(rendered, parts, path, owner)
        return rendered

    def _expand(self, node: Any, parts: list[str], path: str, owner: str | None) -> None:
        if isinstance(node, list):
            for item in node:
                self._expand(item, parts, path, owner)
            return
        if not isinstance(node, dict):
            return
        name, rest = parts[0], parts[1:]
        if node.get("object") == "list" and name == "data":
            for item in node["data"]:
                if rest:
                    self._expand(item, rest, path, owner)
            return
        if name == "refunds" and node.get("object") == "charge" and "refunds" not in node:
            node["refunds"] = self.refund_list(node["id"])
        elif name not in node:
            raise invalid(f"This property cannot be expanded ({path}).", param="expand")
        value = node[name]
        if isinstance(value, str):
            target = self.objects.get(value)
            if target is None:
                raise invalid(f"This property cannot be expanded ({path}).", param="expand")
            node[name] = copy.deepcopy(target)
        if rest and node[name] is not None:
            self._expand(node[name], rest, path, owner)

    def refund_list(self, charge_id: str) -> dict[str, Any]:
        refunds = [self.objects[refund_id] for refund_id in self.charges[charge_id].refund_ids]
        return {
            "object": "list",
            "data": copy.deepcopy(list(reversed(refunds))),
            "has_more": False,
            "total_count": len(refunds),
            "url": f"/v1/charges/{charge_id}/refunds",
        }

    def page(
        self,
        objects: list[dict[str, Any]],
        *,
        url: str,
        limit: int | None,
        starting_after: str | None,
        ending_before: str | None,
    ) -> dict[str, Any]:
        """Newest first, cursor pagination as Stripe's list endpoints do it."""
        if limit is not None and not 1 <= limit <= 100:
            raise invalid("Limit must be between 1 and 100.", param="limit")
        size = limit or 10
        ordered = sorted(
            objects, key=lambda obj: (obj["created"], self.sequence[obj["id"]]), reverse=True
        )
        ids = [obj["id"] for obj in ordered]
        if starting_after:
            if starting_after not in ids:
                raise no_such(
                    KINDS.get(starting_after.split("_")[0], "object"),
                    starting_after,
                    param="starting_after",
                )
            rest = ordered[ids.index(starting_after) + 1 :]
            chosen, has_more = rest[:size], len(rest) > size
        elif ending_before:
            if ending_before not in ids:
                raise no_such(
                    KINDS.get(ending_before.split("_")[0], "object"),
                    ending_before,
                    param="ending_before",
                )
            before = ordered[: ids.index(ending_before)]
            chosen, has_more = before[-size:], len(before) > size
        else:
            chosen, has_more = ordered[:size], len(ordered) > size
        return {"object": "list", "data": chosen, "has_more": has_more, "url": url}


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The previous values of the top-level fields that differ (an event's
    previous_attributes)."""
    return {key: before.get(key) for key in after if before.get(key) != after[key]}


def mutate(obj: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply `change` to `obj` and return the previous values of what it changed."""
    before = copy.deepcopy(obj)
    change(obj)
    return changed(before, obj)


def require(condition: bool, error: StripeFakeError) -> None:
    if not condition:
        raise error
