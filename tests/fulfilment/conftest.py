from __future__ import annotations

import uuid

import pytest

from orders.models import FraudStatus, Order
from orders.services import order_place
from tests.factories import SellerMemberFactory, UserFactory
from tests.orders.conftest import Market


class Placed:
    """A paid order of two sellers: alpha sells a1 x2 and a2 x1 (each from its own warehouse),
    beta sells b1 x1; the fraud check approved it."""

    def __init__(self, market: Market, *, approve: bool = True) -> None:
        self.market = market
        self.customer = UserFactory()
        self.order = order_place(
            checkout=market.ready_checkout(
                user=self.customer, lines=[(market.a1, 2), (market.a2, 1), (market.b1, 1)]
            ),
            payment_token="tok_visa",
        )
        if approve:
            Order.objects.filter(pk=self.order.pk).update(fraud_status=FraudStatus.APPROVED)
        self.alpha_order = self.order.seller_orders.get(seller=market.alpha)
        self.beta_order = self.order.seller_orders.get(seller=market.beta)
        lines = {line.variant_id: line for line in self.order.lines.all()}
        self.a1_line, self.a2_line, self.b1_line = (
            lines[market.a1.pk],
            lines[market.a2.pk],
            lines[market.b1.pk],
        )
        self.stock = market.stocks
        self.w_a1 = market.stocks[market.a1.pk].warehouse
        self.w_a2 = market.stocks[market.a2.pk].warehouse
        self.w_b1 = market.stocks[market.b1.pk].warehouse
        self.alpha_user = SellerMemberFactory(seller=market.alpha, role="owner").user
        self.beta_user = SellerMemberFactory(seller=market.beta, role="owner").user

    def refresh(self):
        for name in ("order", "alpha_order", "beta_order"):
            getattr(self, name).refresh_from_db()


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def market(db):
    return Market()


@pytest.fixture
def placed(market):
    return Placed(market)


@pytest.fixture
def easypost_server():
    """A fake EasyPost API on 127.0.0.1 (tests/fulfilment/easypost_fake); the test fails if the
    fake crashed while answering."""
    from tests.fulfilment.easypost_fake import FakeEasyPostServer

    with FakeEasyPostServer() as server:
        yield server
    assert not server.internal_errors, "\n".join(server.internal_errors)


@pytest.fixture
def easypost(easypost_server, settings):
    """EASYPOST_API_KEY and EASYPOST_API_BASE pointed at the fake: EasyPost is offered."""
    settings.EASYPOST_API_KEY = easypost_server.api_key
    settings.EASYPOST_API_BASE = easypost_server.api_base
    return easypost_server
