"""The replenishment and price arithmetic against hand-computed cases, and price rules under
Hypothesis: whatever the inputs, a price never leaves [floor, ceiling] nor moves more than the
day's allowance when the opening price lies within the bounds."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from purchasing.policy import (
    PriceBounds,
    order_quantity_round,
    price_band,
    price_target_clamp,
    reorder_advise,
)

TODAY = datetime.date(2026, 12, 7)


# d, sigma_d, L, sigma_L, service level, review -> safety stock, reorder point, order-up-to
# worked by hand:
#   1: sigma_LT = sqrt(4*3^2) = 6; 1.6449*6 = 9.87 -> 10; ROP = 10*4 + 10 = 50; +10*7 -> 120
#   2: sigma_LT = sqrt(2^2*2^2) = 4; 1.6449*4 = 6.58 -> 7; ROP = 2*10 + 7 = 27; +2*7 -> 41
#   3: sigma_LT = sqrt(9*2^2 + 5^2*1^2) = sqrt(61) = 7.810; 2.3263*7.810 = 18.17 -> 19;
#      ROP = 5*9 + 19 = 64; +5*7 -> 99
#   4: sigma_LT = sqrt(7*1^2) = 2.646; 1.2816*2.646 = 3.39 -> 4; ROP = ceil(3.5) + 4 = 8;
#      +ceil(0.5*7) -> 12
HAND_TABLE = [
    (10, 3, 4, 0, 0.95, 7, 10, 50, 120),
    (2, 0, 10, 2, 0.95, 7, 7, 27, 41),
    (5, 2, 9, 1, 0.99, 7, 19, 64, 99),
    (0.5, 1, 7, 0, 0.90, 7, 4, 8, 12),
]


@pytest.mark.parametrize("d,sd,lt,lt_sd,sl,review,ss,rop,up_to", HAND_TABLE)
def test_safety_stock_and_reorder_point_match_the_hand_computed_table(
    d, sd, lt, lt_sd, sl, review, ss, rop, up_to
):
    advice = reorder_advise(
        mean_daily=d,
        sigma_daily=sd,
        lead_time_days=lt,
        lead_time_sd_days=lt_sd,
        service_level=sl,
        review_days=review,
        available=10_000,
        incoming=0,
        today=TODAY,
    )
    assert (advice.safety_stock, advice.reorder_point, advice.order_up_to) == (ss, rop, up_to)
    assert advice.quantity == 0


def test_order_below_the_reorder_point_rounds_up_to_moq_and_case_pack():
    # position 30 + 5 = 35 < ROP 50; up to 120 - 35 = 85 -> MOQ 100 -> 9 cases of 12 = 108
    advice = reorder_advise(
        mean_daily=10,
        sigma_daily=3,
        lead_time_days=4,
        lead_time_sd_days=0,
        service_level=0.95,
        review_days=7,
        available=30,
        incoming=5,
        min_order_quantity=100,
        case_pack=12,
        today=TODAY,
    )
    assert advice.quantity == 108
    assert advice.reorder_by == TODAY
    assert "below the reorder point 50" in advice.reason


def test_at_the_reorder_point_nothing_is_ordered_and_the_date_is_projected():
    at = reorder_advise(
        mean_daily=10, sigma_daily=3, lead_time_days=4, lead_time_sd_days=0,
        service_level=0.95, review_days=7, available=50, incoming=0, today=TODAY,
    )  # fmt: skip
    assert at.quantity == 0 and at.reorder_by == TODAY
    later = reorder_advise(
        mean_daily=10, sigma_daily=3, lead_time_days=4, lead_time_sd_days=0,
        service_level=0.95, review_days=7, available=45, incoming=30, today=TODAY,
    )  # fmt: skip
    assert later.quantity == 0 and later.reorder_by == TODAY + datetime.timedelta(days=2)


@given(
    quantity=st.integers(min_value=1, max_value=10_000),
    moq=st.integers(min_value=1, max_value=500),
    case=st.integers(min_value=1, max_value=48),
)
def test_order_quantities_always_respect_moq_and_case_pack(quantity, moq, case):
    rounded = order_quantity_round(quantity=quantity, min_order_quantity=moq, case_pack=case)
    assert rounded >= quantity and rounded >= moq and rounded % case == 0
    assert rounded - case < max(quantity, moq)  # the smallest such quantity


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("10000"), places=2)


@given(
    floor=money,
    spread=st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2),
    open_price=money,
    target=st.decimals(min_value=Decimal("0"), max_value=Decimal("30000"), places=2),
    max_change=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2),
)
def test_prices_never_cross_floor_or_ceiling_nor_the_daily_allowance(
    floor, spread, open_price, target, max_change
):
    bounds = PriceBounds(floor=floor, ceiling=floor + spread, max_change_percent=max_change)
    price = price_target_clamp(bounds=bounds, day_open_price=open_price, target=target)
    assert bounds.floor <= price <= bounds.ceiling
    if bounds.floor <= open_price <= bounds.ceiling:
        assert abs(price - open_price) <= open_price * max_change / 100
    low, high = price_band(bounds=bounds, day_open_price=open_price)
    assert low <= price <= high
