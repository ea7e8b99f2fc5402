"""Every page of the seller portal fits a 360 px phone: nothing scrolls sideways (long names in
tables and filter selects included)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from sellers.models import MemberRole
from tests.factories import ProductFactory, ProductVariantFactory, SellerMemberFactory
from tests.factories.inventory import WarehouseFactory, stock_with
from tests.factories.orders import ShippingMethodFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NO_OVERFLOW = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
PAGES = [
    "portal:home",
    "portal:scorecard",
    "portal:products",
    "portal:product_new",
    "portal:catalog_csv",
    "portal:shipping",
    "portal:shipping_new",
    "portal:stock",
    "portal:stock_receive",
    "portal:warehouses",
    "portal:warehouse_new",
    "portal:movements",
    "portal:inbound",
    "portal:inbound_new",
    "portal:members",
    "portal:settings",
    "portal:finance",
    "portal:ledger",
    "portal:payouts",
]


def test_portal_pages_fit_a_phone(live_server, browser):
    owner = SellerMemberFactory(role=MemberRole.OWNER)
    warehouse = WarehouseFactory(
        seller=owner.seller, name="A warehouse with a rather long name on the outskirts of town"
    )
    for n in range(3):
        variant = ProductVariantFactory(
            product=ProductFactory(
                seller=owner.seller, name=f"Extraordinarily long product name {n}"
            )
        )
        stock_with(variant=variant, warehouse=warehouse, on_hand=2)
    ShippingMethodFactory(seller=owner.seller, name="Standard delivery (three to five days)")
    signed_in = Client()
    signed_in.force_login(owner.user)
    session = signed_in.cookies[django_settings.SESSION_COOKIE_NAME].value

    context = browser.new_context(viewport={"width": 360, "height": 800})
    context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page = context.new_page()
    wide = []
    for name in PAGES:
        page.goto(f"{live_server.url}{reverse(name)}")
        assert "/accounts/login/" not in page.url, name
        if not page.evaluate(NO_OVERFLOW):
            wide.append(name)
    assert wide == []
