"""Portal home (the dashboard) and the performance scorecard page. The figures come from
selectors; this module only shapes them for the templates (the sales chart's geometry is
computed here so the SVG is rendered server-side, without JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from fulfilment.selectors import returns_open_for_seller
from inventory.selectors import stock_low_for_seller
from orders.selectors import (
    SalesSummary,
    seller_orders_to_ship,
    seller_orders_to_ship_counts,
    seller_sales_by_day,
)
from orders.services.payouts import seller_balance
from sellers.models import SellerMember
from sellers.portal.views import _ctx, portal_view
from sellers.scorecard import seller_scorecard
from sellers.selectors import member_can

PANEL_ROWS = 10
CHART_WIDTH = 600
CHART_HEIGHT = 160
CHART_LEFT = 8  # room so the first bar's outline is not clipped
BAR_GAP = 2


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str


def sales_chart_bars(summary: SalesSummary) -> list[Bar]:
    """One bar per day scaled to the best day; a zero day is a 1px baseline mark."""
    peak = max((d.total for d in summary.days), default=Decimal("0"))
    slot = (CHART_WIDTH - CHART_LEFT) // len(summary.days)
    bars = []
    for index, day in enumerate(summary.days):
        height = int(day.total * CHART_HEIGHT / peak) if peak else 0
        height = max(height, 1)
        bars.append(
            Bar(
                x=CHART_LEFT + index * slot,
                y=CHART_HEIGHT - height,
                width=slot - BAR_GAP,
                height=height,
                label=f"{day.day:%a %-d %b}: {summary.currency} {day.total} "
                f"({day.orders} order{'s' if day.orders != 1 else ''})",
            )
        )
    return bars


@portal_view("view")
def home(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    seller = membership.seller
    now = timezone.now()
    low_stock = stock_low_for_seller(seller=seller, now=now)
    returns_open = returns_open_for_seller(seller=seller)
    extra: dict[str, object] = {
        "to_ship": seller_orders_to_ship(seller=seller, now=now)[:PANEL_ROWS],
        "to_ship_counts": seller_orders_to_ship_counts(seller=seller, now=now),
        "low_stock": low_stock[:PANEL_ROWS],
        "low_stock_count": low_stock.count(),
        "returns_open": returns_open[:PANEL_ROWS],
        "returns_open_count": returns_open.count(),
        "panel_rows": PANEL_ROWS,
        "show_money": member_can(membership=membership, action="finance"),
        "time_zone": timezone.get_current_timezone_name(),
    }
    if extra["show_money"]:
        sales = seller_sales_by_day(seller=seller, now=now)
        extra |= {
            "sales": sales,
            "bars": sales_chart_bars(sales),
            "chart_width": CHART_WIDTH,
            "chart_height": CHART_HEIGHT,
            "peak_day": max(sales.days, key=lambda d: d.total),
            "balance": seller_balance(seller=seller, now=now),
        }
    return render(request, "portal/home.html", _ctx(request, membership, **extra))


@portal_view("view")
def scorecard(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    cards = seller_scorecard(seller_id=membership.seller_id)
    return render(
        request,
        "portal/scorecard.html",
        _ctx(request, membership, cards=cards),
    )
