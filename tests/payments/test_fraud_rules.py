"""Each fraud rule trips on the facts it is about and stays quiet otherwise; the score is the sum
of the tripped rules' weights and the outcome follows the thresholds in settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payments.models import FraudOutcome
from payments.services.fraud import FraudFacts, OrderFacts, fraud_decide

PLACED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
NEW = PLACED - timedelta(days=2)

QUIET = FraudFacts(
    order=OrderFacts(
        order_id=1,
        checkout_id=1,
        amount=Decimal("40.00"),
        currency="USD",
        placed_at=PLACED,
        shipping_country="DE",
        user_id=7,
        email="ada@example.com",
        account_created_at=PLACED - timedelta(days=400),
    ),
    previous_amounts=(Decimal("35.00"), Decimal("45.00")),
    client_ip="203.0.113.9",
    card_fingerprint="fp_1",
    card_country="DE",
    billing_country="DE",
    risk_level="normal",
)


def order(previous_amounts=None, **changes) -> FraudFacts:
    facts = replace(QUIET, order=replace(QUIET.order, **changes))
    return facts if previous_amounts is None else replace(facts, previous_amounts=previous_amounts)


# rule -> (facts that trip it, facts just short of it), with the default settings
CASES = {
    "velocity_customer": (
        replace(QUIET, orders_by_customer=3),
        replace(QUIET, orders_by_customer=2),
    ),
    "velocity_ip": (replace(QUIET, orders_by_ip=5), replace(QUIET, orders_by_ip=4)),
    "velocity_card": (replace(QUIET, orders_by_card=3), replace(QUIET, orders_by_card=2)),
    "amount_above_history": (order(amount=Decimal("200.00")), order(amount=Decimal("199.99"))),
    "country_mismatch": (
        replace(QUIET, billing_country="US"),
        replace(QUIET, billing_country="", card_country="DE"),
    ),
    "new_account_high_value": (
        order(amount=Decimal("500.00"), account_created_at=NEW, previous_amounts=()),
        order(amount=Decimal("499.99"), account_created_at=NEW, previous_amounts=()),
    ),
    "failed_attempts": (replace(QUIET, failed_attempts=3), replace(QUIET, failed_attempts=2)),
    "radar_risk": (replace(QUIET, risk_level="elevated"), replace(QUIET, risk_level="normal")),
    "early_fraud_warning": (
        replace(QUIET, early_fraud_warning="made_with_stolen_card"),
        QUIET,
    ),
}
WEIGHTS = {
    "velocity_customer": 30,
    "velocity_ip": 20,
    "velocity_card": 30,
    "amount_above_history": 30,
    "country_mismatch": 20,
    "new_account_high_value": 30,
    "failed_attempts": 30,
    "radar_risk": 40,
    "early_fraud_warning": 60,
}


def rule(decision, name):
    (found,) = [r for r in decision.reasons if r.rule == name]
    return found


def test_quiet_facts_trip_nothing_and_every_rule_gives_its_reason():
    decision = fraud_decide(facts=QUIET)
    assert (decision.score, decision.outcome) == (0, FraudOutcome.APPROVE)
    assert {r.rule for r in decision.reasons} == set(CASES)
    assert all(r.reason and not r.tripped and r.weight == 0 for r in decision.reasons)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_rule_trips_on_its_facts_and_not_short_of_them(name):
    trips, quiet = CASES[name]
    tripped = fraud_decide(facts=trips)
    assert rule(tripped, name).tripped and rule(tripped, name).weight == WEIGHTS[name]
    assert tripped.score == WEIGHTS[name]
    assert [r.rule for r in tripped.tripped] == [name]
    stays = fraud_decide(facts=quiet)
    assert not rule(stays, name).tripped and stays.score == 0


def test_history_needs_enough_earlier_orders_and_guests_count_as_new_accounts():
    one_order = order(amount=Decimal("900.00"), previous_amounts=(Decimal("10.00"),))
    assert not rule(fraud_decide(facts=one_order), "amount_above_history").tripped
    guest = order(amount=Decimal("600.00"), user_id=None, account_created_at=None)
    assert rule(fraud_decide(facts=guest), "new_account_high_value").tripped
    old_account = order(amount=Decimal("600.00"), previous_amounts=())
    assert not rule(fraud_decide(facts=old_account), "new_account_high_value").tripped


def test_the_card_country_stands_in_for_a_missing_billing_address():
    facts = replace(QUIET, billing_country="", card_country="US")
    found = rule(fraud_decide(facts=facts), "country_mismatch")
    assert found.tripped and "issuing country is US" in found.reason


def test_radar_highest_weighs_more_than_elevated():
    assert fraud_decide(facts=replace(QUIET, risk_level="highest")).score == 80


def test_outcomes_follow_the_thresholds_in_settings(settings):
    two = replace(QUIET, risk_level="elevated", billing_country="US")  # 40 + 20
    assert fraud_decide(facts=two).outcome == FraudOutcome.REVIEW
    three = replace(two, orders_by_card=3, failed_attempts=3)  # + 30 + 30
    assert fraud_decide(facts=three).score == 120
    assert fraud_decide(facts=three).outcome == FraudOutcome.REJECT
    settings.FRAUD_REVIEW_SCORE, settings.FRAUD_REJECT_SCORE = 70, 200
    assert fraud_decide(facts=two).outcome == FraudOutcome.APPROVE
    assert fraud_decide(facts=three).outcome == FraudOutcome.REVIEW


def test_weights_are_overridden_from_settings(settings):
    settings.FRAUD_WEIGHTS = {"country_mismatch": 100}
    decision = fraud_decide(facts=replace(QUIET, billing_country="US"))
    assert (decision.score, decision.outcome) == (100, FraudOutcome.REJECT)


def test_an_early_fraud_warning_is_never_approved_whatever_its_weight(settings):
    settings.FRAUD_WEIGHTS = {"early_fraud_warning": 0}
    decision = fraud_decide(facts=replace(QUIET, early_fraud_warning="misc"))
    assert decision.outcome == FraudOutcome.REVIEW
