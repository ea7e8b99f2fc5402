"""Stripe's documented test PaymentMethods (docs.stripe.com/testing, /radar/testing) and what
each does when a PaymentIntent is confirmed with it. Using one of these ids makes a new
PaymentMethod (`pm_...`) the way Stripe does; the intent then refers to the new id."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum


class Flow(StrEnum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    BLOCK = "block"  # Radar blocks it before it reaches the card network
    AUTHENTICATE = "authenticate"  # 3-D Secure first, then `after_authentication`
    PROCESSING = "processing"  # a bank debit: processing until settled through the fake


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str | None
    message: str
    seller_message: str


GENERIC_DECLINE = Decline(
    "card_declined",
    "generic_decline",
    "Your card was declined.",
    "The bank did not return any further details with this decline.",
)
INSUFFICIENT_FUNDS = Decline(
    "card_declined",
    "insufficient_funds",
    "Your card has insufficient funds.",
    "The bank returned the decline code `insufficient_funds`.",
)
LOST_CARD = Decline(
    "card_declined",
    "lost_card",
    "Your card was declined.",
    "The bank returned the decline code `lost_card`.",
)
STOLEN_CARD = Decline(
    "card_declined",
    "stolen_card",
    "Your card was declined.",
    "The bank returned the decline code `stolen_card`.",
)
EXPIRED_CARD = Decline(
    "expired_card",
    "expired_card",
    "Your card has expired.",
    "The bank returned the decline code `expired_card`.",
)
INCORRECT_CVC = Decline(
    "incorrect_cvc",
    "incorrect_cvc",
    "Your card's security code is incorrect.",
    "The bank returned the decline code `incorrect_cvc`.",
)
PROCESSING_ERROR = Decline(
    "processing_error",
    "processing_error",
    "An error occurred while processing your card. Try again in a little bit.",
    "The bank returned the decline code `processing_error`.",
)
RADAR_BLOCK = Decline(
    "card_declined",
    "fraudulent",
    "Your card was declined.",
    "Stripe blocked this payment as too risky.",
)


@dataclass(frozen=True)
class TestCard:
    number: str
    brand: str = "visa"
    country: str = "US"
    funding: str = "credit"
    flow: Flow = Flow.SUCCEED
    decline: Decline | None = None
    after_authentication: Flow = Flow.SUCCEED
    risk_level: str = "normal"
    risk_score: int = 20
    bypass_pending: bool = False
    creates_dispute: bool = False
    fingerprint: str = ""
    payment_method_type: str = "card"

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def card_fingerprint(self) -> str:
        if self.fingerprint:
            return self.fingerprint
        digest = hashlib.sha256(self.number.encode()).hexdigest()
        return digest[:16]


TEST_PAYMENT_METHODS: dict[str, TestCard] = {
    "pm_card_visa": TestCard("4242424242424242"),
    "pm_card_visa_debit": TestCard("4000056655665556", funding="debit"),
    "pm_card_mastercard": TestCard("5555555555554444", brand="mastercard"),
    "pm_card_amex": TestCard("378282246310005", brand="amex"),
    "pm_card_bypassPending": TestCard("4000000000000077", bypass_pending=True),
    "pm_card_chargeDeclined": TestCard(
        "4000000000000002", flow=Flow.DECLINE, decline=GENERIC_DECLINE
    ),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard(
        "4000000000009995", flow=Flow.DECLINE, decline=INSUFFICIENT_FUNDS
    ),
    "pm_card_chargeDeclinedLostCard": TestCard(
        "4000000000009987", flow=Flow.DECLINE, decline=LOST_CARD
    ),
    "pm_card_chargeDeclinedStolenCard": TestCard(
        "4000000000009979", flow=Flow.DECLINE, decline=STOLEN_CARD
    ),
    "pm_card_chargeDeclinedExpiredCard": TestCard(
        "4000000000000069", flow=Flow.DECLINE, decline=EXPIRED_CARD
    ),
    "pm_card_chargeDeclinedIncorrectCvc": TestCard(
        "4000000000000127", flow=Flow.DECLINE, decline=INCORRECT_CVC
    ),
    "pm_card_chargeDeclinedProcessingError": TestCard(
        "4000000000000119", flow=Flow.DECLINE, decline=PROCESSING_ERROR
    ),
    "pm_card_authenticationRequired": TestCard("4000002760003184", flow=Flow.AUTHENTICATE),
    "pm_card_threeDSecure2Required": TestCard("4000000000003220", flow=Flow.AUTHENTICATE),
    "pm_card_threeDSecureRequired": TestCard("4000000000003063", flow=Flow.AUTHENTICATE),
    "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds": TestCard(
        "4000008260003178",
        flow=Flow.AUTHENTICATE,
        after_authentication=Flow.DECLINE,
        decline=INSUFFICIENT_FUNDS,
    ),
    "pm_card_radarBlock": TestCard(
        "4100000000000019",
        flow=Flow.BLOCK,
        decline=RADAR_BLOCK,
        risk_level="highest",
        risk_score=95,
    ),
    "pm_card_chargeDeclinedFraudulent": TestCard(
        "4100000000000019",
        flow=Flow.BLOCK,
        decline=RADAR_BLOCK,
        risk_level="highest",
        risk_score=95,
    ),
    # Stripe's default rules block the highest risk level.
    "pm_card_riskLevelHighest": TestCard(
        "4000000000004954",
        flow=Flow.BLOCK,
        decline=RADAR_BLOCK,
        risk_level="highest",
        risk_score=90,
    ),
    "pm_card_riskLevelElevated": TestCard("4000000000009235", risk_level="elevated", risk_score=70),
    "pm_card_createDispute": TestCard("4000000000000259", creates_dispute=True),
}

# Stripe's newer docs name the decline cards pm_card_visa_chargeDeclined... too.
for _name in list(TEST_PAYMENT_METHODS):
    if _name.startswith("pm_card_chargeDeclined"):
        TEST_PAYMENT_METHODS["pm_card_visa_" + _name.removeprefix("pm_card_")] = (
            TEST_PAYMENT_METHODS[_name]
        )

BANK_DEBIT = TestCard(
    "000123456789",
    brand="",
    flow=Flow.PROCESSING,
    funding="",
    payment_method_type="us_bank_account",
)


def card_like(
    template: str, *, fingerprint: str | None = None, country: str | None = None
) -> TestCard:
    """A test card behaving as `template` with another fingerprint or issuing country."""
    card = TEST_PAYMENT_METHODS[template]
    return replace(
        card,
        fingerprint=fingerprint if fingerprint is not None else card.fingerprint,
        country=country or card.country,
    )
