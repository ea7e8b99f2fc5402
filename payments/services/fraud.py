"""Fraud checks: weighted rules over what is known of an order and its payment, a score, and an
outcome against the thresholds in settings (docs/fraud.md).

Orders asks (`orders.services.fraud`, from a Celery task started through the outbox when an
order is paid) with the order's facts (`OrderFacts`); this module adds what payments knows (the
card, the client address, Radar's risk level, declines, early fraud warnings, how many orders the
same customer, address or card paid for lately), scores it (`fraud_decide`, a pure function)
and records the check (`fraud_check_record`). What an outcome does to the order (hold, cancel,
refund) is orders' business.

Every rule is evaluated and stored with its reason, tripped or not, so staff see why an order
scored what it did; only tripped rules add their weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from payments.gateways import IntentStatus
from payments.models import (
    FraudCheck,
    FraudCheckEvent,
    FraudCheckStatus,
    FraudOutcome,
    FraudRuleResult,
    Payment,
    PaymentEvent,
)

# each rule's weight when it trips; FRAUD_WEIGHTS overrides some
DEFAULT_WEIGHTS: dict[str, int] = {
    "velocity_customer": 30,
    "velocity_ip": 20,
    "velocity_card": 30,
    "amount_above_history": 30,
    "country_mismatch": 20,
    "new_account_high_value": 30,
    "failed_attempts": 30,
    "radar_elevated": 40,
    "radar_highest": 80,
    "early_fraud_warning": 60,
}
EARLY_FRAUD_WARNING = "early_fraud_warning"  # PaymentEvent.kind (payments.services.webhooks)
# a payment that paid for its order (voided ones did not; refunds do not undo the history)
PAID_STATUSES = (IntentStatus.AUTHORISED, IntentStatus.CAPTURED)


@dataclass(frozen=True)
class OrderFacts:
    """What orders knows about the order being checked."""

    order_id: int
    checkout_id: int | None
    amount: Decimal
    currency: str
    placed_at: datetime
    shipping_country: str
    user_id: int | None
    email: str
    account_created_at: datetime | None  # None: a guest


@dataclass(frozen=True)
class FraudFacts:
    order: OrderFacts
    client_ip: str = ""
    card_fingerprint: str = ""
    card_country: str = ""
    billing_country: str = ""
    risk_level: str = ""
    # paid orders in the velocity window before this one, by the same ...
    orders_by_customer: int = 0
    orders_by_ip: int = 0
    orders_by_card: int = 0
    failed_attempts: int = 0
    early_fraud_warning: str = ""  # the warning's fraud type, when the issuer sent one
    # what the customer paid for earlier orders (same currency), oldest first
    previous_amounts: tuple[Decimal, ...] = ()


@dataclass(frozen=True)
class RuleResult:
    rule: str
    tripped: bool
    weight: int  # what it added to the score: its weight when tripped, else 0
    reason: str
    # the least outcome this rule allows when tripped (an early fraud warning is never approved
    # without staff, whatever the weights)
    at_least: FraudOutcome | None = None


@dataclass(frozen=True)
class FraudDecision:
    score: int
    outcome: FraudOutcome
    reasons: tuple[RuleResult, ...] = field(default_factory=tuple)

    @property
    def tripped(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.reasons if r.tripped)


# --- facts --------------------------------------------------------------------------------------


def fraud_facts(*, order: OrderFacts, payment: Payment | None) -> FraudFacts:
    """The order's facts with what payments knows. Velocity counts paid orders (payments linked
    to an order) started in the window before this order was placed, so a check run again
    later counts the same."""
    if payment is None:
        return FraudFacts(order=order)
    since = order.placed_at - timedelta(seconds=settings.FRAUD_VELOCITY_WINDOW_SECONDS)
    recent = Payment.objects.filter(
        order_id__isnull=False, created_at__gte=since, created_at__lte=order.placed_at
    ).exclude(order_id=order.order_id)
    customer = _customer_q(order)
    previous = (
        Payment.objects.filter(
            customer,
            order_id__isnull=False,
            currency=order.currency,
            status__in=PAID_STATUSES,
            created_at__lt=order.placed_at,
        )
        .exclude(order_id=order.order_id)
        .order_by("created_at")
        .values_list("amount", flat=True)
    )
    warning = (
        # a payment's events come after it: the bound on the partition key skips older months
        PaymentEvent.objects.filter(
            payment=payment, kind=EARLY_FRAUD_WARNING, created_at__gte=payment.created_at
        )
        .values_list("detail", flat=True)
        .first()
    )
    return FraudFacts(
        order=order,
        client_ip=payment.client_ip or "",
        card_fingerprint=payment.card_fingerprint,
        card_country=payment.card_country,
        billing_country=payment.billing_country,
        risk_level=payment.risk_level,
        orders_by_customer=recent.filter(customer).count(),
        orders_by_ip=recent.filter(client_ip=payment.client_ip).count() if payment.client_ip else 0,
        orders_by_card=(
            recent.filter(card_fingerprint=payment.card_fingerprint).count()
            if payment.card_fingerprint
            else 0
        ),
        failed_attempts=PaymentEvent.objects.filter(
            Q(payment__checkout_id=order.checkout_id)
            | (Q(payment__created_at__gte=since) & _customer_q(order, prefix="payment__")),
            detail__has_key="failure_code",
            created_at__lte=order.placed_at,
        ).count(),
        early_fraud_warning=(
            str((warning or {}).get("fraud_type") or "unspecified") if warning is not None else ""
        ),
        previous_amounts=tuple(previous),
    )


def _customer_q(order: OrderFacts, prefix: str = "") -> Q:
    """The same account or the same email (exact: the indexed column, so no table scan)."""
    q = Q(**{f"{prefix}email": order.email}) if order.email else Q(pk__in=[])
    if order.user_id is not None:
        q |= Q(**{f"{prefix}user_id": order.user_id})
    return q


# --- rules --------------------------------------------------------------------------------------


def _weight(rule: str) -> int:
    return int(settings.FRAUD_WEIGHTS.get(rule, DEFAULT_WEIGHTS[rule]))


def _result(
    rule: str, tripped: bool, reason: str, at_least: FraudOutcome | None = None
) -> RuleResult:
    return RuleResult(
        rule=rule,
        tripped=tripped,
        weight=_weight(rule) if tripped else 0,
        reason=reason,
        at_least=at_least,
    )


def _window() -> str:
    minutes = settings.FRAUD_VELOCITY_WINDOW_SECONDS // 60
    return f"{minutes} min"


def rule_velocity_customer(facts: FraudFacts) -> RuleResult:
    count, limit = facts.orders_by_customer, settings.FRAUD_VELOCITY_CUSTOMER
    return _result(
        "velocity_customer",
        count >= limit,
        f"{count} other paid orders by this customer in the {_window()} before (trips at {limit}).",
    )


def rule_velocity_ip(facts: FraudFacts) -> RuleResult:
    count, limit = facts.orders_by_ip, settings.FRAUD_VELOCITY_IP
    if not facts.client_ip:
        return _result("velocity_ip", False, "No client address recorded.")
    return _result(
        "velocity_ip",
        count >= limit,
        f"{count} other paid orders from {facts.client_ip} in the {_window()} before "
        f"(trips at {limit}).",
    )


def rule_velocity_card(facts: FraudFacts) -> RuleResult:
    count, limit = facts.orders_by_card, settings.FRAUD_VELOCITY_CARD
    if not facts.card_fingerprint:
        return _result("velocity_card", False, "No card fingerprint (not a card payment).")
    return _result(
        "velocity_card",
        count >= limit,
        f"{count} other paid orders with this card in the {_window()} before (trips at {limit}).",
    )


def rule_amount_above_history(facts: FraudFacts) -> RuleResult:
    history = facts.previous_amounts
    needed, factor = settings.FRAUD_HISTORY_MIN_ORDERS, settings.FRAUD_HISTORY_FACTOR
    if len(history) < needed:
        return _result(
            "amount_above_history",
            False,
            f"{len(history)} earlier paid orders; the comparison needs {needed}.",
        )
    average = (sum(history, Decimal("0")) / len(history)).quantize(Decimal("0.01"))
    amount = facts.order.amount
    return _result(
        "amount_above_history",
        average > 0 and amount >= average * factor,
        f"{amount} {facts.order.currency} against an average of {average} over "
        f"{len(history)} earlier orders (trips at {factor}x).",
    )


def rule_country_mismatch(facts: FraudFacts) -> RuleResult:
    shipping = facts.order.shipping_country.upper()
    billing, source = facts.billing_country.upper(), "billing address"
    if not billing:
        billing, source = facts.card_country.upper(), "card's issuing country"
    if not billing or not shipping:
        return _result("country_mismatch", False, "No billing or card country to compare.")
    return _result(
        "country_mismatch",
        billing != shipping,
        f"Shipping to {shipping}; the {source} is {billing}.",
    )


def rule_new_account_high_value(facts: FraudFacts) -> RuleResult:
    days, high = settings.FRAUD_NEW_ACCOUNT_DAYS, settings.FRAUD_HIGH_VALUE
    amount, created = facts.order.amount, facts.order.account_created_at
    if created is None:
        age, new = "a guest checkout", True
    else:
        age_days = (facts.order.placed_at - created).days
        age, new = f"an account {age_days} days old", age_days < days
    return _result(
        "new_account_high_value",
        new and amount >= high,
        f"{amount} {facts.order.currency} from {age} (trips at {high} from accounts younger "
        f"than {days} days or guests).",
    )


def rule_failed_attempts(facts: FraudFacts) -> RuleResult:
    count, limit = facts.failed_attempts, settings.FRAUD_FAILED_ATTEMPTS
    return _result(
        "failed_attempts",
        count >= limit,
        f"{count} declined payment attempts on this checkout or by this customer lately "
        f"(trips at {limit}).",
    )


def rule_radar_risk(facts: FraudFacts) -> RuleResult:
    """Stripe Radar's risk level of the charge (weights `radar_elevated`, `radar_highest`)."""
    level = facts.risk_level
    if level in ("elevated", "highest"):
        return RuleResult(
            rule="radar_risk",
            tripped=True,
            weight=_weight(f"radar_{level}"),
            reason=f"Stripe Radar rates the payment's risk {level}.",
        )
    shown = level or "not given"
    return RuleResult(
        rule="radar_risk", tripped=False, weight=0, reason=f"Stripe Radar's risk level: {shown}."
    )


def rule_early_fraud_warning(facts: FraudFacts) -> RuleResult:
    kind = facts.early_fraud_warning
    if not kind:
        return _result(EARLY_FRAUD_WARNING, False, "No early fraud warning from the card issuer.")
    return _result(
        EARLY_FRAUD_WARNING,
        True,
        f"The card issuer sent an early fraud warning ({kind.replace('_', ' ')}).",
        at_least=FraudOutcome.REVIEW,
    )


RULES: tuple[Callable[[FraudFacts], RuleResult], ...] = (
    rule_velocity_customer,
    rule_velocity_ip,
    rule_velocity_card,
    rule_amount_above_history,
    rule_country_mismatch,
    rule_new_account_high_value,
    rule_failed_attempts,
    rule_radar_risk,
    rule_early_fraud_warning,
)

_SEVERITY = {FraudOutcome.APPROVE: 0, FraudOutcome.REVIEW: 1, FraudOutcome.REJECT: 2}


def fraud_decide(*, facts: FraudFacts) -> FraudDecision:
    """Every rule's verdict, the score (the sum of the tripped rules' weights) and the outcome:
    reject at FRAUD_REJECT_SCORE, review at FRAUD_REVIEW_SCORE, else approve; never below what a
    tripped rule demands."""
    reasons = tuple(rule(facts) for rule in RULES)
    score = sum(r.weight for r in reasons)
    if score >= settings.FRAUD_REJECT_SCORE:
        outcome = FraudOutcome.REJECT
    elif score >= settings.FRAUD_REVIEW_SCORE:
        outcome = FraudOutcome.REVIEW
    else:
        outcome = FraudOutcome.APPROVE
    for reason in reasons:
        if reason.tripped and reason.at_least and _SEVERITY[reason.at_least] > _SEVERITY[outcome]:
            outcome = reason.at_least
    return FraudDecision(score=score, outcome=outcome, reasons=reasons)


# --- records ------------------------------------------------------------------------------------

STATUS_OF = {
    FraudOutcome.APPROVE: FraudCheckStatus.APPROVED,
    FraudOutcome.REVIEW: FraudCheckStatus.REVIEW,
    FraudOutcome.REJECT: FraudCheckStatus.REJECTED,
}


def fraud_check_record(
    *,
    order_id: int,
    payment: Payment | None,
    decision: FraudDecision,
    status: str,
    kind: str = "scored",
    note: str = "",
) -> FraudCheck:
    """Write the check of an order (or its new score: the rule rows are replaced, the event log
    keeps what came before). The caller holds the order's lock."""
    with transaction.atomic():
        check, created = FraudCheck.objects.select_for_update().get_or_create(
            order_id=order_id,
            defaults={
                "payment": payment,
                "score": decision.score,
                "outcome": decision.outcome,
                "status": status,
            },
        )
        if not created:
            check.score, check.outcome, check.status = decision.score, decision.outcome, status
            check.save(update_fields=["score", "outcome", "status", "updated_at"])
            check.rules.all().delete()
        FraudRuleResult.objects.bulk_create(
            FraudRuleResult(
                fraud_check=check,
                rule=r.rule,
                tripped=r.tripped,
                weight=r.weight,
                reason=r.reason[:255],
            )
            for r in decision.reasons
        )
        FraudCheckEvent.objects.create(
            fraud_check=check, kind=kind, score=decision.score, status=status, note=note
        )
    return check


def fraud_check_decide(*, check: FraudCheck, approve: bool, by, note: str) -> FraudCheck:
    """Staff's decision on a check in review, with their note (the caller holds the order's
    lock and checks the check is in review)."""
    status = FraudCheckStatus.APPROVED if approve else FraudCheckStatus.REJECTED
    now = timezone.now()
    actor = by if by is not None and by.is_authenticated else None
    FraudCheck.objects.filter(pk=check.pk).update(
        status=status, reviewed_by=actor, reviewed_at=now, updated_at=now
    )
    FraudCheckEvent.objects.create(
        fraud_check=check,
        kind="approved" if approve else "rejected",
        actor=actor,
        score=check.score,
        status=status,
        note=note,
    )
    check.status, check.reviewed_by, check.reviewed_at = status, actor, now
    return check
