"""Stripe, through the official SDK (stripe-python): PaymentIntents with automatic payment
methods (cards, wallets, local methods), 3-D Secure through Stripe.js or the mobile SDKs, manual
or automatic capture, refunds, customers and ephemeral keys for the mobile SDKs.

Card data never reaches our servers: the shopper's browser or app turns it into a PaymentMethod
at Stripe (Payment Element, PaymentSheet) and we only see its id (PCI DSS SAQ A).

Every POST carries an idempotency key derived from our own record (`payment:<id>:...`), so the
SDK's retries and ours never charge twice. The SDK retries network errors and 5xx itself
(`STRIPE_MAX_NETWORK_RETRIES`); what still fails becomes GatewayUnavailable (retry later with the
same key) or GatewayRefused (the request is wrong: retrying will not help). A card decline is an
outcome, not an error: NEEDS_METHOD with Stripe's code and message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings

from payments.gateways.base import (
    CardDetails,
    ConnectAccount,
    CustomerSession,
    GatewayRefused,
    GatewayUnavailable,
    IntentResult,
    IntentStatus,
    RefundResult,
    TransferResult,
    from_minor,
    to_minor,
)

logger = logging.getLogger(__name__)

STATUSES = {
    "requires_payment_method": IntentStatus.NEEDS_METHOD,
    "requires_confirmation": IntentStatus.NEEDS_METHOD,
    "requires_action": IntentStatus.REQUIRES_ACTION,
    "processing": IntentStatus.PROCESSING,
    "requires_capture": IntentStatus.AUTHORISED,
    "succeeded": IntentStatus.CAPTURED,
    "canceled": IntentStatus.CANCELED,
}
EXPAND = ["latest_charge"]


def _client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base, "connect": base} if base else None,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def _call(what: str, operation: Callable[[], Any]) -> Any:
    """Run one SDK call; Stripe's errors become the interface's."""
    try:
        return operation()
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise GatewayUnavailable(f"Stripe could not be reached for {what}: {exc}") from exc
    except stripe.APIError as exc:
        raise GatewayUnavailable(f"Stripe failed on {what}: {exc}") from exc
    except (stripe.AuthenticationError, stripe.PermissionError) as exc:
        logger.error("Stripe refused our credentials on %s: %s", what, exc)
        raise GatewayRefused(
            "The payment service is misconfigured; the shop has been told.", code="configuration"
        ) from exc
    except stripe.IdempotencyError as exc:
        # the same key with other parameters: a bug of ours, never retried blindly
        raise GatewayRefused(f"Stripe refused a reused idempotency key on {what}.") from exc
    except stripe.InvalidRequestError as exc:
        raise GatewayRefused(str(exc.user_message or exc), code=exc.code or "") from exc


def _intent(obj: Any) -> IntentResult:
    pi: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else obj
    currency = str(pi["currency"]).upper()
    charge = pi.get("latest_charge")
    card = CardDetails()
    risk_level, risk_score, charge_id = "", None, ""
    if charge is not None and not isinstance(charge, str):
        charge_id = charge["id"]
        details = (charge.get("payment_method_details") or {}).get("card") or {}
        card = CardDetails(
            brand=details.get("brand") or "",
            last4=details.get("last4") or "",
            country=details.get("country") or "",
            fingerprint=details.get("fingerprint") or "",
            billing_country=((charge.get("billing_details") or {}).get("address") or {}).get(
                "country"
            )
            or "",
        )
        outcome = charge.get("outcome") or {}
        risk_level = outcome.get("risk_level") or ""
        risk_score = outcome.get("risk_score")
    elif isinstance(charge, str):
        charge_id = charge
    error = pi.get("last_payment_error") or {}
    next_action = pi.get("next_action") or {}
    redirect = next_action.get("redirect_to_url") or {}
    return IntentResult(
        reference=pi["id"],
        status=STATUSES.get(pi["status"], IntentStatus.NEEDS_METHOD),
        amount=from_minor(pi["amount"], currency),
        currency=currency,
        amount_capturable=from_minor(pi.get("amount_capturable") or 0, currency),
        amount_received=from_minor(pi.get("amount_received") or 0, currency),
        client_secret=pi.get("client_secret") or "",
        action_url=redirect.get("url") or "",
        failure_code=error.get("decline_code") or error.get("code") or "",
        failure_message=error.get("message") or "",
        card=card,
        risk_level=risk_level,
        risk_score=risk_score,
        charge_reference=charge_id,
    )


class StripeGateway:
    name = "stripe"

    def __init__(self) -> None:
        self.publishable_key = settings.STRIPE_PUBLISHABLE_KEY
        self.client = _client()

    def intent_create(
        self,
        *,
        amount: Decimal,
        currency: str,
        capture_later: bool,
        metadata: dict[str, str],
        idempotency_key: str,
        customer: str = "",
    ) -> IntentResult:
        params: Any = {
            "amount": to_minor(amount, currency),
            "currency": currency.lower(),
            "automatic_payment_methods": {"enabled": True},
            "capture_method": "manual" if capture_later else "automatic",
            "metadata": metadata,
        }
        if customer:
            params["customer"] = customer
        pi = _call(
            "creating a payment",
            lambda: self.client.v1.payment_intents.create(
                params, options={"idempotency_key": idempotency_key}
            ),
        )
        return _intent(pi)

    def intent_update_amount(
        self, *, reference: str, amount: Decimal, idempotency_key: str
    ) -> IntentResult:
        current = self.intent_get(reference=reference)
        pi = _call(
            "changing a payment's amount",
            lambda: self.client.v1.payment_intents.update(
                reference,
                {"amount": to_minor(amount, current.currency)},
                options={"idempotency_key": idempotency_key},
            ),
        )
        return _intent(pi)

    def intent_confirm(
        self, *, reference: str, payment_method: str, return_url: str, idempotency_key: str
    ) -> IntentResult:
        def confirm() -> Any:
            try:
                return self.client.v1.payment_intents.confirm(
                    reference,
                    {"payment_method": payment_method, "return_url": return_url, "expand": EXPAND},
                    options={"idempotency_key": idempotency_key},
                )
            except stripe.CardError as exc:
                return exc  # a decline: the intent is payable again with another method

        answer = _call("confirming a payment", confirm)
        if not isinstance(answer, stripe.CardError):
            return _intent(answer)
        declined = answer.error.payment_intent if answer.error else None
        result = _intent(declined) if declined is not None else self.intent_get(reference=reference)
        return IntentResult(
            **{
                **result.__dict__,
                "status": IntentStatus.NEEDS_METHOD,
                "failure_code": result.failure_code or answer.code or "card_declined",
                "failure_message": result.failure_message
                or answer.user_message
                or "The card was declined.",
            }
        )

    def intent_get(self, *, reference: str) -> IntentResult:
        pi = _call(
            "reading a payment",
            lambda: self.client.v1.payment_intents.retrieve(reference, {"expand": EXPAND}),
        )
        return _intent(pi)

    def intent_capture(
        self, *, reference: str, amount: Decimal, idempotency_key: str
    ) -> IntentResult:
        current = self.intent_get(reference=reference)
        pi = _call(
            "capturing a payment",
            lambda: self.client.v1.payment_intents.capture(
                reference,
                {"amount_to_capture": to_minor(amount, current.currency), "expand": EXPAND},
                options={"idempotency_key": idempotency_key},
            ),
        )
        return _intent(pi)

    def intent_cancel(self, *, reference: str, idempotency_key: str) -> IntentResult:
        pi = _call(
            "voiding a payment",
            lambda: self.client.v1.payment_intents.cancel(
                reference, {"expand": EXPAND}, options={"idempotency_key": idempotency_key}
            ),
        )
        return _intent(pi)

    def refund(
        self, *, reference: str, amount: Decimal, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        current = self.intent_get(reference=reference)
        params: Any = {
            "payment_intent": reference,
            "amount": to_minor(amount, current.currency),
        }
        if reason in {"duplicate", "fraudulent", "requested_by_customer"}:
            params["reason"] = reason
        refund = _call(
            "refunding a payment",
            lambda: self.client.v1.refunds.create(
                params, options={"idempotency_key": idempotency_key}
            ),
        )
        data = refund.to_dict()
        status = data.get("status") or ""
        return RefundResult(
            reference=data["id"],
            amount=from_minor(data["amount"], current.currency),
            succeeded=status == "succeeded",
            pending=status in {"pending", "requires_action"},
            failure_message=data.get("failure_reason") or "",
        )

    def customer_session(self, *, email: str, customer: str = "") -> CustomerSession | None:
        if not customer:
            created = _call(
                "creating a customer",
                lambda: self.client.v1.customers.create(
                    {"email": email}, options={"idempotency_key": f"customer:{email}"}
                ),
            )
            customer = created.id
        key = _call(
            "creating an ephemeral key",
            lambda: self.client.v1.ephemeral_keys.create(
                {"customer": customer},
                options={"stripe_version": stripe.api_version},
            ),
        )
        return CustomerSession(customer=customer, ephemeral_key=key.secret)

    # --- payouts: Connect with separate charges and transfers ------------------------------

    def transfer_create(
        self,
        *,
        amount: Decimal,
        currency: str,
        destination: str,
        transfer_group: str,
        source_transaction: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> TransferResult:
        params: Any = {
            "amount": to_minor(amount, currency),
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }
        if source_transaction:
            # funded by the order's charge: it runs even before the charge's money is
            # available, and never from other orders' money
            params["source_transaction"] = source_transaction
        transfer = _call(
            "paying a seller",
            lambda: self.client.v1.transfers.create(
                params, options={"idempotency_key": idempotency_key}
            ),
        )
        return TransferResult(reference=transfer.id, amount=from_minor(transfer.amount, currency))

    def transfer_reverse(
        self, *, transfer: str, amount: Decimal, metadata: dict[str, str], idempotency_key: str
    ) -> TransferResult:
        current = _call("reading a transfer", lambda: self.client.v1.transfers.retrieve(transfer))
        currency = str(current.currency).upper()
        reversal = _call(
            "taking a transfer back",
            lambda: self.client.v1.transfers.reversals.create(
                transfer,
                {"amount": to_minor(amount, currency), "metadata": metadata},
                options={"idempotency_key": idempotency_key},
            ),
        )
        return TransferResult(reference=reversal.id, amount=from_minor(reversal.amount, currency))

    def connect_account_create(
        self, *, email: str, country: str, idempotency_key: str
    ) -> ConnectAccount | None:
        params: Any = {
            "type": "express",
            "capabilities": {"transfers": {"requested": True}},
        }
        if email:
            params["email"] = email
        if country:
            params["country"] = country.upper()
        account = _call(
            "creating a seller's payout account",
            lambda: self.client.v1.accounts.create(
                params, options={"idempotency_key": idempotency_key}
            ),
        )
        return _account(account)

    def connect_account_get(self, *, account: str) -> ConnectAccount | None:
        found = _call(
            "reading a seller's payout account",
            lambda: self.client.v1.accounts.retrieve(account),
        )
        return _account(found)

    def connect_account_link(self, *, account: str, refresh_url: str, return_url: str) -> str:
        link = _call(
            "starting a seller's payout onboarding",
            lambda: self.client.v1.account_links.create(
                {
                    "account": account,
                    "type": "account_onboarding",
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                }
            ),
        )
        return str(link.url)


def _account(obj: Any) -> ConnectAccount:
    data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else obj
    capabilities = data.get("capabilities") or {}
    requirements = data.get("requirements") or {}
    return ConnectAccount(
        reference=data["id"],
        details_submitted=bool(data.get("details_submitted")),
        payouts_enabled=bool(data.get("payouts_enabled")),
        transfers_active=capabilities.get("transfers") == "active",
        currently_due=tuple(requirements.get("currently_due") or ()),
    )
