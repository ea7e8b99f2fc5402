"""The Stripe fake, driven through the real stripe-python SDK: what each resource answers, the
payment flows, idempotency, errors and injected faults, and signed webhook deliveries."""

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import stripe

from tests.payments.stripe_fake import FakeStripeServer

RETURN_URL = "https://shop.example/checkout/return"


def pay(client, payment_method="pm_card_visa", amount=2000, **params):
    return client.v1.payment_intents.create(
        {
            "amount": amount,
            "currency": "usd",
            "payment_method": payment_method,
            "confirm": True,
            "return_url": RETURN_URL,
            **params,
        }
    )


def raw(server, method, path, body=None, headers=None):
    """A request without the SDK: (status, headers, parsed body)."""
    request = urllib.request.Request(  # noqa: S310 - the local fake
        server.url + path,
        data=body.encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {server.secret_key}", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


# --- the HTTP face -------------------------------------------------------------------------


def test_the_sdk_request_is_recorded_with_its_headers_and_form_parameters(
    stripe_server, stripe_client
):
    customer = stripe_client.v1.customers.create(
        {"email": "ada@example.com", "metadata": {"user": "42"}}
    )

    assert customer.id.startswith("cus_")
    assert customer.object == "customer"
    assert customer.livemode is False
    assert customer.metadata.to_dict() == {"user": "42"}
    [request] = stripe_server.requests_to("POST", "/v1/customers")
    assert request.params == {"email": "ada@example.com", "metadata": {"user": "42"}}
    assert request.header("authorization") == f"Bearer {stripe_server.secret_key}"
    assert request.stripe_version == stripe._api_version._ApiVersion.CURRENT
    assert request.idempotency_key  # the SDK sends one on every POST
    assert request.status == 200
    assert stripe_client.v1.customers.retrieve(customer.id).email == "ada@example.com"


def test_bracket_form_encoding_as_curl_sends_it_is_understood(stripe_server):
    body = (
        "amount=1500&currency=usd&confirm=true&payment_method=pm_card_visa"
        "&automatic_payment_methods[enabled]=true&automatic_payment_methods[allow_redirects]=never"
        "&metadata[order]=A-1&expand[]=latest_charge&expand[]=customer"
    )
    status, headers, intent = raw(stripe_server, "POST", "/v1/payment_intents", body)

    assert status == 200
    assert intent["status"] == "succeeded"
    assert intent["automatic_payment_methods"] == {"allow_redirects": "never", "enabled": True}
    assert intent["metadata"] == {"order": "A-1"}
    assert intent["latest_charge"]["object"] == "charge"
    assert intent["customer"] is None
    assert headers["Request-Id"].startswith("req_")


def test_unknown_and_missing_parameters_are_refused_as_stripe_does(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe_client.v1.payment_intents.create(
            {"amount": 100, "currency": "usd", "application_fee_amount": 5}
        )
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.payment_intents.create({"currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as small:
        stripe_client.v1.payment_intents.create({"amount": 10, "currency": "usd"})

    assert unknown.value.code == "parameter_unknown"
    assert unknown.value.param == "application_fee_amount"
    assert str(unknown.value.user_message) == "Received unknown parameter: application_fee_amount"
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "amount")
    assert (small.value.code, small.value.http_status) == ("amount_too_small", 400)


def test_a_missing_object_is_a_404_resource_missing(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.payment_intents.retrieve("pi_doesnotexist")

    assert error.value.http_status == 404
    assert error.value.code == "resource_missing"
    assert error.value.user_message == "No such payment_intent: 'pi_doesnotexist'"


def test_an_unrecognised_url_is_a_404(stripe_server):
    status, _headers, body = raw(stripe_server, "GET", "/v1/payouts")

    assert status == 404
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("Unrecognized request URL (GET: /v1/payouts)")


def test_keys_are_checked(stripe_server):
    with pytest.raises(stripe.AuthenticationError):
        stripe_server.client(api_key="sk_test_someone_else").v1.customers.create()
    with pytest.raises(stripe.AuthenticationError):
        stripe_server.client(api_key=stripe_server.publishable_key).v1.customers.create()
    status, _headers, body = raw(stripe_server, "GET", "/v1/balance", headers={"Authorization": ""})
    basic = base64.b64encode(f"{stripe_server.secret_key}:".encode()).decode()
    curl_status, _headers, _body = raw(
        stripe_server, "GET", "/v1/balance", headers={"Authorization": f"Basic {basic}"}
    )

    assert status == 401
    assert body["error"]["message"].startswith("You did not provide an API key")
    assert curl_status == 200  # curl -u sk_test_...:


def test_a_stripe_account_header_for_an_unknown_account_is_refused(stripe_server):
    client = stripe_server.client(stripe_account="acct_1NotConnected")

    with pytest.raises(stripe.PermissionError):
        client.v1.customers.create()


# --- PaymentIntents ------------------------------------------------------------------------


def test_a_card_payment_succeeds_with_its_charge_risk_and_card_details(
    stripe_server, stripe_client
):
    customer = stripe_client.v1.customers.create({"email": "ada@example.com"})

    intent = pay(
        stripe_client,
        customer=customer.id,
        transfer_group="order-17",
        metadata={"order": "17"},
        expand=["latest_charge.balance_transaction"],
    )

    assert intent.id.startswith("pi_")
    assert intent.client_secret.startswith(intent.id + "_secret_")
    assert intent.status == "succeeded"
    assert intent.amount_received == 2000
    assert intent.payment_method.startswith("pm_") and intent.payment_method != "pm_card_visa"
    assert intent.automatic_payment_methods.enabled is True
    charge = intent.latest_charge
    assert charge.id.startswith("ch_")
    assert (charge.status, charge.paid, charge.captured) == ("succeeded", True, True)
    assert (charge.amount_captured, charge.amount_refunded, charge.refunded) == (2000, 0, False)
    assert charge.transfer_group == "order-17"
    assert charge.metadata.to_dict() == {"order": "17"}
    assert charge.outcome.risk_level == "normal"
    assert isinstance(charge.outcome.risk_score, int)
    card = charge.payment_method_details.card
    assert (card.brand, card.last4, card.country) == ("visa", "4242", "US")
    assert card.fingerprint
    assert charge.balance_transaction.id.startswith("txn_")
    assert charge.balance_transaction.fee == 88  # 2.9% + 30c
    assert charge.balance_transaction.net == 2000 - 88
    assert [event["type"] for event in stripe_server.events()] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]


def test_the_same_test_card_has_the_same_fingerprint(stripe_client, stripe_server):
    first = pay(stripe_client, expand=["latest_charge"])
    second = pay(stripe_client, expand=["latest_charge"])
    shared = stripe_server.create_payment_method(
        "pm_card_mastercard", fingerprint="f1ngerpr1nt", country="GB", billing_country="FR"
    )
    third = pay(stripe_client, payment_method=shared, expand=["latest_charge"])

    assert (
        first.latest_charge.payment_method_details.card.fingerprint
        == second.latest_charge.payment_method_details.card.fingerprint
    )
    assert third.latest_charge.payment_method_details.card.fingerprint == "f1ngerpr1nt"
    assert third.latest_charge.payment_method_details.card.brand == "mastercard"
    assert third.latest_charge.payment_method_details.card.country == "GB"
    assert third.latest_charge.billing_details.address.country == "FR"


def test_server_side_confirmation_needs_a_return_url_unless_redirects_are_off(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.payment_intents.create(
            {"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
        )
    intent = stripe_client.v1.payment_intents.create(
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
        }
    )

    assert error.value.param == "return_url"
    assert intent.status == "succeeded"


def test_allowed_payment_method_types_replace_automatic_payment_methods(stripe_client):
    intent = stripe_client.v1.payment_intents.create(
        {"amount": 2000, "currency": "usd", "allowed_payment_method_types": ["card"]}
    )
    with pytest.raises(stripe.InvalidRequestError) as old_name:
        stripe_client.v1.payment_intents.create(
            {"amount": 2000, "currency": "usd", "payment_method_types": ["card"]}
        )

    assert intent.automatic_payment_methods is None
    assert intent.payment_method_types == ["card"]
    assert old_name.value.code == "parameter_unknown"  # not a request parameter any more


def test_create_update_then_confirm(stripe_client):
    intent = stripe_client.v1.payment_intents.create({"amount": 2000, "currency": "usd"})
    assert intent.status == "requires_payment_method"

    intent = stripe_client.v1.payment_intents.update(
        intent.id, {"payment_method": "pm_card_visa", "amount": 2500, "metadata": {"a": "1"}}
    )
    assert (intent.status, intent.amount) == ("requires_confirmation", 2500)

    intent = stripe_client.v1.payment_intents.confirm(intent.id, {"return_url": RETURN_URL})
    assert (intent.status, intent.amount_received) == ("succeeded", 2500)

    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe_client.v1.payment_intents.confirm(intent.id, {"return_url": RETURN_URL})
    assert again.value.code == "payment_intent_unexpected_state"
    assert again.value.json_body["error"]["payment_intent"]["id"] == intent.id


def test_a_refused_confirmation_leaves_the_intent_as_it_was(stripe_server, stripe_client):
    intent = stripe_client.v1.payment_intents.create(
        {"amount": 2000, "currency": "usd", "allowed_payment_method_types": ["card"]}
    )

    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.payment_intents.confirm(
            intent.id,
            {
                "payment_method": stripe_server.create_bank_debit_payment_method(),
                "capture_method": "manual",
            },
        )

    assert error.value.code == "payment_intent_incompatible_payment_method"
    after = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert (after.payment_method, after.capture_method) == (None, "automatic_async")


def test_a_declined_card_raises_card_error_and_leaves_the_intent_payable(
    stripe_server, stripe_client
):
    with pytest.raises(stripe.CardError) as declined:
        pay(stripe_client, payment_method="pm_card_chargeDeclinedInsufficientFunds")

    error = declined.value
    assert error.http_status == 402
    assert (error.code, error.error.decline_code) == ("card_declined", "insufficient_funds")
    assert error.user_message == "Your card has insufficient funds."
    intent = error.error.payment_intent
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == "insufficient_funds"
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.paid, charge.failure_code) == ("failed", False, "card_declined")
    assert charge.outcome.type == "issuer_declined"
    assert stripe_server.last_event("payment_intent.payment_failed")["data"]["object"]["id"] == (
        intent.id
    )

    retried = stripe_client.v1.payment_intents.confirm(
        intent.id, {"payment_method": "pm_card_visa", "return_url": RETURN_URL}
    )
    assert retried.status == "succeeded"
    assert retried.last_payment_error is None


def test_radar_blocks_the_highest_risk_and_reports_elevated_risk(stripe_client):
    with pytest.raises(stripe.CardError) as blocked:
        pay(stripe_client, payment_method="pm_card_radarBlock")
    elevated = pay(
        stripe_client, payment_method="pm_card_riskLevelElevated", expand=["latest_charge"]
    )

    charge = stripe_client.v1.charges.retrieve(blocked.value.error.payment_intent.latest_charge)
    assert blocked.value.error.decline_code == "fraudulent"
    assert (charge.outcome.type, charge.outcome.risk_level) == ("blocked", "highest")
    assert charge.outcome.network_status == "not_sent_to_network"
    assert elevated.status == "succeeded"
    assert elevated.latest_charge.outcome.risk_level == "elevated"


def test_3d_secure_requires_action_until_the_shopper_authenticates(stripe_server, stripe_client):
    intent = pay(stripe_client, payment_method="pm_card_authenticationRequired")

    assert intent.status == "requires_action"
    assert intent.latest_charge is None
    assert intent.next_action.type == "redirect_to_url"
    assert intent.next_action.redirect_to_url.return_url == RETURN_URL
    assert intent.next_action.redirect_to_url.url.startswith("https://hooks.stripe.com/")
    assert stripe_server.last_event("payment_intent.requires_action")

    stripe_server.authenticate(intent.id)

    intent = stripe_client.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert intent.status == "succeeded"
    assert intent.next_action is None
    three_d_secure = intent.latest_charge.payment_method_details.card.three_d_secure
    assert three_d_secure.result == "authenticated"


def test_3d_secure_through_stripe_js_gets_a_use_stripe_sdk_action(stripe_client):
    intent = stripe_client.v1.payment_intents.create(
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_threeDSecure2Required",
            "confirm": True,
            "use_stripe_sdk": True,
        }
    )

    assert intent.status == "requires_action"
    assert intent.next_action.type == "use_stripe_sdk"


def test_failed_3d_secure_leaves_the_intent_payable_with_another_method(
    stripe_server, stripe_client
):
    intent = pay(stripe_client, payment_method="pm_card_authenticationRequired")

    stripe_server.authenticate(intent.id, succeed=False)

    intent = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.code == "payment_intent_authentication_failure"
    assert intent.payment_method is None
    assert stripe_server.last_event("payment_intent.payment_failed")
    with pytest.raises(ValueError, match="requires_action"):
        stripe_server.authenticate(intent.id)


def test_authenticated_then_declined(stripe_server, stripe_client):
    intent = pay(
        stripe_client,
        payment_method="pm_card_authenticationRequiredChargeDeclinedInsufficientFunds",
    )

    stripe_server.authenticate(intent.id)

    intent = stripe_client.v1.payment_intents.retrieve(intent.id)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == "insufficient_funds"


def test_error_on_requires_action_declines_instead(stripe_client):
    with pytest.raises(stripe.CardError) as error:
        pay(
            stripe_client,
            payment_method="pm_card_authenticationRequired",
            error_on_requires_action=True,
        )

    assert error.value.code == "authentication_required"


def test_a_bank_debit_is_processing_until_the_bank_settles(stripe_server, stripe_client):
    first = pay(stripe_client, payment_method=stripe_server.create_bank_debit_payment_method())
    second = pay(stripe_client, payment_method=stripe_server.create_bank_debit_payment_method())

    assert first.status == second.status == "processing"
    assert stripe_server.last_event("payment_intent.processing")

    stripe_server.settle(first.id)
    stripe_server.settle(second.id, succeed=False)

    assert stripe_client.v1.payment_intents.retrieve(first.id).status == "succeeded"
    failed = stripe_client.v1.payment_intents.retrieve(second.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "insufficient_funds"


def test_manual_capture_in_full(stripe_server, stripe_client):
    intent = pay(stripe_client, capture_method="manual", expand=["latest_charge"])

    assert intent.status == "requires_capture"
    assert intent.amount_capturable == 2000
    assert intent.latest_charge.captured is False
    assert intent.latest_charge.balance_transaction is None
    assert stripe_server.last_event("payment_intent.amount_capturable_updated")

    captured = stripe_client.v1.payment_intents.capture(intent.id, {"expand": ["latest_charge"]})

    assert (captured.status, captured.amount_received) == ("succeeded", 2000)
    assert captured.amount_capturable == 0
    assert captured.latest_charge.captured is True
    assert captured.latest_charge.amount_captured == 2000
    assert stripe_server.last_event("charge.captured")
    with pytest.raises(stripe.InvalidRequestError) as twice:
        stripe_client.v1.payment_intents.capture(intent.id)
    assert twice.value.code == "payment_intent_unexpected_state"


def test_partial_capture_releases_the_rest_and_caps_refunds(stripe_client):
    intent = pay(stripe_client, amount=1000, capture_method="manual")

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        stripe_client.v1.payment_intents.capture(intent.id, {"amount_to_capture": 1001})
    captured = stripe_client.v1.payment_intents.capture(
        intent.id, {"amount_to_capture": 600, "expand": ["latest_charge"]}
    )

    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount_to_capture")
    assert captured.amount_received == 600
    assert captured.latest_charge.amount_captured == 600
    assert captured.latest_charge.amount_refunded == 400  # the released authorisation
    with pytest.raises(stripe.InvalidRequestError) as over:
        stripe_client.v1.refunds.create({"payment_intent": intent.id, "amount": 601})
    assert over.value.code == "amount_too_large"
    refund = stripe_client.v1.refunds.create({"payment_intent": intent.id})
    assert refund.amount == 600


def test_cancel_releases_an_authorisation_but_not_a_payment(stripe_server, stripe_client):
    held = pay(stripe_client, capture_method="manual")
    paid = pay(stripe_client)

    canceled = stripe_client.v1.payment_intents.cancel(
        held.id, {"cancellation_reason": "abandoned", "expand": ["latest_charge"]}
    )

    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert canceled.canceled_at
    assert canceled.latest_charge.refunded is True
    assert stripe_server.last_event("payment_intent.canceled")
    with pytest.raises(stripe.InvalidRequestError) as error:
        stripe_client.v1.payment_intents.cancel(paid.id)
    assert error.value.code == "payment_intent_unexpected_state"


def test_list_payment_intents_pages_newest_first(stripe_client):
    customer = stripe_client.v1.customers.create()
    made = [
        stripe_client.v1.payment_intents.create(
            {"amount": 100 * n, "currency": "usd", "customer": customer.id}
        ).id
        for n in range(1, 4)
    ]
    stripe_client.v1.payment_intents.create({"amount": 500, "currency": "usd"})

    first = stripe_client.v1.payment_intents.list({"customer": customer.id, "limit": 2})
    rest = stripe_client.v1.payment_intents.list(
        {"customer": customer.id, "limit": 2, "starting_after": first.data[-1].id}
    )

    assert [intent.id for intent in first.data] == made[::-1][:2]
    assert first.has_more is True
    assert [intent.id for intent in rest.data] == made[:1]
    assert rest.has_more is False
    since = stripe_client.v1.payment_intents.list({"created": {"gte": int(time.time()) - 60}})
    assert len(since.data) == 4
    assert stripe_client.v1.payment_intents.list({"created": {"lt": 1}}).data == []


# --- Refunds -------------------------------------------------------------------------------


def test_refunds_up_to_what_was_captured(stripe_server, stripe_client):
    intent = pay(stripe_client, amount=1000)

    partial = stripe_client.v1.refunds.create(
        {
            "payment_intent": intent.id,
            "amount": 300,
            "reason": "requested_by_customer",
            "metadata": {"line": "7"},
        }
    )
    with pytest.raises(stripe.InvalidRequestError) as over:
        stripe_client.v1.refunds.create({"charge": intent.latest_charge, "amount": 701})
    rest = stripe_client.v1.refunds.create({"charge": intent.latest_charge})
    with pytest.raises(stripe.InvalidRequestError) as again:
        stripe_client.v1.refunds.create({"payment_intent": intent.id})

    assert partial.id.startswith("re_")
    assert (partial.status, partial.amount, partial.reason) == (
        "succeeded",
        300,
        "requested_by_customer",
    )
    assert partial.metadata.to_dict() == {"line": "7"}
    assert over.value.code == "amount_too_large"
    assert over.value.param == "amount"
    assert over.value.user_message == (
        "Refund amount ($7.01) is greater than unrefunded amount on charge ($7.00)"
    )
    assert rest.amount == 700
    assert again.value.code == "charge_already_refunded"
    charge = stripe_client.v1.charges.retrieve(intent.latest_charge, {"expand": ["refunds"]})
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    assert [refund.id for refund in charge.refunds.data] == [rest.id, partial.id]
    assert stripe_client.v1.refunds.retrieve(partial.id).charge == charge.id
    refunded_events = stripe_server.events("charge.refunded")
    assert [event["data"]["object"]["amount_refunded"] for event in refunded_events] == [300, 1000]


def test_two_concurrent_refunds_cannot_over_refund(stripe_server):
    client = stripe_server.client()
    intent = pay(client, amount=1000)
    outcomes = []

    def refund():
        try:
            stripe_server.client().v1.refunds.create({"payment_intent": intent.id, "amount": 600})
            outcomes.append("refunded")
        except stripe.InvalidRequestError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=refund) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["amount_too_large", "refunded"]


# --- Connect: accounts, onboarding, transfers ----------------------------------------------


def test_express_account_onboarding(stripe_server, stripe_client):
    account = stripe_client.v1.accounts.create(
        {
            "type": "express",
            "country": "US",
            "email": "seller@example.com",
            "capabilities": {"transfers": {"requested": True}},
        }
    )
    link = stripe_client.v1.account_links.create(
        {
            "account": account.id,
            "type": "account_onboarding",
            "refresh_url": "https://shop.example/seller/stripe/refresh",
            "return_url": "https://shop.example/seller/stripe/return",
        }
    )

    assert account.id.startswith("acct_")
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        False,
        False,
        False,
    )
    assert account.capabilities.transfers == "inactive"
    assert account.requirements.currently_due
    assert link.object == "account_link"
    assert link.url.startswith("https://")
    assert link.expires_at > link.created

    stripe_server.complete_onboarding(account.id)

    account = stripe_client.v1.accounts.retrieve(account.id)
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        True,
        True,
        True,
    )
    assert account.capabilities.transfers == "active"
    updated = stripe_server.last_event("account.updated")
    assert updated["account"] == account.id
    assert updated["data"]["previous_attributes"]["payouts_enabled"] is False


def onboarded_account(server, client):
    account = client.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    server.complete_onboarding(account.id)
    return account.id


def test_transfers_funded_by_a_charge_cannot_exceed_it(stripe_server, stripe_client):
    seller = onboarded_account(stripe_server, stripe_client)
    intent = pay(stripe_client, amount=1000, transfer_group="order-9")

    first = stripe_client.v1.transfers.create(
        {
            "amount": 700,
            "currency": "usd",
            "destination": seller,
            "source_transaction": intent.latest_charge,
            "transfer_group": "order-9",
            "metadata": {"seller_order": "9-1"},
        }
    )
    with pytest.raises(stripe.InvalidRequestError) as over:
        stripe_client.v1.transfers.create(
            {
                "amount": 301,
                "currency": "usd",
                "destination": seller,
                "source_transaction": intent.latest_charge,
            }
        )
    second = stripe_client.v1.transfers.create(
        {
            "amount": 300,
            "currency": "usd",
            "destination": seller,
            "source_transaction": intent.latest_charge,
            "transfer_group": "order-9",
        }
    )

    assert first.id.startswith("tr_")
    assert (first.amount, first.destination, first.source_transaction) == (
        700,
        seller,
        intent.latest_charge,
    )
    assert first.reversals.total_count == 0
    assert over.value.param == "amount"
    group = stripe_client.v1.transfers.list({"transfer_group": "order-9"})
    assert {transfer.id for transfer in group.data} == {first.id, second.id}
    assert [
        event["data"]["object"]["id"] for event in stripe_server.events("transfer.created")
    ] == [
        first.id,
        second.id,
    ]


def test_a_transfer_needs_an_onboarded_destination_and_funds(stripe_server, stripe_client):
    pending = stripe_client.v1.accounts.create(
        {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    seller = onboarded_account(stripe_server, stripe_client)
    pay(stripe_client, amount=5000)

    with pytest.raises(stripe.InvalidRequestError) as not_onboarded:
        stripe_client.v1.transfers.create(
            {"amount": 100, "currency": "usd", "destination": pending.id}
        )
    with pytest.raises(stripe.InvalidRequestError) as no_funds:
        stripe_client.v1.transfers.create({"amount": 100, "currency": "usd", "destination": seller})
    stripe_server.make_funds_available()
    transfer = stripe_client.v1.transfers.create(
        {"amount": 100, "currency": "usd", "destination": seller}
    )

    assert not_onboarded.value.param == "destination"
    assert no_funds.value.code == "balance_insufficient"
    assert transfer.source_transaction is None
    balance = stripe_client.v1.balance.retrieve()
    assert balance.available[0].amount == 5000 - 175 - 100


def test_transfer_reversals(stripe_server, stripe_client):
    seller = onboarded_account(stripe_server, stripe_client)
    intent = pay(stripe_client, amount=1000)
    transfer = stripe_client.v1.transfers.create(
        {
            "amount": 800,
            "currency": "usd",
            "destination": seller,
            "source_transaction": intent.latest_charge,
        }
    )

    partial = stripe_client.v1.transfers.reversals.create(
        transfer.id, {"amount": 300, "metadata": {"refund": "re_1"}}
    )
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.transfers.reversals.create(transfer.id, {"amount": 501})
    stripe_client.v1.transfers.reversals.create(transfer.id)

    transfer = stripe_client.v1.transfers.retrieve(transfer.id)
    assert partial.id.startswith("trr_")
    assert (partial.amount, partial.transfer) == (300, transfer.id)
    assert (transfer.amount_reversed, transfer.reversed) == (800, True)
    assert transfer.reversals.total_count == 2
    reversed_events = stripe_server.events("transfer.reversed")
    assert [event["data"]["object"]["amount_reversed"] for event in reversed_events] == [300, 800]


def test_objects_made_for_a_connected_account_stay_on_it(stripe_server, stripe_client):
    seller = onboarded_account(stripe_server, stripe_client)
    on_seller = stripe_server.client(stripe_account=seller)

    customer = on_seller.v1.customers.create()

    assert on_seller.v1.customers.retrieve(customer.id).id == customer.id
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.customers.retrieve(customer.id)


# --- customers and mobile keys -------------------------------------------------------------


def test_an_ephemeral_key_is_made_for_the_mobile_sdk_api_version(stripe_server, stripe_client):
    customer = stripe_client.v1.customers.create({"email": "ada@example.com"})

    key = stripe_client.v1.ephemeral_keys.create(
        {"customer": customer.id}, {"stripe_version": "2020-08-27"}
    )
    status, _headers, refused = raw(
        stripe_server, "POST", "/v1/ephemeral_keys", f"customer={customer.id}"
    )

    assert key.id.startswith("ephkey_")
    assert key.secret.startswith("ek_test_")
    assert key.associated_objects[0].id == customer.id
    assert key.expires > key.created
    [request] = stripe_server.requests_to("POST", "/v1/ephemeral_keys")[:1]
    assert request.stripe_version == "2020-08-27"
    assert status == 400
    assert "Stripe-Version" in refused["error"]["message"]


# --- Events --------------------------------------------------------------------------------


def test_events_hold_the_object_as_it_was(stripe_server, stripe_client):
    intent = pay(stripe_client, capture_method="manual")
    stripe_client.v1.payment_intents.capture(intent.id)

    capturable = stripe_server.last_event("payment_intent.amount_capturable_updated")
    succeeded = stripe_server.last_event("payment_intent.succeeded")
    listed = stripe_client.v1.events.list({"type": "payment_intent.*", "limit": 10})
    fetched = stripe_client.v1.events.retrieve(capturable["id"])

    assert capturable["data"]["object"]["status"] == "requires_capture"
    assert succeeded["data"]["object"]["status"] == "succeeded"
    assert capturable["request"]["idempotency_key"]
    assert [event.type for event in listed.data] == [
        "payment_intent.succeeded",
        "payment_intent.amount_capturable_updated",
        "payment_intent.created",
    ]
    assert fetched.data.object.status == "requires_capture"
    assert fetched.api_version == stripe_server.api_version


# --- Disputes and early fraud warnings -----------------------------------------------------


def test_a_dispute_answered_with_evidence_and_won(stripe_server, stripe_client):
    intent = pay(stripe_client, amount=3000)

    opened = stripe_server.open_dispute(intent.id, reason="product_not_received")
    dispute = stripe_client.v1.disputes.retrieve(opened["id"])
    with pytest.raises(stripe.InvalidRequestError) as refund_refused:
        stripe_client.v1.refunds.create({"payment_intent": intent.id})
    updated = stripe_client.v1.disputes.update(
        dispute.id,
        {"evidence": {"shipping_tracking_number": "1Z999", "uncategorized_text": "delivered"}},
    )
    submitted = stripe_client.v1.disputes.update(dispute.id, {"submit": True})
    stripe_server.close_dispute(dispute.id, won=True)

    assert dispute.id.startswith("dp_")
    assert (dispute.status, dispute.reason, dispute.amount) == (
        "needs_response",
        "product_not_received",
        3000,
    )
    assert dispute.evidence_details.due_by > time.time()
    assert dispute.balance_transactions[0].amount == -3000
    assert stripe_client.v1.charges.retrieve(intent.latest_charge).disputed is True
    assert refund_refused.value.code == "charge_disputed"
    assert updated.evidence.shipping_tracking_number == "1Z999"
    assert submitted.status == "under_review"
    assert submitted.evidence_details.submission_count == 1
    assert [event["type"] for event in stripe_server.events("charge.dispute.*")] == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]
    closed = stripe_client.v1.disputes.retrieve(dispute.id)
    assert closed.status == "won"
    assert [txn.amount for txn in closed.balance_transactions] == [-3000, 3000]


def test_a_dispute_accepted_by_the_merchant_is_lost(stripe_server, stripe_client):
    intent = pay(stripe_client)
    dispute = stripe_server.open_dispute(intent.latest_charge)

    closed = stripe_client.v1.disputes.close(dispute["id"])

    assert closed.status == "lost"
    assert stripe_server.last_event("charge.dispute.closed")["data"]["object"]["status"] == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.disputes.update(dispute["id"], {"submit": True})


def test_the_dispute_test_card_is_disputed_at_once(stripe_server, stripe_client):
    intent = pay(stripe_client, payment_method="pm_card_createDispute")

    disputes = stripe_client.v1.disputes.list({"payment_intent": intent.id})

    assert [dispute.status for dispute in disputes.data] == ["needs_response"]
    assert stripe_server.last_event("charge.dispute.created")


def test_an_early_fraud_warning(stripe_server, stripe_client):
    intent = pay(stripe_client)

    warning = stripe_server.create_early_fraud_warning(intent.id, fraud_type="misc")
    fetched = stripe_client.v1.radar.early_fraud_warnings.retrieve(warning["id"])
    stripe_client.v1.refunds.create({"payment_intent": intent.id})

    assert fetched.id.startswith("issfr_")
    assert (fetched.charge, fetched.payment_intent, fetched.fraud_type) == (
        intent.latest_charge,
        intent.id,
        "misc",
    )
    assert fetched.actionable is True
    assert stripe_server.last_event("radar.early_fraud_warning.created")
    later = stripe_client.v1.radar.early_fraud_warnings.retrieve(warning["id"])
    assert later.actionable is False  # a refunded charge cannot be acted upon any more


# --- Idempotency ---------------------------------------------------------------------------


def test_a_repeated_idempotent_request_replays_the_first_response(stripe_server, stripe_client):
    params = {"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa"}
    options = {"idempotency_key": "order-17-attempt-1"}

    first = stripe_client.v1.payment_intents.create(
        {**params, "confirm": True, "return_url": RETURN_URL}, options
    )
    again = stripe_client.v1.payment_intents.create(
        {**params, "confirm": True, "return_url": RETURN_URL}, options
    )

    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert len(stripe_server.events("charge.succeeded")) == 1
    with pytest.raises(stripe.IdempotencyError) as mismatch:
        stripe_client.v1.payment_intents.create({**params, "amount": 2001}, options)
    assert mismatch.value.http_status == 400


def test_a_declined_payment_is_replayed_but_a_refused_request_is_not_saved(stripe_client):
    declined_options = {"idempotency_key": "declined"}
    with pytest.raises(stripe.CardError) as first:
        stripe_client.v1.payment_intents.create(
            {
                "amount": 100,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
                "return_url": RETURN_URL,
            },
            declined_options,
        )
    with pytest.raises(stripe.CardError) as replay:
        stripe_client.v1.payment_intents.create(
            {
                "amount": 100,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclined",
                "confirm": True,
                "return_url": RETURN_URL,
            },
            declined_options,
        )
    assert replay.value.headers["Idempotent-Replayed"] == "true"
    assert replay.value.error.payment_intent.id == first.value.error.payment_intent.id

    invalid_options = {"idempotency_key": "fix-and-retry"}
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.payment_intents.create({"amount": 100}, invalid_options)
    fixed = stripe_client.v1.payment_intents.create(
        {"amount": 100, "currency": "usd"}, invalid_options
    )
    assert fixed.status == "requires_payment_method"


def test_a_bad_expand_after_the_endpoint_ran_is_replayed_not_run_twice(
    stripe_server, stripe_client
):
    options = {"idempotency_key": "bad-expand"}
    params = {"amount": 2000, "currency": "usd", "expand": ["no_such_field"]}

    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError) as error:
            stripe_client.v1.payment_intents.create(params, options)

    assert error.value.param == "expand"
    assert error.value.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_server.events("payment_intent.created")) == 1


def test_idempotency_keys_are_scoped_by_connected_account(stripe_server, stripe_client):
    seller = onboarded_account(stripe_server, stripe_client)
    options = {"idempotency_key": "same-key"}

    on_platform = stripe_client.v1.customers.create({}, options)
    on_seller = stripe_server.client(stripe_account=seller).v1.customers.create({}, options)

    assert on_platform.id != on_seller.id


def test_a_concurrent_request_with_the_same_key_is_told_to_wait(stripe_server):
    stripe_server.delay_next(1.0, method="POST", path="/v1/payment_intents")
    params = {"amount": 2000, "currency": "usd"}
    options = {"idempotency_key": "double-click"}
    results = {}

    def first():
        results["first"] = stripe_server.client().v1.payment_intents.create(params, options)

    thread = threading.Thread(target=first)
    thread.start()
    deadline = time.monotonic() + 5
    while not stripe_server.requests_to("POST", "/v1/payment_intents"):
        assert time.monotonic() < deadline, "the first request never arrived"
        time.sleep(0.01)
    with pytest.raises(stripe.APIError) as conflict:
        stripe_server.client().v1.payment_intents.create(params, options)
    waited = stripe_server.client(max_network_retries=3).v1.payment_intents.create(params, options)
    thread.join()

    assert conflict.value.http_status == 409
    assert conflict.value.error.code == "idempotency_key_in_use"
    assert waited.id == results["first"].id
    assert len(stripe_server.events("payment_intent.created")) == 1


# --- injected faults and the SDK's retries -------------------------------------------------


def test_a_500_is_retried_by_the_sdk_with_the_same_idempotency_key(stripe_server):
    stripe_server.fail_next(status=500, method="POST", path="/v1/payment_intents")

    intent = pay(stripe_server.client(max_network_retries=2))

    attempts = stripe_server.requests_to("POST", "/v1/payment_intents")
    assert [attempt.status for attempt in attempts] == [500, 200]
    assert attempts[0].idempotency_key == attempts[1].idempotency_key
    assert intent.status == "succeeded"
    assert len(stripe_server.events("charge.succeeded")) == 1


def test_error_statuses_map_to_the_sdk_exceptions(stripe_server, stripe_client):
    stripe_server.fail_next(status=500)
    with pytest.raises(stripe.APIError):
        stripe_client.v1.customers.create()
    stripe_server.fail_next(status=429)
    with pytest.raises(stripe.RateLimitError) as limited:
        stripe_server.client(max_network_retries=2).v1.customers.create()
    stripe_server.drop_next()
    with pytest.raises(stripe.APIConnectionError):
        stripe_client.v1.customers.create()

    assert limited.value.error.code == "rate_limit"
    assert len(stripe_server.requests_to("POST", "/v1/customers")) == 3  # 429 not retried


def test_a_lost_response_is_retried_and_charges_once(stripe_server):
    stripe_server.drop_next(method="POST", path="/v1/payment_intents", after_processing=True)

    intent = pay(stripe_server.client(max_network_retries=2))

    first, retry = stripe_server.requests_to("POST", "/v1/payment_intents")
    assert first.fault == "disconnect_after"
    assert retry.replayed is True
    assert retry.idempotency_key == first.idempotency_key
    assert intent.status == "succeeded"
    assert len(stripe_server.events("charge.succeeded")) == 1


def test_a_slow_answer_past_the_client_timeout_is_retried_and_charges_once(stripe_server):
    stripe_server.delay_next(0.6, method="POST", path="/v1/payment_intents")

    intent = pay(stripe_server.client(max_network_retries=3, timeout=0.3))

    assert intent.status == "succeeded"
    assert len(stripe_server.events("charge.succeeded")) == 1
    assert len(stripe_server.requests_to("POST", "/v1/payment_intents")) >= 2


def test_faults_match_only_their_method_and_path(stripe_server, stripe_client):
    stripe_server.fail_next(2, status=503, method="POST", path="/v1/refunds")

    customer = stripe_client.v1.customers.create()

    assert customer.id.startswith("cus_")
    stripe_server.clear_faults()
    intent = pay(stripe_client)
    assert stripe_client.v1.refunds.create({"payment_intent": intent.id}).status == "succeeded"


# --- webhooks ------------------------------------------------------------------------------


def test_a_signed_delivery_is_accepted_by_construct_event(stripe_server, stripe_client):
    intent = pay(stripe_client)
    event = stripe_server.last_event("payment_intent.succeeded")

    hook = stripe_server.webhook(event["id"])
    constructed = stripe.Webhook.construct_event(
        hook.payload, hook.headers["Stripe-Signature"], stripe_server.webhook_secret
    )

    assert constructed.id == event["id"]
    assert constructed.type == "payment_intent.succeeded"
    assert constructed.data.object.id == intent.id
    assert hook.signature.startswith("t=")


@pytest.mark.parametrize(
    "case",
    ["wrong secret", "stale timestamp", "tampered payload", "no signature"],
)
def test_bad_deliveries_are_rejected_by_construct_event(stripe_server, stripe_client, case):
    pay(stripe_client)
    event = stripe_server.last_event("payment_intent.succeeded")
    hook = stripe_server.webhook(event)
    payload, signature = hook.payload, hook.signature
    if case == "wrong secret":
        signature = stripe_server.webhook(event, secret="whsec_not_ours").signature
    elif case == "stale timestamp":
        signature = stripe_server.webhook(event, timestamp=int(time.time()) - 600).signature
    elif case == "tampered payload":
        payload = payload.replace(b'"amount": 2000', b'"amount": 1')
    else:
        signature = ""

    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, stripe_server.webhook_secret)


def test_every_recorded_event_can_be_delivered_in_order(stripe_server, stripe_client):
    pay(stripe_client, capture_method="manual")

    hooks = stripe_server.webhooks()
    events = [
        stripe.Webhook.construct_event(hook.payload, hook.signature, stripe_server.webhook_secret)
        for hook in hooks
    ]

    assert [event.type for event in events] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.amount_capturable_updated",
    ]
    assert [hook.event_type for hook in stripe_server.webhooks("charge.*")] == ["charge.succeeded"]


def test_a_delivery_can_be_posted_to_a_live_url(stripe_server, stripe_client):
    received = {}

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received["body"] = self.rfile.read(length)
            received["signature"] = self.headers["Stripe-Signature"]
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    endpoint = HTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=endpoint.handle_request)
    thread.start()
    pay(stripe_client)
    hook = stripe_server.webhook(stripe_server.last_event("charge.succeeded"))

    status, _body = hook.post(f"http://127.0.0.1:{endpoint.server_address[1]}/payments/webhooks/")
    thread.join()
    endpoint.server_close()

    assert status == 200
    assert received == {"body": hook.payload, "signature": hook.signature}


def test_servers_are_independent():
    with FakeStripeServer() as one, FakeStripeServer() as two:
        customer = one.client().v1.customers.create()

        with pytest.raises(stripe.InvalidRequestError):
            two.client(api_key=two.secret_key).v1.customers.retrieve(customer.id)
        assert one.url != two.url
