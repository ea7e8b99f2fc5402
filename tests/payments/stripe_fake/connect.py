"""Connect for a marketplace with separate charges and transfers: Express accounts, their
onboarding links and flags, transfers funded by a charge (`source_transaction`) or by the
available balance, and transfer reversals."""

from __future__ import annotations

import copy
from typing import Any

from . import common
from .errors import invalid, state_error
from .forms import Params, apply_metadata
from .store import RequestContext, Store, mutate, new_id, now, token

ACCOUNT_TYPES = ("custom", "express", "standard")
CAPABILITIES = ("card_payments", "transfers")
ONBOARDING_DUE = ("business_type", "external_account", "tos_acceptance.date", "tos_acceptance.ip")


def _requirements(due: list[str], disabled_reason: str | None) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def create_account(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    account_type = p.string("type", choices=ACCOUNT_TYPES)
    if account_type is None:
        raise invalid(
            "You must specify a type for this account (custom, express or standard), or use "
            "controller properties.",
            param="type",
        )
    country = (p.string("country") or "US").upper()
    requested = p.mapping("capabilities", allowed=CAPABILITIES) or {}
    for name in requested:
        p.mapping("capabilities", name, allowed=("requested",))
        p.boolean("capabilities", name, "requested")
    capabilities = {
        name: "inactive"
        for name in CAPABILITIES
        if p.boolean("capabilities", name, "requested") or account_type == "standard"
    }
    account_id = new_id("acct")
    account = {
        "id": account_id,
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": None,
            "name": None,
            "product_description": None,
            "support_address": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": p.string(
            "business_type", choices=("company", "government_entity", "individual", "non_profit")
        ),
        "capabilities": capabilities,
        "charges_enabled": False,
        "controller": {
            "is_controller": True,
            "type": "application",
        },
        "country": country,
        "created": now(),
        "default_currency": p.string("default_currency") or ("usd" if country == "US" else "eur"),
        "details_submitted": False,
        "email": p.string("email"),
        "external_accounts": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/accounts/{account_id}/external_accounts",
        },
        "future_requirements": _requirements([], None),
        "metadata": apply_metadata({}, p.metadata()),
        "payouts_enabled": False,
        "requirements": _requirements(list(ONBOARDING_DUE), "requirements.past_due"),
        "settings": {
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            }
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": account_type,
    }
    return store.add(account, ctx.account)


def _get_account(store: Store, ctx: RequestContext | None, account_id: str) -> dict[str, Any]:
    return store.get_typed(account_id, "account", owner=ctx.account if ctx else None)


def retrieve_account(store: Store, ctx: RequestContext, account_id: str, p: Params) -> dict:
    return _get_account(store, ctx, account_id)


def update_account(store: Store, ctx: RequestContext, account_id: str, p: Params) -> dict:
    account = _get_account(store, ctx, account_id)
    metadata = p.metadata()
    email = p.string("email")

    def change(obj: dict[str, Any]) -> None:
        obj["metadata"] = apply_metadata(obj["metadata"], metadata)
        if email is not None:
            obj["email"] = email

    previous = mutate(account, change)
    if previous:
        store.emit("account.updated", account, ctx, previous=previous, account=account_id)
    return account


def set_account_state(
    store: Store,
    account_id: str,
    *,
    charges_enabled: bool | None,
    payouts_enabled: bool | None,
    details_submitted: bool | None,
    capabilities: dict[str, str] | None,
    currently_due: list[str] | None,
    disabled_reason: str | None,
) -> dict[str, Any]:
    """What onboarding (or Stripe's review) does to an account; records account.updated."""
    account = _get_account(store, None, account_id)

    def change(obj: dict[str, Any]) -> None:
        if charges_enabled is not None:
            obj["charges_enabled"] = charges_enabled
        if payouts_enabled is not None:
            obj["payouts_enabled"] = payouts_enabled
        if details_submitted is not None:
            obj["details_submitted"] = details_submitted
        if capabilities is not None:
            obj["capabilities"] = {**obj["capabilities"], **capabilities}
        if currently_due is not None:
            obj["requirements"] = _requirements(currently_due, disabled_reason)

    previous = mutate(account, change)
    if previous:
        store.emit("account.updated", account, None, previous=previous, account=account_id)
    return account


def create_account_link(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    account_id = p.string("account", required=True)
    link_type = p.string("type", required=True, choices=("account_onboarding", "account_update"))
    refresh_url = p.string("refresh_url", required=True)
    return_url = p.string("return_url", required=True)
    p.string("collect", choices=("currently_due", "eventually_due"))
    assert account_id is not None and refresh_url and return_url
    account = store.get_typed(account_id, "account", owner=ctx.account, param="account")
    if link_type == "account_update" and account["type"] != "custom":
        raise invalid(
            "You cannot create `account_update` type Account Links for Express accounts.",
            param="type",
        )
    created = now()
    return {
        "object": "account_link",
        "created": created,
        "expires_at": created + 300,
        "url": f"https://connect.stripe.com/setup/e/{account_id}/{token(12)}",
    }


# --- Transfers -----------------------------------------------------------------------------


def create_transfer(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    amount = p.integer("amount", required=True, minimum=1)
    currency = p.string("currency", required=True)
    destination_id = p.string("destination", required=True)
    source_transaction = p.string("source_transaction")
    metadata = p.metadata()
    assert amount is not None and currency is not None and destination_id is not None
    currency = currency.lower()
    destination = store.get_typed(destination_id, "account", owner=ctx.account, param="destination")
    if destination["capabilities"].get("transfers") != "active":
        raise state_error(
            "Your destination account needs to have at least one of the following capabilities "
            "enabled: transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param="destination",
        )
    if source_transaction:
        charge = store.get_typed(
            source_transaction, "charge", owner=ctx.account, param="source_transaction"
        )
        state = store.charges[charge["id"]]
        if charge["status"] != "succeeded" or not charge["captured"]:
            raise state_error(
                f"The source_transaction {charge['id']} is not a succeeded, captured charge.",
                param="source_transaction",
            )
        if charge["currency"] != currency:
            raise invalid(
                f"The currency of source_transaction's balance transaction "
                f"({charge['currency']}) must be the same as the transfer currency ({currency}).",
                param="currency",
            )
        fundable = charge["amount_captured"] - state.transferred
        if amount > fundable:
            raise state_error(
                f"Transfer amount ({amount}) exceeds what source_transaction {charge['id']} can "
                f"still fund ({fundable} of {charge['amount_captured']} {currency}).",
                code="balance_insufficient",
                param="amount",
            )
        state.transferred += amount
    elif store.balance(ctx.account, currency).available < amount:
        raise state_error(
            "You have insufficient available funds in your Stripe account. Try adding funds "
            "directly to your available balance by creating charges using the "
            "4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance",
            code="balance_insufficient",
        )
    transfer_id = new_id("tr")
    txn = common.balance_transaction(
        store,
        ctx.account,
        amount=-amount,
        currency=currency,
        fee=0,
        fee_description="",
        source=transfer_id,
        kind="transfer",
        reporting_category="transfer",
        description=p.string("description"),
    )
    transfer = {
        "id": transfer_id,
        "object": "transfer",
        "amount": amount,
        "amount_reversed": 0,
        "balance_transaction": txn["id"],
        "created": now(),
        "currency": currency,
        "description": p.string("description"),
        "destination": destination_id,
        "destination_payment": new_id("py"),
        "livemode": False,
        "metadata": apply_metadata({}, metadata),
        "reversals": {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/transfers/{transfer_id}/reversals",
        },
        "reversed": False,
        "source_transaction": source_transaction,
        "source_type": "card",
        "transfer_group": p.string("transfer_group"),
    }
    store.add(transfer, ctx.account)
    store.emit("transfer.created", transfer, ctx)
    return transfer


def retrieve_transfer(store: Store, ctx: RequestContext, transfer_id: str, p: Params) -> dict:
    return store.get_typed(transfer_id, "transfer", owner=ctx.account)


def list_transfers(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    transfers = store.all_of("transfer", ctx.account)
    for name in ("destination", "transfer_group"):
        value = p.string(name)
        if value:
            transfers = [transfer for transfer in transfers if transfer[name] == value]
    return common.page(store, transfers, "/v1/transfers", p)


def create_transfer_reversal(
    store: Store, ctx: RequestContext, transfer_id: str, p: Params
) -> dict[str, Any]:
    transfer = store.get_typed(transfer_id, "transfer", owner=ctx.account)
    amount = p.integer("amount", minimum=1)
    metadata = p.metadata()
    remaining = transfer["amount"] - transfer["amount_reversed"]
    if remaining <= 0:
        raise state_error(f"Transfer {transfer_id} has already been fully reversed.")
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise state_error(
            f"The reversal amount ({amount}) exceeds the amount left on transfer "
            f"{transfer_id} ({remaining}).",
            param="amount",
        )
    reversal_id = new_id("trr")
    txn = common.balance_transaction(
        store,
        ctx.account,
        amount=amount,
        currency=transfer["currency"],
        fee=0,
        fee_description="",
        source=reversal_id,
        kind="transfer_refund",
        reporting_category="transfer_reversal",
        description=p.string("description"),
    )
    reversal = {
        "id": reversal_id,
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": txn["id"],
        "created": now(),
        "currency": transfer["currency"],
        "destination_payment_refund": new_id("pyr"),
        "metadata": apply_metadata({}, metadata),
        "source_refund": None,
        "transfer": transfer_id,
    }
    store.add(reversal, ctx.account)
    transfer["amount_reversed"] += amount
    transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
    reversals = transfer["reversals"]
    reversals["data"].insert(0, copy.deepcopy(reversal))
    reversals["total_count"] += 1
    store.emit("transfer.reversed", transfer, ctx)
    return reversal


def list_transfer_reversals(
    store: Store, ctx: RequestContext, transfer_id: str, p: Params
) -> dict[str, Any]:
    store.get_typed(transfer_id, "transfer", owner=ctx.account)
    reversals = [
        reversal
        for reversal in store.all_of("transfer_reversal", ctx.account)
        if reversal["transfer"] == transfer_id
    ]
    return common.page(store, reversals, f"/v1/transfers/{transfer_id}/reversals", p)
