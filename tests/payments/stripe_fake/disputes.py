"""Disputes (the cardholder's bank pulls the money back; the merchant answers with evidence)
and Radar early fraud warnings (the issuer reports fraud before any dispute)."""

from __future__ import annotations

import copy
from typing import Any

from . import common
from .errors import state_error
from .forms import Params, apply_metadata
from .store import RequestContext, Store, mutate, new_id, now

DISPUTE_FEE = 1500
DISPUTE_EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
EARLY_FRAUD_TYPES = (
    "card_never_received",
    "fraudulent_card_application",
    "made_with_counterfeit_card",
    "made_with_lost_card",
    "made_with_stolen_card",
    "misc",
    "unauthorized_use_of_card",
)


def _charge_of(store: Store, charge_or_intent: str) -> dict[str, Any]:
    obj = store.objects.get(charge_or_intent)
    if obj is not None and obj["object"] == "payment_intent":
        obj = store.objects.get(obj["latest_charge"] or "")
    if obj is None or obj["object"] != "charge":
        raise ValueError(f"{charge_or_intent} is not a charge or a PaymentIntent with one")
    return obj


def open_dispute(
    store: Store,
    charge_or_intent: str,
    *,
    reason: str = "fraudulent",
    amount: int | None = None,
    inquiry: bool = False,
) -> dict[str, Any]:
    charge = _charge_of(store, charge_or_intent)
    state = store.charges[charge["id"]]
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise ValueError(f"{charge['id']} is not a captured, succeeded charge")
    if state.dispute_id:
        raise ValueError(f"{charge['id']} already has dispute {state.dispute_id}")
    owner = store.owners[charge["id"]]
    card = charge["payment_method_details"].get("card") or {}
    dispute = {
        "id": new_id("dp"),
        "object": "dispute",
        "amount": amount if amount is not None else charge["amount_captured"],
        "balance_transactions": [],
        "charge": charge["id"],
        "created": now(),
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": dict.fromkeys(DISPUTE_EVIDENCE_FIELDS) | {"enhanced_evidence": {}},
        "evidence_details": {
            "due_by": now() + 7 * 86400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": inquiry,
        "livemode": False,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {
            "card": {
                "brand": card.get("brand"),
                "case_type": "inquiry" if inquiry else "chargeback",
                "network": card.get("network"),
                "network_reason_code": "10.4" if reason == "fraudulent" else "13.1",
            },
            "type": "card",
        },
        "reason": reason,
        "status": "warning_needs_response" if inquiry else "needs_response",
    }
    store.add(dispute, owner)
    state.dispute_id = dispute["id"]
    charge["disputed"] = True
    store.emit("charge.dispute.created", dispute, None)
    if not inquiry:
        txn = common.balance_transaction(
            store,
            owner,
            amount=-dispute["amount"],
            currency=dispute["currency"],
            fee=DISPUTE_FEE,
            fee_description="Dispute fee",
            source=dispute["id"],
            kind="adjustment",
            reporting_category="dispute",
            description=f"Chargeback withdrawal for {charge['id']}",
        )
        dispute["balance_transactions"].append(copy.deepcopy(txn))
        store.emit("charge.dispute.funds_withdrawn", dispute, None)
    early_fraud_warnings_settled(store, None, charge)
    return dispute


def _get_dispute(store: Store, ctx: RequestContext, dispute_id: str) -> dict[str, Any]:
    return store.get_typed(dispute_id, "dispute", owner=ctx.account)


def retrieve_dispute(store: Store, ctx: RequestContext, dispute_id: str, p: Params) -> dict:
    return _get_dispute(store, ctx, dispute_id)


def list_disputes(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    disputes = store.all_of("dispute", ctx.account)
    for name in ("payment_intent", "charge"):
        value = p.string(name)
        if value:
            disputes = [dispute for dispute in disputes if dispute[name] == value]
    return common.page(store, disputes, "/v1/disputes", p)


_OPEN_DISPUTE = ("needs_response", "warning_needs_response")


def update_dispute(store: Store, ctx: RequestContext, dispute_id: str, p: Params) -> dict[str, Any]:
    dispute = _get_dispute(store, ctx, dispute_id)
    evidence = p.mapping("evidence", allowed=DISPUTE_EVIDENCE_FIELDS) or {}
    for name in evidence:
        p.string("evidence", name, max_length=150000)
    submit = p.boolean("submit")
    metadata = p.metadata()
    if (evidence or submit) and dispute["status"] not in _OPEN_DISPUTE:
        raise state_error(
            f"This dispute is in status {dispute['status']}; evidence can only be updated or "
            "submitted while it needs a response."
        )

    def change(obj: dict[str, Any]) -> None:
        obj["evidence"].update(evidence)
        obj["metadata"] = apply_metadata(obj["metadata"], metadata)
        details = obj["evidence_details"]
        if evidence:
            details["has_evidence"] = True
        if submit:
            details["has_evidence"] = True
            details["submission_count"] += 1
            obj["status"] = (
                "warning_under_review" if obj["status"].startswith("warning") else "under_review"
            )

    previous = mutate(dispute, change)
    store.emit("charge.dispute.updated", dispute, ctx, previous=previous)
    return dispute


def close_dispute_by_merchant(
    store: Store, ctx: RequestContext, dispute_id: str, p: Params
) -> dict[str, Any]:
    dispute = _get_dispute(store, ctx, dispute_id)
    if dispute["status"] not in _OPEN_DISPUTE:
        raise state_error(
            f"This dispute cannot be closed because it has a status of {dispute['status']}."
        )
    dispute["status"] = "warning_closed" if dispute["status"].startswith("warning") else "lost"
    store.emit("charge.dispute.closed", dispute, ctx)
    return dispute


def decide_dispute(store: Store, dispute_id: str, *, won: bool) -> dict[str, Any]:
    dispute = store.get_typed(dispute_id, "dispute", owner=store.owners.get(dispute_id))
    if dispute["status"] in ("won", "lost", "warning_closed"):
        raise ValueError(f"{dispute_id} is already closed ({dispute['status']})")
    inquiry = dispute["status"].startswith("warning")
    dispute["status"] = "warning_closed" if inquiry else ("won" if won else "lost")
    store.emit("charge.dispute.closed", dispute, None)
    if won and not inquiry:
        txn = common.balance_transaction(
            store,
            store.owners[dispute_id],
            amount=dispute["amount"],
            currency=dispute["currency"],
            fee=0,
            fee_description="",
            source=dispute["id"],
            kind="adjustment",
            reporting_category="dispute_reversal",
            description=f"Chargeback reversal for {dispute['charge']}",
        )
        dispute["balance_transactions"].append(copy.deepcopy(txn))
        store.emit("charge.dispute.funds_reinstated", dispute, None)
    return dispute


# --- Radar early fraud warnings ------------------------------------------------------------


def create_early_fraud_warning(
    store: Store, charge_or_intent: str, *, fraud_type: str, actionable: bool
) -> dict[str, Any]:
    if fraud_type not in EARLY_FRAUD_TYPES:
        raise ValueError(f"fraud_type must be one of {', '.join(EARLY_FRAUD_TYPES)}")
    charge = _charge_of(store, charge_or_intent)
    warning = {
        "id": new_id("issfr"),
        "object": "radar.early_fraud_warning",
        "actionable": actionable,
        "charge": charge["id"],
        "created": now(),
        "fraud_type": fraud_type,
        "livemode": False,
        "payment_intent": charge["payment_intent"],
    }
    store.add(warning, store.owners[charge["id"]])
    store.charges[charge["id"]].early_fraud_warning_ids.append(warning["id"])
    store.emit("radar.early_fraud_warning.created", warning, None)
    return warning


def early_fraud_warnings_settled(
    store: Store, ctx: RequestContext | None, charge: dict[str, Any]
) -> None:
    """A fully refunded or disputed charge's warnings are no longer actionable."""
    for warning_id in store.charges[charge["id"]].early_fraud_warning_ids:
        warning = store.objects[warning_id]
        if warning["actionable"]:
            previous = mutate(warning, lambda obj: obj.update(actionable=False))
            store.emit("radar.early_fraud_warning.updated", warning, ctx, previous=previous)


def retrieve_early_fraud_warning(
    store: Store, ctx: RequestContext, warning_id: str, p: Params
) -> dict[str, Any]:
    return store.get_typed(warning_id, "radar.early_fraud_warning", owner=ctx.account)


def list_early_fraud_warnings(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    warnings = store.all_of("radar.early_fraud_warning", ctx.account)
    for name in ("payment_intent", "charge"):
        value = p.string(name)
        if value:
            warnings = [warning for warning in warnings if warning[name] == value]
    return common.page(store, warnings, "/v1/radar/early_fraud_warnings", p)
