"""Refunds: never more than was captured minus what was refunded, refused on a charge that
was charged back."""

from __future__ import annotations

import copy
from typing import Any

from . import common
from .disputes import early_fraud_warnings_settled
from .errors import invalid, state_error, unexpected_state
from .forms import Params, apply_metadata
from .store import RequestContext, Store, new_id, now, token

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def refundable(store: Store, charge: dict[str, Any]) -> int:
    return charge["amount_captured"] - store.charges[charge["id"]].refunded


def create_refund(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    intent_id = p.string("payment_intent")
    charge_id = p.string("charge")
    amount = p.integer("amount", minimum=1)
    reason = p.string("reason", choices=REFUND_REASONS)
    metadata = p.metadata()
    if intent_id and charge_id:
        raise invalid("You cannot specify both payment_intent and charge.", param="payment_intent")
    if not intent_id and not charge_id:
        raise invalid(
            "One of the following params should be provided for this request: payment_intent "
            "or charge.",
            code="parameter_missing",
        )
    if intent_id:
        intent = store.get_typed(
            intent_id, "payment_intent", owner=ctx.account, param="payment_intent"
        )
        if intent["status"] != "succeeded":
            raise unexpected_state(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                payment_intent=copy.deepcopy(intent),
            )
        charge = store.objects[intent["latest_charge"]]
    else:
        assert charge_id is not None
        charge = store.get_typed(charge_id, "charge", owner=ctx.account, param="charge")
    state = store.charges[charge["id"]]
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise state_error(
            f"Charge {charge['id']} has not been captured or has not succeeded, so it cannot be "
            "refunded.",
            code="charge_not_refundable",
        )
    if state.dispute_id:
        dispute = store.objects[state.dispute_id]
        if not dispute["is_charge_refundable"]:
            raise state_error(
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
    remaining = refundable(store, charge)
    if remaining <= 0:
        raise state_error(
            f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise state_error(
            f"Refund amount ({common.money(amount, charge['currency'])}) is greater than "
            f"unrefunded amount on charge ({common.money(remaining, charge['currency'])})",
            code="amount_too_large",
            param="amount",
        )
    txn = common.balance_transaction(
        store,
        ctx.account,
        amount=-amount,
        currency=charge["currency"],
        fee=0,
        fee_description="",
        source="",
        kind="refund",
        reporting_category="refund",
        description="REFUND FOR CHARGE",
    )
    refund = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": txn["id"],
        "charge": charge["id"],
        "created": now(),
        "currency": charge["currency"],
        "customer": charge["customer"],
        "customer_account": None,
        "destination_details": {
            "card": {
                "reference": "fake-arn-" + token(10),
                "reference_status": "available",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": apply_metadata({}, metadata),
        "payment_intent": charge["payment_intent"],
        "payment_method": charge["payment_method"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    txn["source"] = refund["id"]
    store.add(refund, ctx.account)
    state.refunded += amount
    state.refund_ids.append(refund["id"])
    charge["amount_refunded"] = state.released + state.refunded
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    store.emit("refund.created", refund, ctx)
    store.emit("charge.refunded", charge, ctx)
    if charge["refunded"]:
        early_fraud_warnings_settled(store, ctx, charge)
    return refund


def retrieve_refund(store: Store, ctx: RequestContext, refund_id: str, p: Params) -> dict:
    return store.get_typed(refund_id, "refund", owner=ctx.account)


def list_refunds(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    refunds = store.all_of("refund", ctx.account)
    for name in ("payment_intent", "charge"):
        value = p.string(name)
        if value:
            refunds = [refund for refund in refunds if refund[name] == value]
    return common.page(store, refunds, "/v1/refunds", p)
