"""The endpoints the fake answers, each with the request parameters it understands (a subset
of the operation's parameters in Stripe's OpenAPI spec; the contract test checks that against
the spec extract and the pinned SDK). Anything else is refused with Stripe's
`parameter_unknown`, so a parameter the fake does not model never passes silently."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import connect, customers, disputes, events, payments, refunds

_LIST = ("ending_before", "expand", "limit", "starting_after")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the spec's path template, e.g. /v1/payment_intents/{intent}/confirm
    handler: Callable[..., dict[str, Any]]
    params: frozenset[str]
    sdk_params: str  # the stripe.params TypedDict of this operation
    regex: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\{[a-z_]+\}", r"([^/]+)", self.path)
        object.__setattr__(self, "regex", re.compile(pattern + r"\Z"))


def _route(
    method: str, path: str, handler: Callable[..., dict[str, Any]], sdk: str, *params: str
) -> Route:
    return Route(method, path, handler, frozenset({"expand", *params}), sdk)


ROUTES: tuple[Route, ...] = (
    _route(
        "POST",
        "/v1/payment_intents",
        payments.create_payment_intent,
        "PaymentIntentCreateParams",
        "allowed_payment_method_types",
        "amount",
        "automatic_payment_methods",
        "capture_method",
        "confirm",
        "currency",
        "customer",
        "description",
        "error_on_requires_action",
        "metadata",
        "payment_method",
        "receipt_email",
        "return_url",
        "setup_future_usage",
        "statement_descriptor_suffix",
        "transfer_group",
        "use_stripe_sdk",
    ),
    _route(
        "GET",
        "/v1/payment_intents",
        payments.list_payment_intents,
        "PaymentIntentListParams",
        "created",
        "customer",
        *_LIST,
    ),
    _route(
        "GET",
        "/v1/payment_intents/{intent}",
        payments.retrieve_payment_intent,
        "PaymentIntentRetrieveParams",
        "client_secret",
    ),
    _route(
        "POST",
        "/v1/payment_intents/{intent}",
        payments.update_payment_intent,
        "PaymentIntentUpdateParams",
        "amount",
        "capture_method",
        "currency",
        "customer",
        "description",
        "metadata",
        "payment_method",
        "receipt_email",
        "setup_future_usage",
        "statement_descriptor_suffix",
        "transfer_group",
    ),
    _route(
        "POST",
        "/v1/payment_intents/{intent}/confirm",
        payments.confirm_payment_intent,
        "PaymentIntentConfirmParams",
        "capture_method",
        "error_on_requires_action",
        "payment_method",
        "receipt_email",
        "return_url",
        "setup_future_usage",
        "use_stripe_sdk",
    ),
    _route(
        "POST",
        "/v1/payment_intents/{intent}/capture",
        payments.capture_payment_intent,
        "PaymentIntentCaptureParams",
        "amount_to_capture",
        "metadata",
    ),
    _route(
        "POST",
        "/v1/payment_intents/{intent}/cancel",
        payments.cancel_payment_intent,
        "PaymentIntentCancelParams",
        "cancellation_reason",
    ),
    _route(
        "GET",
        "/v1/payment_methods/{payment_method}",
        payments.retrieve_payment_method,
        "PaymentMethodRetrieveParams",
    ),
    _route("GET", "/v1/charges/{charge}", payments.retrieve_charge, "ChargeRetrieveParams"),
    _route(
        "GET",
        "/v1/charges",
        payments.list_charges,
        "ChargeListParams",
        "created",
        "customer",
        "payment_intent",
        "transfer_group",
        *_LIST,
    ),
    _route(
        "POST",
        "/v1/refunds",
        refunds.create_refund,
        "RefundCreateParams",
        "amount",
        "charge",
        "metadata",
        "payment_intent",
        "reason",
    ),
    _route("GET", "/v1/refunds/{refund}", refunds.retrieve_refund, "RefundRetrieveParams"),
    _route(
        "GET",
        "/v1/refunds",
        refunds.list_refunds,
        "RefundListParams",
        "charge",
        "payment_intent",
        *_LIST,
    ),
    _route("GET", "/v1/disputes/{dispute}", disputes.retrieve_dispute, "DisputeRetrieveParams"),
    _route(
        "POST",
        "/v1/disputes/{dispute}",
        disputes.update_dispute,
        "DisputeUpdateParams",
        "evidence",
        "metadata",
        "submit",
    ),
    _route(
        "POST",
        "/v1/disputes/{dispute}/close",
        disputes.close_dispute_by_merchant,
        "DisputeCloseParams",
    ),
    _route(
        "GET",
        "/v1/disputes",
        disputes.list_disputes,
        "DisputeListParams",
        "charge",
        "payment_intent",
        *_LIST,
    ),
    _route(
        "GET",
        "/v1/radar/early_fraud_warnings/{early_fraud_warning}",
        disputes.retrieve_early_fraud_warning,
        "radar.EarlyFraudWarningRetrieveParams",
    ),
    _route(
        "GET",
        "/v1/radar/early_fraud_warnings",
        disputes.list_early_fraud_warnings,
        "radar.EarlyFraudWarningListParams",
        "charge",
        "payment_intent",
        *_LIST,
    ),
    _route(
        "GET",
        "/v1/balance_transactions/{id}",
        payments.retrieve_balance_transaction,
        "BalanceTransactionRetrieveParams",
    ),
    _route("GET", "/v1/balance", payments.retrieve_balance, "BalanceRetrieveParams"),
    _route(
        "POST",
        "/v1/accounts",
        connect.create_account,
        "AccountCreateParams",
        "business_type",
        "capabilities",
        "country",
        "default_currency",
        "email",
        "metadata",
        "type",
    ),
    _route("GET", "/v1/accounts/{account}", connect.retrieve_account, "AccountRetrieveParams"),
    _route(
        "POST",
        "/v1/accounts/{account}",
        connect.update_account,
        "AccountUpdateParams",
        "email",
        "metadata",
    ),
    _route(
        "POST",
        "/v1/account_links",
        connect.create_account_link,
        "AccountLinkCreateParams",
        "account",
        "collect",
        "refresh_url",
        "return_url",
        "type",
    ),
    _route(
        "POST",
        "/v1/transfers",
        connect.create_transfer,
        "TransferCreateParams",
        "amount",
        "currency",
        "description",
        "destination",
        "metadata",
        "source_transaction",
        "transfer_group",
    ),
    _route("GET", "/v1/transfers/{transfer}", connect.retrieve_transfer, "TransferRetrieveParams"),
    _route(
        "GET",
        "/v1/transfers",
        connect.list_transfers,
        "TransferListParams",
        "destination",
        "transfer_group",
        *_LIST,
    ),
    _route(
        "POST",
        "/v1/transfers/{id}/reversals",
        connect.create_transfer_reversal,
        "TransferCreateReversalParams",
        "amount",
        "description",
        "metadata",
    ),
    _route(
        "GET",
        "/v1/transfers/{id}/reversals",
        connect.list_transfer_reversals,
        "TransferListReversalsParams",
        *_LIST,
    ),
    _route(
        "POST",
        "/v1/customers",
        customers.create_customer,
        "CustomerCreateParams",
        "address",
        "description",
        "email",
        "metadata",
        "name",
        "phone",
    ),
    _route(
        "GET",
        "/v1/customers/{customer}",
        customers.retrieve_customer,
        "CustomerRetrieveParams",
    ),
    _route(
        "POST",
        "/v1/customers/{customer}",
        customers.update_customer,
        "CustomerUpdateParams",
        "address",
        "description",
        "email",
        "metadata",
        "name",
        "phone",
    ),
    _route(
        "GET",
        "/v1/customers",
        customers.list_customers,
        "CustomerListParams",
        "email",
        *_LIST,
    ),
    _route(
        "POST",
        "/v1/ephemeral_keys",
        customers.create_ephemeral_key,
        "EphemeralKeyCreateParams",
        "customer",
    ),
    _route(
        "DELETE",
        "/v1/ephemeral_keys/{key}",
        customers.delete_ephemeral_key,
        "EphemeralKeyDeleteParams",
    ),
    _route("GET", "/v1/events/{id}", events.retrieve_event, "EventRetrieveParams"),
    _route(
        "GET",
        "/v1/events",
        events.list_events,
        "EventListParams",
        "created",
        "type",
        "types",
        *_LIST,
    ),
)


def match(method: str, path: str) -> tuple[Route, tuple[str, ...]] | None:
    for route in ROUTES:
        if route.method == method:
            found = route.regex.match(path)
            if found:
                return route, found.groups()
    return None
