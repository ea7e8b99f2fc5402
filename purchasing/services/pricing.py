"""Dynamic pricing: per-variant rules of a seller move the variant's price within the rule's
floor and ceiling (the floor never below cost + minimum margin), by at most
`max_change_percent` of the day's opening price, following the rule's strategy. A preview shows
what would change and why; applying writes the price through `catalog.services.variant_update`
and a PriceChange row with the reason.

A variant held by an open checkout (a live reservation) is not repriced: checkout charges the
price in force at placement, so a change mid-checkout would change the shopper's charge. The
check runs under the variant's stock-row locks, which reservations take too."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from catalog.models import Category, ProductVariant, variant_active_condition
from catalog.services import variant_update
from inventory import locks as inventory_locks
from inventory.models import Reservation, Stock
from purchasing.models import (
    DemandForecast,
    PriceChange,
    PricingRule,
    PricingStrategy,
    SupplierItem,
)
from purchasing.policy import CENT, PriceBounds, days_of_cover, price_target_clamp
from sellers.models import Seller
from shop.core.errors import NotFound, ServiceError, ValidationError

HUNDRED = Decimal("100")


def variant_cost_prices(*, variant_ids: list[int]) -> dict[int, Decimal]:
    """Per variant, the highest cost any of its seller's suppliers charges (the floor must
    cover it); variants no supplier sells are absent."""
    return dict(
        SupplierItem.objects.filter(variant_id__in=variant_ids)
        .values("variant_id")
        .annotate(m=Max("cost_price"))
        .values_list("variant_id", "m")
        .order_by()
    )


def _margin_floor(cost: Decimal, margin_percent: Decimal) -> Decimal:
    return (cost * (1 + margin_percent / HUNDRED)).quantize(CENT, rounding=ROUND_CEILING)


def rule_floor(*, rule: PricingRule, cost: Decimal | None = None) -> Decimal:
    """The lowest price the rule allows: its floor, raised to cost + minimum margin."""
    if cost is None and rule.variant_id is not None:
        cost = variant_cost_prices(variant_ids=[rule.variant_id]).get(rule.variant_id)
    if cost is None:
        return rule.floor_price
    return max(rule.floor_price, _margin_floor(cost, rule.min_margin_percent))


def pricing_rule_save(
    *,
    seller: Seller,
    strategy: str,
    floor_price: Decimal,
    ceiling_price: Decimal,
    min_margin_percent: Decimal = Decimal("0"),
    max_change_percent: Decimal = Decimal("5"),
    step_percent: Decimal = Decimal("2"),
    cover_days: int = 14,
    is_active: bool = True,
    variant_id: int | None = None,
    category_id: int | None = None,
    rule: PricingRule | None = None,
) -> PricingRule:
    """A rule on one variant or on a category subtree (exactly one of `variant_id`,
    `category_id`). A variant rule's floor must cover the variant's cost + minimum margin; a
    category rule's floor is raised to it per variant when applied."""
    errors: dict[str, list[str]] = {}
    if (variant_id is None) == (category_id is None):
        raise ValidationError(
            "Choose a variant or a category (one of them).",
            fields={"variant": ["Choose a variant or a category."]},
        )
    if strategy not in PricingStrategy.values:
        errors["strategy"] = ["Choose a strategy."]
    if floor_price <= 0:
        errors["floor_price"] = ["The floor must be above 0."]
    if ceiling_price < floor_price:
        errors["ceiling_price"] = ["The ceiling must be at least the floor."]
    if not 0 <= min_margin_percent <= 1000:
        errors["min_margin_percent"] = ["Enter 0 to 1000."]
    if not 0 < max_change_percent <= 50:
        errors["max_change_percent"] = ["Enter more than 0 and at most 50."]
    if not 0 < step_percent <= 50:
        errors["step_percent"] = ["Enter more than 0 and at most 50."]
    if not 1 <= cover_days <= 365:
        errors["cover_days"] = ["Enter 1 to 365 days."]
    if variant_id is not None and not (
        ProductVariant.objects.filter(pk=variant_id, product__seller_id=seller.pk).exists()
    ):
        raise NotFound("No such product variant in this shop.")
    if category_id is not None and not Category.objects.filter(pk=category_id).exists():
        raise NotFound("No such category.")
    cost = (
        variant_cost_prices(variant_ids=[variant_id]).get(variant_id)
        if variant_id is not None
        else None
    )
    if cost is not None and not errors:
        needed = _margin_floor(cost, min_margin_percent)
        if floor_price < needed:
            errors["floor_price"] = [
                f"The floor must be at least cost {cost} + {min_margin_percent}% margin = {needed}."
            ]
    if errors:
        raise ValidationError("The pricing rule is invalid.", fields=errors)
    if rule is not None and rule.seller_id != seller.pk:
        raise NotFound("No such pricing rule.")
    if rule is None:
        same = (
            Q(variant_id=variant_id)
            if variant_id is not None
            else Q(seller=seller, category_id=category_id)
        )
        clash = PricingRule.objects.filter(same).exists()
        if clash:
            raise ValidationError(
                "This already has a pricing rule: edit it instead.",
                fields={"variant": ["This variant or category already has a rule."]},
            )
        rule = PricingRule(seller=seller, variant_id=variant_id, category_id=category_id)
    elif (rule.variant_id, rule.category_id) != (variant_id, category_id):
        raise ValidationError(
            "A rule's variant or category cannot change.", fields={"variant": ["Fixed."]}
        )
    rule.strategy = strategy
    rule.floor_price = floor_price
    rule.ceiling_price = ceiling_price
    rule.min_margin_percent = min_margin_percent
    rule.max_change_percent = max_change_percent
    rule.step_percent = step_percent
    rule.cover_days = cover_days
    rule.is_active = is_active
    rule.save()
    return rule


def pricing_rule_delete(*, rule: PricingRule) -> None:
    rule.delete()


@dataclass(frozen=True)
class PriceProposal:
    rule: PricingRule
    variant: ProductVariant
    current: Decimal
    proposed: Decimal
    reason: str
    blocked: str = ""

    @property
    def changes(self) -> bool:
        return not self.blocked and self.proposed != self.current


def _target(rule: PricingRule, price: Decimal, signals: dict) -> tuple[Decimal, str]:
    step = rule.step_percent / HUNDRED
    cover = days_of_cover(available=signals["available"], mean_daily=signals["mean_daily"])
    cover_text = "no demand forecast" if cover is None else f"{cover:.1f} days of cover"
    if rule.strategy == PricingStrategy.RAISE_LOW_COVER:
        if cover is not None and cover < rule.cover_days:
            return price * (1 + step), f"{cover_text}, under {rule.cover_days}: raise"
        return price, f"{cover_text}: hold"
    if rule.strategy == PricingStrategy.MARKDOWN_AGEING:
        if signals["available"] > 0 and (cover is None or cover > rule.cover_days):
            return price * (1 - step), f"{cover_text}, over {rule.cover_days}: mark down"
        return price, f"{cover_text}: hold"
    expected = signals["mean_daily"] * 7
    actual = signals["last_week"]
    if expected > 0 and actual > expected * 1.1:
        return price * (1 + step), f"sold {actual:g} last week against {expected:.1f} forecast"
    if expected > 0 and actual < expected * 0.9:
        return price * (1 - step), f"sold {actual:g} last week against {expected:.1f} forecast"
    return price, "demand in line with the forecast: hold"


def _signals(variant_ids: list[int]) -> dict[int, dict]:
    signals = {v: {"available": 0, "mean_daily": 0.0, "last_week": 0.0} for v in variant_ids}
    for fc in DemandForecast.objects.filter(stock__variant_id__in=variant_ids).select_related(
        "stock"
    ):
        s = signals[fc.stock.variant_id]
        s["available"] += fc.available
        s["mean_daily"] += float(fc.mean_daily)
        s["last_week"] += sum(units for _, units in fc.history[-7:])
    return signals


def _day_open_prices(variant_ids: list[int], today: datetime.date) -> dict[int, Decimal]:
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time()))
    opens: dict[int, Decimal] = {}
    for change in PriceChange.objects.filter(
        variant_id__in=variant_ids, created_at__gte=start
    ).order_by("created_at", "id"):
        opens.setdefault(change.variant_id, change.old_price)
    return opens


def _held(variant_ids: list[int]) -> set[int]:
    return set(
        Reservation.objects.filter(
            stock__variant_id__in=variant_ids, expires_at__gt=timezone.now()
        ).values_list("stock__variant_id", flat=True)
    )


def _rule_targets(rules: list[PricingRule], seller: Seller) -> list[tuple[PricingRule, Any]]:
    """(rule, variant) pairs: a variant's own rule, else the rule of the deepest category of
    its product's category path that has one (a variant whose own rule is paused is left
    alone). Two queries whatever the number of rules."""
    pairs = [(rule, rule.variant) for rule in rules if rule.variant_id is not None]
    by_path = sorted(
        ((rule.category.path, rule) for rule in rules if rule.category is not None),
        key=lambda item: -len(item[0]),
    )
    if by_path:
        prefixes = Q()
        for path, _rule in by_path:
            prefixes |= Q(product__category__path__startswith=path)
        variants = (
            ProductVariant.objects.filter(
                prefixes, variant_active_condition(), product__seller=seller
            )
            .filter(pricing_rule__isnull=True)  # a variant's own rule, even paused, wins
            .select_related("product__category")
            .order_by("pk")
        )
        for variant in variants:
            rule = next(r for path, r in by_path if variant.product.category.path.startswith(path))
            pairs.append((rule, variant))
    return pairs


def pricing_preview(*, seller: Seller) -> list[PriceProposal]:
    """What applying the seller's active rules now would do, and why."""
    rules = list(
        PricingRule.objects.filter(seller=seller, is_active=True)
        .select_related("variant__product", "category")
        .order_by("pk")
    )
    targets = _rule_targets(rules, seller)
    variant_ids = [variant.pk for _, variant in targets]
    signals = _signals(variant_ids)
    opens = _day_open_prices(variant_ids, timezone.localdate())
    held = _held(variant_ids)
    costs = variant_cost_prices(variant_ids=variant_ids)
    proposals = []
    for rule, variant in targets:
        price = variant.price
        target, why = _target(rule, price, signals[variant.pk])
        bounds = PriceBounds(
            floor=rule_floor(rule=rule, cost=costs.get(variant.pk)),
            ceiling=rule.ceiling_price,
            max_change_percent=rule.max_change_percent,
        )
        proposed = price_target_clamp(
            bounds=bounds, day_open_price=opens.get(variant.pk, price), target=target
        )
        if proposed != target.quantize(CENT) and proposed != price:
            why += f"; held within the day's band and [{bounds.floor}, {bounds.ceiling}]"
        blocked = (
            "held in an open checkout: tried again next run"
            if variant.pk in held and proposed != price
            else ""
        )
        proposals.append(PriceProposal(rule, variant, price, proposed, why, blocked))
    return proposals


def _apply_one(proposal: PriceProposal, actor) -> PriceChange | None:
    rule = proposal.rule
    with transaction.atomic():
        stock_ids = Stock.objects.filter(variant_id=proposal.variant.pk).values_list(
            "pk", flat=True
        )
        list(inventory_locks.stocks_lock(stock_ids=list(stock_ids)))
        variant = ProductVariant.objects.select_for_update().get(pk=proposal.variant.pk)
        if variant.price != proposal.current or _held([variant.pk]):
            return None  # moved or held since the preview: the next run looks again
        try:
            with transaction.atomic():
                variant_update(
                    variant=variant,
                    sku=variant.sku,
                    price=proposal.proposed,
                    name=variant.name,
                    compare_at_price=variant.compare_at_price,
                    is_active=variant.is_active,
                )
        except ServiceError:
            return None  # e.g. a scheduled sale or compare-at price the new price would cross
        return PriceChange.objects.create(
            seller_id=rule.seller_id,
            variant=variant,
            rule=rule,
            old_price=proposal.current,
            new_price=proposal.proposed,
            reason=proposal.reason[:300],
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )


def pricing_apply(*, seller: Seller, actor=None) -> list[PriceChange]:
    """Apply the preview: each changing, unblocked proposal in its own transaction."""
    changes = []
    for proposal in pricing_preview(seller=seller):
        if proposal.changes:
            change = _apply_one(proposal, actor)
            if change is not None:
                changes.append(change)
    return changes


def pricing_apply_all() -> int:
    """Beat: apply every seller's active rules. Returns the number of prices changed."""
    seller_ids = (
        PricingRule.objects.filter(is_active=True).values_list("seller_id", flat=True).distinct()
    )
    total = 0
    for seller in Seller.objects.filter(pk__in=list(seller_ids)):
        total += len(pricing_apply(seller=seller))
    return total
