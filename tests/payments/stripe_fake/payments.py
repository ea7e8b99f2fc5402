"""PaymentIntents with their Charges and PaymentMethods, and the platform balance they feed:
the lifecycle of docs.stripe.com/payments/paymentintents/lifecycle on the fake's test cards
(succeed, decline, Radar block, 3-D Secure, bank debit processing, manual capture)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from . import common
from .cards import TEST_PAYMENT_METHODS, Decline, Flow, TestCard
from .disputes import open_dispute
from .errors import StripeFakeError, invalid, no_such, state_error, unexpected_state
from .forms import Params, apply_metadata
from .store import ChargeState, RequestContext, Store, mutate, new_id, now, token

MINIMUM_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "chf": 50}
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCELLATION_REASONS = ("abandoned", "duplicate", "fraudulent", "requested_by_customer")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
AUTHENTICATION_FAILURE_MESSAGE = (
    "The provided PaymentMethod has failed authentication. You can provide "
    "payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)


def _owner(ctx: RequestContext | None) -> str | None:
    return ctx.account if ctx else None


# --- PaymentMethods ------------------------------------------------------------------------


def make_payment_method(store: Store, card: TestCard, owner: str | None) -> dict[str, Any]:
    payment_method: dict[str, Any] = {
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": common.billing_details(),
        "created": now(),
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": card.payment_method_type,
    }
    if card.payment_method_type == "card":
        payment_method["card"] = {
            "brand": card.brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": card.country,
            "display_brand": card.brand,
            "exp_month": 12,
            "exp_year": 2034,
            "fingerprint": card.card_fingerprint,
            "funding": card.funding,
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        }
    else:
        payment_method["us_bank_account"] = {
            "account_holder_type": "individual",
            "account_type": "checking",
            "bank_name": "STRIPE TEST BANK",
            "financial_connections_account": None,
            "fingerprint": card.card_fingerprint,
            "last4": card.last4,
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": "110000000",
            "status_details": {},
        }
    store.add(payment_method, owner)
    store.cards[payment_method["id"]] = card
    return payment_method


def resolve_payment_method(store: Store, value: str, owner: str | None, param: str) -> str:
    """A Stripe test id (`pm_card_visa`) makes a new PaymentMethod; a `pm_...` id the fake
    made (through a test id earlier, or `create_payment_method`) is used as it is."""
    if value in TEST_PAYMENT_METHODS:
        return make_payment_method(store, TEST_PAYMENT_METHODS[value], owner)["id"]
    obj = store.objects.get(value)
    if obj is None or obj["object"] != "payment_method" or store.owners[value] != owner:
        raise no_such("PaymentMethod", value, param=param)
    return value


def retrieve_payment_method(store: Store, ctx: RequestContext, pm_id: str, p: Params) -> dict:
    return store.get_typed(pm_id, "payment_method", owner=ctx.account)


# --- PaymentIntents ------------------------------------------------------------------------


def _card_options() -> dict[str, Any]:
    return {
        "card": {
            "installments": None,
            "mandate_options": None,
            "network": None,
            "request_three_d_secure": "automatic",
        }
    }


def create_payment_intent(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    amount = p.integer("amount", required=True, minimum=1)
    currency = p.string("currency", required=True)
    assert amount is not None and currency is not None
    currency = currency.lower()
    if len(currency) != 3 or not currency.isalpha():
        raise invalid(f"Invalid currency: {currency}.", param="currency")
    minimum = MINIMUM_AMOUNTS.get(currency)
    if minimum and amount < minimum:
        raise invalid(
            f"Amount must be at least {common.money(minimum, currency)} {currency}",
            param="amount",
            code="amount_too_small",
        )
    capture_method = p.string("capture_method", choices=CAPTURE_METHODS) or "automatic_async"
    # API versions of the pinned SDK name the allowed types `allowed_payment_method_types`
    # (`payment_method_types` is only an answer field there).
    allowed_types = p.string_list("allowed_payment_method_types")
    automatic = p.mapping("automatic_payment_methods", allowed=("enabled", "allow_redirects"))
    if automatic and allowed_types:
        raise invalid(
            "You may only specify one of these parameters: allowed_payment_method_types, "
            "automatic_payment_methods.",
            param="automatic_payment_methods",
        )
    automatic_payment_methods = None
    if not allowed_types:
        enabled = p.boolean("automatic_payment_methods", "enabled")
        if automatic is not None and enabled is None:
            raise invalid(
                "Missing required param: automatic_payment_methods[enabled].",
                param="automatic_payment_methods[enabled]",
                code="parameter_missing",
            )
        if enabled is not False:
            # API versions from 2023-08-16 enable automatic payment methods by default.
            automatic_payment_methods = {
                "allow_redirects": p.string(
                    "automatic_payment_methods",
                    "allow_redirects",
                    choices=("always", "never"),
                )
                or "always",
                "enabled": True,
            }
    customer = p.string("customer")
    if customer:
        store.get_typed(customer, "customer", owner=ctx.account, param="customer")
    payment_method = p.string("payment_method")
    if payment_method:
        payment_method = resolve_payment_method(
            store, payment_method, ctx.account, "payment_method"
        )
    intent_id = new_id("pi")
    intent: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "allowed_payment_method_types": allowed_types or None,
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": automatic_payment_methods,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{intent_id}_secret_{token(25)}",
        "confirmation_method": "automatic",
        "created": now(),
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": p.string("description"),
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "managed_payments": None,
        "metadata": apply_metadata({}, p.metadata()),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": payment_method,
        "payment_method_configuration_details": (
            {"id": "pmc_1FakeStripeDefaultConfig", "parent": None}
            if automatic_payment_methods
            else None
        ),
        "payment_method_options": _card_options(),
        "payment_method_types": allowed_types or ["card"],
        "processing": None,
        "receipt_email": p.string("receipt_email"),
        "review": None,
        "setup_future_usage": p.string("setup_future_usage", choices=("off_session", "on_session")),
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": p.string("statement_descriptor_suffix", max_length=22),
        "status": "requires_confirmation" if payment_method else "requires_payment_method",
        "transfer_data": None,
        "transfer_group": p.string("transfer_group"),
    }
    confirm = p.boolean("confirm")
    if not confirm:
        for param in ("return_url", "use_stripe_sdk", "error_on_requires_action"):
            if param in p:
                raise invalid(
                    f"You can only provide `{param}` when `confirm` is true.", param=param
                )
    if confirm:
        _check_confirmable(intent, p)
    store.add(intent, ctx.account)
    store.emit("payment_intent.created", intent, ctx)
    if confirm:
        _confirm(store, ctx, intent, p)
    return intent


def _get_intent(store: Store, ctx: RequestContext | None, intent_id: str) -> dict[str, Any]:
    return store.get_typed(intent_id, "payment_intent", owner=_owner(ctx))


def retrieve_payment_intent(store: Store, ctx: RequestContext, intent_id: str, p: Params) -> dict:
    intent = _get_intent(store, ctx, intent_id)
    secret = p.string("client_secret")
    if secret is not None and secret != intent["client_secret"]:
        raise invalid(
            "The client_secret provided does not match the client_secret associated with "
            "the PaymentIntent.",
            param="client_secret",
        )
    return intent


def list_payment_intents(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    intents = common.created_within(store.all_of("payment_intent", ctx.account), p)
    customer = p.string("customer")
    if customer:
        intents = [intent for intent in intents if intent["customer"] == customer]
    return common.page(store, intents, "/v1/payment_intents", p)


def update_payment_intent(
    store: Store, ctx: RequestContext, intent_id: str, p: Params
) -> dict[str, Any]:
    intent = _get_intent(store, ctx, intent_id)
    payment_fields = ("amount", "currency", "payment_method", "capture_method")
    if intent["status"] not in CONFIRMABLE and any(name in p for name in payment_fields):
        raise unexpected_state(
            "This PaymentIntent's "
            + ", ".join(name for name in payment_fields if name in p)
            + f" could not be updated because it has a status of {intent['status']}. You may "
            "only update the "
            + ", ".join(name for name in payment_fields if name in p)
            + " of a PaymentIntent with one of the following statuses: "
            + ", ".join(CONFIRMABLE)
            + ".",
            payment_intent=copy.deepcopy(intent),
        )
    amount = p.integer("amount", minimum=1)
    currency = p.string("currency")
    capture_method = p.string("capture_method", choices=CAPTURE_METHODS)
    customer = p.string("customer")
    if customer:
        store.get_typed(customer, "customer", owner=ctx.account, param="customer")
    payment_method = p.string("payment_method")
    if payment_method:
        payment_method = resolve_payment_method(
            store, payment_method, ctx.account, "payment_method"
        )
    metadata = p.metadata()
    setup_future_usage = p.string("setup_future_usage", choices=("off_session", "on_session"))

    def change(obj: dict[str, Any]) -> None:
        if amount is not None:
            obj["amount"] = amount
        if currency is not None:
            obj["currency"] = currency.lower()
        if capture_method is not None:
            obj["capture_method"] = capture_method
        if customer is not None:
            obj["customer"] = customer
        if payment_method is not None:
            obj["payment_method"] = payment_method
            obj["status"] = "requires_confirmation"
            obj["next_action"] = None
        for name in ("description", "receipt_email", "transfer_group"):
            if name in p:
                obj[name] = p.string(name)
        if "statement_descriptor_suffix" in p:
            obj["statement_descriptor_suffix"] = p.string(
                "statement_descriptor_suffix", max_length=22
            )
        if setup_future_usage is not None:
            obj["setup_future_usage"] = setup_future_usage
        obj["metadata"] = apply_metadata(obj["metadata"], metadata)

    mutate(intent, change)
    return intent


def _check_confirmable(intent: dict[str, Any], p: Params) -> None:
    """The confirmation errors Stripe gives before touching the intent (not saved)."""
    redirects = intent["automatic_payment_methods"] or {}
    if (
        redirects.get("enabled")
        and redirects.get("allow_redirects") == "always"
        and not p.string("return_url")
        and not p.boolean("use_stripe_sdk")
    ):
        raise invalid(
            "This PaymentIntent is configured to accept payment methods enabled in your "
            "Dashboard, because some of these payment methods might redirect your customer off "
            "of your page, you must provide a `return_url`. If you don't want to accept "
            "redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` "
            "and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup "
            "Intents and Payment Intents.",
            param="return_url",
        )


def confirm_payment_intent(
    store: Store, ctx: RequestContext, intent_id: str, p: Params
) -> dict[str, Any]:
    intent = _get_intent(store, ctx, intent_id)
    if intent["status"] not in CONFIRMABLE:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
            "be confirmed: requires_confirmation, requires_payment_method, requires_action.",
            payment_intent=copy.deepcopy(intent),
        )
    _check_confirmable(intent, p)
    payment_method = p.string("payment_method")
    if payment_method:
        payment_method = resolve_payment_method(
            store, payment_method, ctx.account, "payment_method"
        )
    capture_method = p.string("capture_method", choices=CAPTURE_METHODS)
    setup_future_usage = p.string("setup_future_usage", choices=("off_session", "on_session"))
    _check_payment_method(store, intent, payment_method or intent["payment_method"])
    if payment_method:
        intent["payment_method"] = payment_method
    if capture_method:
        intent["capture_method"] = capture_method
    if setup_future_usage:
        intent["setup_future_usage"] = setup_future_usage
    if "receipt_email" in p:
        intent["receipt_email"] = p.string("receipt_email")
    _confirm(store, ctx, intent, p)
    return intent


def _check_payment_method(store: Store, intent: dict[str, Any], payment_method: str | None) -> None:
    """Refusals that leave the intent as it was."""
    if not payment_method:
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "You can either update the PaymentIntent with a payment method and then confirm "
            "it again, or confirm it again directly with a payment method.",
            payment_intent=copy.deepcopy(intent),
        )
    kind = store.cards[payment_method].payment_method_type
    if intent["automatic_payment_methods"] is None and kind not in intent["payment_method_types"]:
        raise state_error(
            f"The PaymentMethod provided ({kind}) is not allowed for this PaymentIntent. "
            "Please attach a PaymentMethod of one of the following types: "
            + ", ".join(intent["payment_method_types"])
            + ".",
            code="payment_intent_incompatible_payment_method",
            param="payment_method",
        )


def _confirm(store: Store, ctx: RequestContext, intent: dict[str, Any], p: Params) -> None:
    _check_payment_method(store, intent, intent["payment_method"])
    card = store.cards[intent["payment_method"]]
    return_url = p.string("return_url")
    intent["last_payment_error"] = None
    if card.flow is Flow.AUTHENTICATE:
        if p.boolean("error_on_requires_action"):
            decline = Decline(
                "authentication_required",
                "authentication_required",
                "Your card was declined. This transaction requires authentication.",
                "The bank returned the decline code `authentication_required`.",
            )
            raise _fail_card(store, ctx, intent, card, decline)
        intent["status"] = "requires_action"
        intent["next_action"] = _authentication_action(
            intent, return_url, use_stripe_sdk=bool(p.boolean("use_stripe_sdk"))
        )
        store.emit("payment_intent.requires_action", intent, ctx)
        return
    if card.flow is Flow.PROCESSING:
        _start_processing(store, ctx, intent, card)
        return
    if card.flow in (Flow.DECLINE, Flow.BLOCK):
        assert card.decline is not None
        raise _fail_card(store, ctx, intent, card, card.decline)
    _authorise(store, ctx, intent, card, three_d_secure=None)


def _authentication_action(
    intent: dict[str, Any], return_url: str | None, *, use_stripe_sdk: bool
) -> dict[str, Any]:
    source = new_id("payatt")
    if return_url and not use_stripe_sdk:
        return {
            "type": "redirect_to_url",
            "redirect_to_url": {
                "return_url": return_url,
                "url": (
                    "https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_fake"
                    f"&payment_intent={intent['id']}"
                    f"&payment_intent_client_secret={intent['client_secret']}"
                    f"&publishable_key=pk_test_fake&source={source}"
                ),
            },
        }
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "source": source,
            "stripe_js": f"https://hooks.stripe.com/redirect/authenticate/{source}",
        },
    }


def _outcome(card: TestCard, decline: Decline | None) -> dict[str, Any]:
    outcome: dict[str, Any] = {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": card.risk_level,
        "risk_score": card.risk_score,
        "seller_message": "Payment complete.",
        "type": "authorized",
    }
    if decline is not None and card.flow is Flow.BLOCK:
        outcome.update(
            network_status="not_sent_to_network",
            reason="highest_risk_level",
            seller_message=decline.seller_message,
            type="blocked",
        )
    elif decline is not None:
        outcome.update(
            network_status="declined_by_network",
            reason=decline.decline_code,
            seller_message=decline.seller_message,
            type="issuer_declined",
        )
    return outcome


def _payment_method_details(
    store: Store, payment_method_id: str, amount: int, three_d_secure: dict[str, Any] | None
) -> dict[str, Any]:
    payment_method = store.objects[payment_method_id]
    if payment_method["type"] == "us_bank_account":
        bank = payment_method["us_bank_account"]
        return {
            "type": "us_bank_account",
            "us_bank_account": {
                "account_holder_type": bank["account_holder_type"],
                "account_type": bank["account_type"],
                "bank_name": bank["bank_name"],
                "fingerprint": bank["fingerprint"],
                "last4": bank["last4"],
                "mandate": None,
                "payment_reference": None,
                "routing_number": bank["routing_number"],
            },
        }
    card = payment_method["card"]
    return {
        "type": "card",
        "card": {
            "amount_authorized": amount,
            "authorization_code": "123456",
            "brand": card["brand"],
            "checks": copy.deepcopy(card["checks"]),
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": card["last4"],
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": card["brand"],
            "network_token": {"used": False},
            "network_transaction_id": "1041029786787710",
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "regulated_status": "unregulated",
            "three_d_secure": three_d_secure,
            "wallet": None,
        },
    }


def _new_charge(
    store: Store,
    ctx: RequestContext | None,
    intent: dict[str, Any],
    card: TestCard,
    *,
    status: str,
    decline: Decline | None,
    three_d_secure: dict[str, Any] | None,
) -> dict[str, Any]:
    charge_id = new_id("ch")
    charge: dict[str, Any] = {
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": copy.deepcopy(
            store.objects[intent["payment_method"]]["billing_details"]
        ),
        "calculated_statement_descriptor": "FAKE MARKETPLACE",
        "captured": False,
        "created": now(),
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": decline.code if decline else None,
        "failure_message": decline.message if decline else None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": _outcome(card, decline),
        "paid": status == "succeeded",
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "payment_method_details": _payment_method_details(
            store, intent["payment_method"], intent["amount"], three_d_secure
        ),
        "receipt_email": intent["receipt_email"],
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/fake_{charge_id}",
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
        "status": status,
        "transfer_data": None,
        "transfer_group": intent["transfer_group"],
    }
    if card.payment_method_type != "card":
        charge["outcome"]["risk_level"] = "not_assessed"
        charge["outcome"]["risk_score"] = None
    store.add(charge, _owner(ctx))
    store.charges[charge_id] = ChargeState()
    intent["latest_charge"] = charge_id
    return charge


def _capture_funds(
    store: Store, ctx: RequestContext | None, charge: dict[str, Any], amount: int
) -> None:
    card = store.cards[charge["payment_method"]]
    txn = common.balance_transaction(
        store,
        _owner(ctx),
        amount=amount,
        currency=charge["currency"],
        fee=common.stripe_fee(amount),
        fee_description="Stripe processing fees",
        source=charge["id"],
        kind="charge" if card.payment_method_type == "card" else "payment",
        reporting_category="charge",
        description=charge["description"],
        pending=not card.bypass_pending,
    )
    charge["balance_transaction"] = txn["id"]
    charge["captured"] = True
    charge["amount_captured"] = amount


def _authorise(
    store: Store,
    ctx: RequestContext | None,
    intent: dict[str, Any],
    card: TestCard,
    *,
    three_d_secure: dict[str, Any] | None,
) -> None:
    charge = _new_charge(
        store, ctx, intent, card, status="succeeded", decline=None, three_d_secure=three_d_secure
    )
    intent["next_action"] = None
    _attach_for_future_usage(store, intent)
    if intent["capture_method"] == "manual":
        intent["status"] = "requires_capture"
        intent["amount_capturable"] = intent["amount"]
        store.emit("charge.succeeded", charge, ctx)
        store.emit("payment_intent.amount_capturable_updated", intent, ctx)
        return
    _capture_funds(store, ctx, charge, intent["amount"])
    intent["status"] = "succeeded"
    intent["amount_received"] = intent["amount"]
    store.emit("charge.succeeded", charge, ctx)
    store.emit("payment_intent.succeeded", intent, ctx)
    if card.creates_dispute:
        open_dispute(store, charge["id"], reason="fraudulent")


def _attach_for_future_usage(store: Store, intent: dict[str, Any]) -> None:
    if intent["setup_future_usage"] and intent["customer"]:
        store.objects[intent["payment_method"]]["customer"] = intent["customer"]


def _payment_error(
    store: Store,
    intent: dict[str, Any],
    *,
    code: str,
    message: str,
    error_type: str,
    decline_code: str | None = None,
    charge_id: str | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "payment_method": copy.deepcopy(store.objects[intent["payment_method"]]),
        "type": error_type,
    }
    if charge_id:
        error["charge"] = charge_id
    if decline_code:
        error["decline_code"] = decline_code
    return error


def _fail_card(
    store: Store,
    ctx: RequestContext | None,
    intent: dict[str, Any],
    card: TestCard,
    decline: Decline,
    three_d_secure: dict[str, Any] | None = None,
) -> StripeFakeError:
    """Record a declined (or Radar-blocked) attempt; return the 402 the API answers with."""
    charge = _new_charge(
        store, ctx, intent, card, status="failed", decline=decline, three_d_secure=three_d_secure
    )
    intent["last_payment_error"] = _payment_error(
        store,
        intent,
        code=decline.code,
        message=decline.message,
        error_type="card_error",
        decline_code=decline.decline_code,
        charge_id=charge["id"],
    )
    intent["status"] = "requires_payment_method"
    intent["payment_method"] = None
    intent["next_action"] = None
    store.emit("charge.failed", charge, ctx)
    store.emit("payment_intent.payment_failed", intent, ctx)
    error = intent["last_payment_error"]
    return StripeFakeError(
        402,
        decline.message,
        type="card_error",
        code=decline.code,
        decline_code=decline.decline_code,
        extra={
            "charge": charge["id"],
            "payment_intent": copy.deepcopy(intent),
            "payment_method": copy.deepcopy(error["payment_method"]),
        },
    )


def _start_processing(
    store: Store, ctx: RequestContext | None, intent: dict[str, Any], card: TestCard
) -> None:
    charge = _new_charge(
        store, ctx, intent, card, status="pending", decline=None, three_d_secure=None
    )
    charge["captured"] = True
    charge["amount_captured"] = intent["amount"]
    intent["status"] = "processing"
    intent["next_action"] = None
    _attach_for_future_usage(store, intent)
    store.emit("charge.pending", charge, ctx)
    store.emit("payment_intent.processing", intent, ctx)


def capture_payment_intent(
    store: Store, ctx: RequestContext, intent_id: str, p: Params
) -> dict[str, Any]:
    intent = _get_intent(store, ctx, intent_id)
    amount = p.integer("amount_to_capture", minimum=1)
    if intent["status"] != "requires_capture":
        raise unexpected_state(
            "This PaymentIntent could not be captured because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
            "be captured: requires_capture.",
            payment_intent=copy.deepcopy(intent),
        )
    capturable = intent["amount_capturable"]
    amount = capturable if amount is None else amount
    if amount > capturable:
        raise StripeFakeError(
            400,
            f"The amount to capture ({amount}) must be less than or equal to the amount "
            f"capturable on this PaymentIntent ({capturable}).",
            code="amount_too_large",
            param="amount_to_capture",
            extra={"payment_intent": copy.deepcopy(intent)},
        )
    charge = store.objects[intent["latest_charge"]]
    _capture_funds(store, ctx, charge, amount)
    released = intent["amount"] - amount
    store.charges[charge["id"]].released = released
    charge["amount_refunded"] = released
    intent["metadata"] = apply_metadata(intent["metadata"], p.metadata())
    intent["status"] = "succeeded"
    intent["amount_capturable"] = 0
    intent["amount_received"] = amount
    store.emit("charge.captured", charge, ctx)
    store.emit("payment_intent.succeeded", intent, ctx)
    return intent


def cancel_payment_intent(
    store: Store, ctx: RequestContext, intent_id: str, p: Params
) -> dict[str, Any]:
    intent = _get_intent(store, ctx, intent_id)
    reason = p.string("cancellation_reason", choices=CANCELLATION_REASONS)
    if intent["status"] not in CANCELABLE:
        raise unexpected_state(
            "You cannot cancel this PaymentIntent because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may "
            "be canceled: " + ", ".join(CANCELABLE) + ".",
            payment_intent=copy.deepcopy(intent),
        )
    if intent["status"] == "requires_capture":
        charge = store.objects[intent["latest_charge"]]
        store.charges[charge["id"]].released = charge["amount"]
        charge["amount_refunded"] = charge["amount"]
        charge["refunded"] = True
    intent["status"] = "canceled"
    intent["canceled_at"] = now()
    intent["cancellation_reason"] = reason
    intent["amount_capturable"] = 0
    intent["next_action"] = None
    store.emit("payment_intent.canceled", intent, ctx)
    return intent


# --- what the shopper and the bank do (the fake's control methods) --------------------------


def complete_authentication(store: Store, intent_id: str, *, succeed: bool) -> dict[str, Any]:
    intent = store.get_typed(intent_id, "payment_intent", owner=store.owners.get(intent_id))
    if intent["status"] != "requires_action":
        raise ValueError(
            f"{intent_id} has status {intent['status']}; only requires_action awaits 3-D Secure"
        )
    card = store.cards[intent["payment_method"]]
    if not succeed:
        intent["last_payment_error"] = _payment_error(
            store,
            intent,
            code="payment_intent_authentication_failure",
            message=AUTHENTICATION_FAILURE_MESSAGE,
            error_type="invalid_request_error",
        )
        intent["status"] = "requires_payment_method"
        intent["payment_method"] = None
        intent["next_action"] = None
        store.emit("payment_intent.payment_failed", intent, None)
        return intent
    three_d_secure = {
        "authentication_flow": "challenge",
        "electronic_commerce_indicator": "05",
        "exemption_indicator": None,
        "result": "authenticated",
        "result_reason": None,
        "transaction_id": str(uuid.uuid4()),
        "version": "2.2.0",
    }
    if card.after_authentication is Flow.DECLINE:
        assert card.decline is not None
        _fail_card(store, None, intent, card, card.decline, three_d_secure)
    else:
        _authorise(store, None, intent, card, three_d_secure=three_d_secure)
    return intent


def settle_processing(
    store: Store, intent_id: str, *, succeed: bool, failure_code: str
) -> dict[str, Any]:
    intent = store.get_typed(intent_id, "payment_intent", owner=store.owners.get(intent_id))
    if intent["status"] != "processing":
        raise ValueError(f"{intent_id} has status {intent['status']}, not processing")
    charge = store.objects[intent["latest_charge"]]
    if succeed:
        _capture_funds(store, None, charge, intent["amount"])
        charge["status"] = "succeeded"
        charge["paid"] = True
        intent["status"] = "succeeded"
        intent["amount_received"] = intent["amount"]
        store.emit("charge.succeeded", charge, None)
        store.emit("payment_intent.succeeded", intent, None)
        return intent
    message = "The customer's bank account could not be debited."
    charge.update(
        status="failed",
        captured=False,
        amount_captured=0,
        failure_code=failure_code,
        failure_message=message,
    )
    charge["outcome"].update(
        network_status="declined_by_network",
        reason=failure_code,
        seller_message=message,
        type="issuer_declined",
    )
    intent["last_payment_error"] = _payment_error(
        store,
        intent,
        code=failure_code,
        message=message,
        error_type="card_error",
        charge_id=charge["id"],
    )
    intent["status"] = "requires_payment_method"
    intent["payment_method"] = None
    store.emit("charge.failed", charge, None)
    store.emit("payment_intent.payment_failed", intent, None)
    return intent


# --- Charges -------------------------------------------------------------------------------


def retrieve_charge(store: Store, ctx: RequestContext, charge_id: str, p: Params) -> dict:
    return store.get_typed(charge_id, "charge", owner=ctx.account)


def list_charges(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    charges = common.created_within(store.all_of("charge", ctx.account), p)
    for name in ("payment_intent", "customer", "transfer_group"):
        value = p.string(name)
        if value:
            charges = [charge for charge in charges if charge[name] == value]
    return common.page(store, charges, "/v1/charges", p)


# --- Balance -------------------------------------------------------------------------------


def retrieve_balance_transaction(
    store: Store, ctx: RequestContext, txn_id: str, p: Params
) -> dict[str, Any]:
    return store.get_typed(txn_id, "balance_transaction", owner=ctx.account)


def retrieve_balance(store: Store, ctx: RequestContext, p: Params) -> dict[str, Any]:
    mine = {
        currency: balance
        for (owner, currency), balance in store.balances.items()
        if owner == ctx.account
    } or {"usd": store.balance(ctx.account, "usd")}
    return {
        "object": "balance",
        "available": [
            {"amount": b.available, "currency": c, "source_types": {"card": b.available}}
            for c, b in sorted(mine.items())
        ],
        "connect_reserved": [{"amount": 0, "currency": c} for c in sorted(mine)],
        "livemode": False,
        "pending": [
            {"amount": b.pending, "currency": c, "source_types": {"card": b.pending}}
            for c, b in sorted(mine.items())
        ],
    }


def make_funds_available(store: Store) -> None:
    for (owner, _currency), balance in store.balances.items():
        balance.available += balance.pending
        balance.pending = 0
        for obj in store.objects.values():
            if (
                obj["object"] == "balance_transaction"
                and obj["status"] == "pending"
                and store.owners[obj["id"]] == owner
            ):
                obj["status"] = "available"
                obj["available_on"] = now()
