"""The arithmetic of replenishment and of price moves, as pure functions (no database), so the
rules are stated once and tested against hand-computed tables and property tests.

Reorder (continuous review, order-up-to):
    z              = inverse normal CDF of the service level (0.95 -> 1.645)
    sigma_LT       = sqrt(L * sigma_d^2 + d^2 * sigma_L^2)   demand error over the lead time
    safety stock   = ceil(z * sigma_LT)
    reorder point  = ceil(d * L) + safety stock
    order-up-to    = reorder point + ceil(d * review days)
    position       = available + incoming
    quantity       = order-up-to - position, when position < reorder point; then raised to the
                     minimum order quantity and rounded up to whole case packs.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from statistics import NormalDist

CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReorderAdvice:
    safety_stock: int
    reorder_point: int
    order_up_to: int
    quantity: int
    reorder_by: datetime.date | None
    reason: str


def order_quantity_round(*, quantity: int, min_order_quantity: int, case_pack: int) -> int:
    """At least the MOQ, in whole case packs (0 stays 0)."""
    if quantity <= 0:
        return 0
    quantity = max(quantity, min_order_quantity)
    return math.ceil(quantity / case_pack) * case_pack


def reorder_advise(
    *,
    mean_daily: float,
    sigma_daily: float,
    lead_time_days: int,
    lead_time_sd_days: float,
    service_level: float,
    review_days: int,
    available: int,
    incoming: int,
    min_order_quantity: int = 1,
    case_pack: int = 1,
    today: datetime.date,
) -> ReorderAdvice:
    d, L = max(mean_daily, 0.0), max(lead_time_days, 0)
    z = NormalDist().inv_cdf(service_level)
    sigma_lt = math.sqrt(L * sigma_daily**2 + d**2 * lead_time_sd_days**2)
    # a tiny epsilon keeps float noise (2.0000000001) from adding a unit
    safety = max(math.ceil(z * sigma_lt - 1e-9), 0)
    rop = math.ceil(d * L - 1e-9) + safety
    up_to = rop + math.ceil(d * review_days - 1e-9)
    position = available + incoming
    if d == 0 and rop == 0:
        return ReorderAdvice(safety, rop, up_to, 0, None, "No demand forecast: nothing to order.")
    if position < rop:
        quantity = order_quantity_round(
            quantity=up_to - position, min_order_quantity=min_order_quantity, case_pack=case_pack
        )
        reason = (
            f"Available {available} + incoming {incoming} = {position} is below the reorder "
            f"point {rop} ({d:.2f}/day x {L} days lead time + safety stock {safety}); ordering "
            f"up to {up_to}"
        )
        if quantity != up_to - position:
            reason += f" ({up_to - position} rounded to MOQ {min_order_quantity}, case {case_pack})"
        return ReorderAdvice(safety, rop, up_to, quantity, today, reason + ".")
    days_left = math.floor((position - rop) / d) if d > 0 else None
    reorder_by = today + datetime.timedelta(days=days_left) if days_left is not None else None
    reason = f"Position {position} is at or above the reorder point {rop}."
    return ReorderAdvice(safety, rop, up_to, 0, reorder_by, reason)


def days_of_cover(*, available: int, mean_daily: float) -> float | None:
    return available / mean_daily if mean_daily > 0 else None


@dataclass(frozen=True)
class PriceBounds:
    floor: Decimal
    ceiling: Decimal
    max_change_percent: Decimal


def price_band(*, bounds: PriceBounds, day_open_price: Decimal) -> tuple[Decimal, Decimal]:
    """Where a price may go today: within [floor, ceiling] and within max_change_percent of the
    day's opening price. When the opening price lies outside [floor, ceiling] (the seller moved
    it by hand), the bounds win: the band is the nearest edge."""
    step = day_open_price * bounds.max_change_percent / 100
    low = (day_open_price - step).quantize(CENT, rounding=ROUND_CEILING)
    high = (day_open_price + step).quantize(CENT, rounding=ROUND_FLOOR)
    low, high = max(low, bounds.floor), min(high, bounds.ceiling)
    if low > high:
        edge = bounds.floor if day_open_price < bounds.floor else bounds.ceiling
        return edge, edge
    return low, high


def price_target_clamp(*, bounds: PriceBounds, day_open_price: Decimal, target: Decimal) -> Decimal:
    low, high = price_band(bounds=bounds, day_open_price=day_open_price)
    return min(max(target.quantize(CENT, rounding=ROUND_HALF_UP), low), high)
