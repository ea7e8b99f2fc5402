"""The fake against Stripe's OpenAPI description (tests/payments/stripe_fake/spec_extract.json,
see its README for the source and commits) and the pinned SDK: every object it answers has
the properties the spec requires and none that neither the spec, Stripe's example objects nor
the SDK's resource classes know; resources carry the fields of Stripe's current example
objects; every request parameter it understands exists in stripe-python for that operation,
and in the spec unless it is newer than the extract."""

import importlib
import json
import typing
from pathlib import Path

import pytest
import stripe
from stripe.params import WebhookEndpointCreateParams

from tests.payments.stripe_fake.routes import ROUTES

EXTRACT = json.loads((Path(__file__).parent / "stripe_fake" / "spec_extract.json").read_text())
SCHEMAS = EXTRACT["schemas"]
RETURN_URL = "https://shop.example/checkout/return"

# Fields of Stripe's example objects the fake leaves out on purpose: Stripe includes a charge's
# refunds only on request (`expand[]=refunds`) since API version 2022-11-15.
NOT_BY_DEFAULT = {"charge": {"refunds"}}
# Fields Stripe returns that neither the spec extract, the example object nor the SDK lists:
# the creation response of an ephemeral key names the objects it grants access to (the mobile
# SDKs read it).
UNLISTED = {"ephemeral_key": {"associated_objects"}}
# Request parameters of the pinned SDK's API version that the 2023 spec extract predates.
NEWER_THAN_EXTRACT = {"allowed_payment_method_types"}
SDK_CLASSES = {
    "account": stripe.Account,
    "account_link": stripe.AccountLink,
    "balance": stripe.Balance,
    "balance_transaction": stripe.BalanceTransaction,
    "charge": stripe.Charge,
    "customer": stripe.Customer,
    "dispute": stripe.Dispute,
    "ephemeral_key": stripe.EphemeralKey,
    "event": stripe.Event,
    "payment_intent": stripe.PaymentIntent,
    "payment_method": stripe.PaymentMethod,
    "radar.early_fraud_warning": stripe.radar.EarlyFraudWarning,
    "refund": stripe.Refund,
    "transfer": stripe.Transfer,
    "transfer_reversal": stripe.TransferReversal,
}


def sdk_class_of(annotation):
    """The stripe-python class an annotation names (through Optional[...], List[...])."""
    if isinstance(annotation, type) and issubclass(annotation, stripe.StripeObject):
        return annotation
    for argument in typing.get_args(annotation):
        found = sdk_class_of(argument)
        if found is not None:
            return found
    return None


def every_kind_of_answer(server):
    """Drive the fake through the SDK so that it answers with every object type it has."""
    client = server.client()
    customer = client.v1.customers.create({"email": "ada@example.com", "metadata": {"a": "1"}})
    client.v1.ephemeral_keys.create({"customer": customer.id}, {"stripe_version": "2020-08-27"})
    paid = client.v1.payment_intents.create(
        {
            "amount": 2000,
            "currency": "usd",
            "customer": customer.id,
            "payment_method": "pm_card_visa",
            "confirm": True,
            "return_url": RETURN_URL,
            "expand": ["latest_charge.balance_transaction", "payment_method", "customer"],
        }
    )
    client.v1.payment_intents.create(
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_threeDSecure2Required",
            "confirm": True,
            "return_url": RETURN_URL,
        }
    )
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            {
                "amount": 2000,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
                "return_url": RETURN_URL,
            }
        )
    debit = client.v1.payment_intents.create(
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": server.create_bank_debit_payment_method(),
            "confirm": True,
            "return_url": RETURN_URL,
        }
    )
    server.settle(debit.id)
    client.v1.charges.retrieve(debit.latest_charge)
    held = client.v1.payment_intents.create(
        {"amount": 3000, "currency": "usd", "capture_method": "manual"}
    )
    client.v1.payment_intents.confirm(
        held.id, {"payment_method": "pm_card_visa", "return_url": RETURN_URL}
    )
    client.v1.payment_intents.capture(held.id, {"amount_to_capture": 2500})
    refund = client.v1.refunds.create({"payment_intent": held.id, "amount": 500})
    client.v1.charges.retrieve(refund.charge, {"expand": ["refunds"]})
    account = client.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://shop.example/refresh",
            "return_url": "https://shop.example/return",
        }
    )
    server.complete_onboarding(account.id)
    transfer = client.v1.transfers.create(
        {
            "amount": 1000,
            "currency": "usd",
            "destination": account.id,
            "source_transaction": paid.latest_charge.id,
        }
    )
    client.v1.transfers.reversals.create(transfer.id, {"amount": 100})
    client.v1.transfers.retrieve(transfer.id)
    dispute = server.open_dispute(paid.id)
    client.v1.disputes.update(dispute["id"], {"evidence": {"uncategorized_text": "x"}})
    server.close_dispute(dispute["id"], won=True)
    client.v1.disputes.retrieve(dispute["id"])
    warning = server.create_early_fraud_warning(held.id)
    client.v1.radar.early_fraud_warnings.retrieve(warning["id"])
    client.v1.balance.retrieve()
    client.v1.events.list({"limit": 100})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"payment_intent": held.id, "amount": 1_000_000})


def schema_violations(value, schema, sdk_class, path, seen):
    """What in `value` breaks `schema` (and the SDK class that reads it), nested objects
    included."""
    found = []
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += schema_violations(item, schema, sdk_class, f"{path}[{index}]", seen)
        return found
    if not isinstance(value, dict):
        return found
    if isinstance(value.get("object"), str) and value["object"] in SCHEMAS:
        schema = value["object"]
        sdk_class = SDK_CLASSES.get(schema)
    sdk_fields = set(getattr(sdk_class, "__annotations__", {}))
    if schema is not None:
        spec = SCHEMAS[schema]
        seen.add(schema)
        keys = set(value)
        for name in sorted(set(spec["required"]) - keys):
            found.append(f"{path} ({schema}) lacks required {name}")
        known = (
            set(spec["properties"])
            | set(spec.get("example_properties", ()))
            | sdk_fields
            | UNLISTED.get(schema, set())
        )
        for name in sorted(keys - known):
            found.append(f"{path} ({schema}) has {name}, which Stripe does not")
        expected = set(spec.get("example_properties", ())) - NOT_BY_DEFAULT.get(schema, set())
        for name in sorted(expected - keys):
            found.append(f"{path} ({schema}) lacks {name}, which Stripe's example object has")
    for key, item in value.items():
        ref = SCHEMAS[schema]["refs"].get(key) if schema is not None else None
        child_class = sdk_class_of(sdk_class.__annotations__.get(key)) if sdk_fields else None
        found += schema_violations(
            item, ref.removesuffix("[]") if ref else None, child_class, f"{path}.{key}", seen
        )
    return found


def test_every_answer_has_the_properties_the_spec_requires(stripe_server):
    every_kind_of_answer(stripe_server)
    answers = [(f"{r.method} {r.path}", r.response) for r in stripe_server.requests]
    answers += [(f"event {event['type']}", event) for event in stripe_server.events()]
    seen = set()

    violations = []
    for where, body in answers:
        schema = "error" if isinstance(body, dict) and "error" in body else None
        violations += schema_violations(body, schema, None, where, seen)

    assert violations == []
    resources = {name for name, spec in SCHEMAS.items() if "example_properties" in spec}
    assert resources - seen == set()
    assert {"api_errors", "payment_intent_next_action", "dispute_evidence"} <= seen


def sdk_parameters(class_name):
    module, _, name = class_name.rpartition(".")
    params = importlib.import_module("stripe.params" + (f".{module}" if module else ""))
    return set(getattr(params, name).__annotations__)


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: f"{route.method} {route.path}")
def test_request_parameters_exist_in_the_spec_and_the_sdk(route):
    in_spec = set(EXTRACT["operations"][f"{route.method} {route.path}"])

    assert route.params - sdk_parameters(route.sdk_params) == set()
    assert route.params - in_spec - NEWER_THAN_EXTRACT == set()


def test_every_event_type_the_fake_records_is_one_stripe_sends(stripe_server):
    [events] = typing.get_args(WebhookEndpointCreateParams.__annotations__["enabled_events"])
    stripe_types = set(typing.get_args(events))
    every_kind_of_answer(stripe_server)
    stripe_server.authenticate(
        stripe_server.client()
        .v1.payment_intents.create(
            {
                "amount": 100,
                "currency": "usd",
                "payment_method": "pm_card_authenticationRequired",
                "confirm": True,
                "return_url": RETURN_URL,
            }
        )
        .id,
        succeed=False,
    )

    recorded = {event["type"] for event in stripe_server.events()}

    assert recorded - stripe_types == set()
    assert {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.requires_action",
        "payment_intent.amount_capturable_updated",
        "payment_intent.processing",
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
        "radar.early_fraud_warning.created",
        "transfer.created",
        "transfer.reversed",
        "account.updated",
    } <= recorded
