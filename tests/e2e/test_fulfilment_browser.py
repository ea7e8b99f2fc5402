"""Fulfilment in a real browser: a seller ships an order in the portal, the shopper sees the
tracking timeline on the order page and asks for a return, the seller approves and receives it
(restocked, refunded). Headless Debian Chromium via Playwright (never `playwright install`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from fulfilment.models import ReturnStatus
from fulfilment.services import shipments_track
from inventory.models import Stock
from payments.models import Refund
from tests.fulfilment.conftest import Placed
from tests.orders.conftest import Market

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _context(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def test_seller_ships_shopper_tracks_and_returns_seller_receives(live_server, browser, settings):
    settings.FULFILMENT_SIMULATED_STEP_SECONDS = 1
    placed = Placed(Market())
    seller = _context(browser, live_server, placed.alpha_user)

    seller.goto(f"{live_server.url}/seller/orders/?view=new")
    seller.click(f"text={placed.order.number}")
    seller.select_option("#id_warehouse", str(placed.w_a1.pk))
    seller.select_option("#id_carrier", "sim")
    seller.fill("#id_tracking_number", "SIM000123")
    seller.fill(f"#id_qty_{placed.a1_line.pk}", "2")
    seller.click("button:has-text('Ship')")
    seller.wait_for_selector("text=Shipped 2 units: SIM000123")
    assert seller.locator("[data-status]").inner_text() == "Partially shipped"

    shipments_track(now=timezone.now() + timedelta(minutes=1))  # the beat's run

    shopper = _context(browser, live_server, placed.customer)
    shopper.goto(f"{live_server.url}/orders/{placed.order.number}/")
    timeline = shopper.locator("ol[aria-label='Tracking of SIM000123']").inner_text()
    assert "In transit" in timeline and "Out for delivery" in timeline and "Delivered" in timeline
    shopper.click("summary:has-text('Return items')")
    shopper.fill(f"#ret-{placed.a1_line.pk}", "1")
    shopper.fill(f"#ret-reason-{placed.alpha_order.pk}", "Too small")
    shopper.click("button:has-text('Request a return')")
    shopper.wait_for_selector("text=requested. The seller will answer by email.")
    assert shopper.locator("[data-return-status]").inner_text() == "Requested"

    seller.goto(f"{live_server.url}/seller/orders/?view=returns")
    seller.click(f"text={placed.order.number}")
    seller.click("button:has-text('Approve')")
    seller.wait_for_selector("text=approved.")
    seller.click("button:has-text('Received: refund')")
    seller.wait_for_selector("text=received; the refund is on its way.")

    returned = placed.alpha_order.returns.get()
    assert returned.status == ReturnStatus.RECEIVED
    assert Stock.objects.get(pk=placed.stock[placed.market.a1.pk].pk).on_hand == 9
    assert Refund.objects.get().amount == placed.a1_line.total / 2
    shopper.reload()
    assert shopper.locator("[data-return-status]").inner_text() == "Received and refunded"


NO_OVERFLOW = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def test_fulfilment_pages_fit_a_phone(live_server, browser):
    from tests.factories.inventory import stock_with

    market = Market()
    placed = Placed(market)
    stock_with(variant=market.a1, warehouse=placed.w_a2, on_hand=3)  # something to re-route to
    seller = _context(browser, live_server, placed.alpha_user)
    seller.set_viewport_size({"width": 360, "height": 800})
    wide = []
    for path in (
        "/seller/orders/",
        f"/seller/orders/{placed.alpha_order.pk}/",
        "/seller/orders/ship-csv/",
        "/seller/",
    ):
        seller.goto(f"{live_server.url}{path}")
        if not seller.evaluate(NO_OVERFLOW):
            wide.append(path)
    shopper = _context(browser, live_server, placed.customer)
    shopper.set_viewport_size({"width": 360, "height": 800})
    shopper.goto(f"{live_server.url}/orders/{placed.order.number}/")
    if not shopper.evaluate(NO_OVERFLOW):
        wide.append("order page")
    assert wide == []
