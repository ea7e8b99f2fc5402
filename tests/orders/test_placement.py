"""Placement: idempotent, re-validated, all-or-nothing; cancellation and expiry give stock
back. Concurrency tests live in test_concurrency.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from cart.models import CartStatus
from cart.services import cart_line_update
from catalog.models import ProductStatus
from inventory.models import Stock
from orders.models import CheckoutStatus, Order, OrderEvent, OrderLine, OrderStatus, SellerOrder
from orders.services import (
    PaymentFailed,
    order_cancel,
    order_place,
    order_transition,
    orders_expire_unpaid,
)
from orders.services.transitions import IllegalTransition
from payments.gateways.test import DECLINE_TOKEN, PENDING_TOKEN, TestGateway
from payments.models import Payment
from shop.core.errors import Conflict, ValidationError
from tests.factories.orders import VoucherFactory

pytestmark = pytest.mark.django_db


def counters(market, variant):
    stock = Stock.objects.get(pk=market.stocks[variant.pk].pk)
    return stock.on_hand, stock.reserved, stock.allocated


def test_placement_creates_one_order_split_per_seller_with_copied_prices(market):
    checkout = market.ready_checkout()
    order = order_place(checkout=checkout, payment_token="tok_visa")

    assert order.status == OrderStatus.PAID
    # alpha: 2 x 10 + 5 = 25, tax 4.75, ship 4; beta: 20, tax 3.80, ship 6
    assert (order.subtotal, order.tax_total, order.shipping_total) == (
        Decimal("45.00"),
        Decimal("8.55"),
        Decimal("10.00"),
    )
    assert order.total == Decimal("63.55")
    seller_orders = {so.seller_id: so for so in order.seller_orders.all()}
    assert seller_orders[market.alpha.pk].total == Decimal("33.75")
    assert seller_orders[market.beta.pk].total == Decimal("29.80")
    assert all(so.status == OrderStatus.PAID for so in seller_orders.values())
    line = OrderLine.objects.get(order=order, variant=market.a1)
    assert (line.quantity, line.unit_price, line.tax) == (2, Decimal("10.00"), Decimal("3.80"))
    # the hold became an allocation
    assert counters(market, market.a1) == (10, 0, 2)
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PLACED
    assert checkout.cart.status == CartStatus.CONVERTED
    # history does not move when the catalogue does
    market.a1.price = Decimal("99.00")
    market.a1.save()
    line.refresh_from_db()
    assert line.unit_price == Decimal("10.00")
    events = list(OrderEvent.objects.filter(order=order, seller_order=None))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", "pending_payment"),
        ("pending_payment", "paid"),
    ]


def test_second_submit_of_the_same_checkout_returns_the_same_order(market):
    checkout = market.ready_checkout()
    first = order_place(checkout=checkout, payment_token="tok_visa")
    second = order_place(checkout=checkout, payment_token="tok_visa")
    assert first.pk == second.pk
    assert Order.objects.count() == 1
    assert counters(market, market.a1) == (10, 0, 2)


def test_declined_payment_creates_nothing_and_keeps_the_hold(market):
    checkout = market.ready_checkout()
    with pytest.raises(PaymentFailed, match="declined"):
        order_place(checkout=checkout, payment_token=DECLINE_TOKEN)
    assert Order.objects.count() == 0
    assert counters(market, market.a1) == (10, 2, 0)


def test_total_changed_since_review_is_refused_without_changes(market):
    checkout = market.ready_checkout()
    with pytest.raises(Conflict, match=r"63\.55"):
        order_place(checkout=checkout, payment_token="tok_visa", expected_total=Decimal("1.00"))
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "change",
    ["sale_price", "tax_rate", "shipping_price", "promotion", "region_tax_rate"],
)
def test_a_pricing_rule_changed_after_review_is_charged_never_stale(market, change):
    """Placement re-prices from the database every time (no pricing rule is cached): a change
    of any rule after the review refuses the reviewed total with 409 and names the new one,
    and placing at the new total charges it."""
    from catalog.models import VariantSalePrice
    from orders.services.placement import checkout_price
    from pricing.models import ShippingMethod, TaxRate
    from tests.factories.orders import PromotionFactory, TaxRateFactory

    checkout = market.ready_checkout()
    reviewed = checkout_price(checkout=checkout).total
    if change == "sale_price":
        VariantSalePrice.objects.create(
            variant=market.a1, sale_price=Decimal("9.00"), starts_at=timezone.now()
        )
    elif change == "tax_rate":
        TaxRate.objects.filter(country="DE").update(rate=Decimal("0.07"))
    elif change == "shipping_price":
        ShippingMethod.objects.filter(pk=market.ship_beta.pk).update(price=Decimal("6.50"))
    elif change == "promotion":
        PromotionFactory(product=market.b1.product, value=Decimal("10"))
    else:
        checkout.shipping_address.region = "BY"
        checkout.shipping_address.save(update_fields=["region"])
        TaxRateFactory(country="DE", region="by", rate=Decimal("0.20"))
    fresh = checkout_price(checkout=checkout).total
    assert fresh != reviewed
    with pytest.raises(Conflict, match=str(fresh).replace(".", r"\.")):
        order_place(checkout=checkout, payment_token="tok_visa", expected_total=reviewed)
    assert Order.objects.count() == 0
    assert (
        order_place(checkout=checkout, payment_token="tok_visa", expected_total=fresh).total
        == fresh
    )


def test_product_withdrawn_before_placement_is_refused(market):
    checkout = market.ready_checkout()
    market.b1.product.status = ProductStatus.ARCHIVED
    market.b1.product.save()
    with pytest.raises(ValidationError, match="no longer sold"):
        order_place(checkout=checkout, payment_token="tok_visa")
    assert Order.objects.count() == 0


def test_stock_gone_after_hold_lapsed_fails_cleanly(market):
    checkout = market.ready_checkout(lines=[(market.a1, 3)])
    Stock.objects.filter(pk=market.stocks[market.a1.pk].pk).update(reserved=0)
    from inventory.models import Reservation

    Reservation.objects.all().delete()
    Stock.objects.filter(pk=market.stocks[market.a1.pk].pk).update(allocated=9)
    with pytest.raises(Exception) as excinfo:
        order_place(checkout=checkout, payment_token="tok_visa")
    assert getattr(excinfo.value, "code", "") in {"insufficient_stock", "reservation_expired"}
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0


def test_voucher_is_redeemed_once_and_used_up_code_is_refused(market):
    VoucherFactory(code="ONCE", usage_limit=1)
    first = market.ready_checkout()
    first.cart.voucher_code = "ONCE"
    first.cart.save()
    order = order_place(checkout=first, payment_token="tok_visa")
    assert order.discount_total == Decimal("4.50")
    assert order.voucher_redemption.amount == Decimal("4.50")

    second = market.ready_checkout()
    second.cart.voucher_code = "ONCE"
    second.cart.save()
    with pytest.raises(ValidationError, match="used up"):
        order_place(checkout=second, payment_token="tok_visa")
    assert Order.objects.count() == 1


def test_a_cancelled_order_gives_its_voucher_use_back(market):
    from pricing.models import Voucher
    from tests.factories import UserFactory

    VoucherFactory(code="ONCE", usage_limit=1, per_customer_limit=1)
    customer = UserFactory()
    first = market.ready_checkout(user=customer)
    first.cart.voucher_code = "ONCE"
    first.cart.save()
    order = order_place(checkout=first, payment_token="tok_visa")
    assert Voucher.objects.get(code="ONCE").times_used == 1

    order_cancel(order=order, reason="Changed my mind.")
    voucher = Voucher.objects.get(code="ONCE")
    assert voucher.times_used == 0
    order.voucher_redemption.refresh_from_db()
    assert order.voucher_redemption.released_at is not None  # kept as a record

    # the same customer may use it again: neither limit counts the cancelled order
    again = market.ready_checkout(user=customer)
    again.cart.voucher_code = "ONCE"
    again.cart.save()
    assert order_place(checkout=again, payment_token="tok_visa").discount_total == Decimal("4.50")
    assert Voucher.objects.get(code="ONCE").times_used == 1


def test_customer_cancel_releases_stock_and_emails(
    market, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    assert mail.outbox[-1].subject == f"Your order {order.number} is confirmed"
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, by=order.user, reason="Changed my mind")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert set(SellerOrder.objects.filter(order=order).values_list("status", flat=True)) == {
        "cancelled"
    }
    assert counters(market, market.a1) == (10, 0, 0)
    assert mail.outbox[-1].subject == f"Your order {order.number} was cancelled"
    assert OrderEvent.objects.filter(order=order, to_status="cancelled", actor=order.user).exists()


def test_shipped_order_cannot_be_cancelled(market):
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    so = order.seller_orders.first()
    order_transition(order=order, seller_order=so, to=OrderStatus.PROCESSING)
    order_transition(order=order, seller_order=so, to=OrderStatus.SHIPPED)
    with pytest.raises(ValidationError, match="already shipped"):
        order_cancel(order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert counters(market, market.a1)[2] == 2


def test_illegal_transition_is_refused_and_not_recorded(market):
    order = order_place(checkout=market.ready_checkout(), payment_token="tok_visa")
    events = OrderEvent.objects.count()
    with pytest.raises(IllegalTransition):
        order_transition(order=order, to=OrderStatus.DELIVERED)
    with pytest.raises(IllegalTransition):
        order_transition(order=order, to=OrderStatus.PENDING_PAYMENT)
    assert OrderEvent.objects.count() == events
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def _pending_order(market):
    order = order_place(checkout=market.ready_checkout(), payment_token=PENDING_TOKEN)
    assert order.status == OrderStatus.PENDING_PAYMENT
    return order, Payment.objects.get(order_id=order.pk)


def test_an_unpaid_order_whose_payment_failed_expires_and_releases_stock(market):
    order, payment = _pending_order(market)
    assert orders_expire_unpaid() == 0  # not due yet
    TestGateway().settle(reference=payment.reference, succeed=False)  # the bank returned it
    assert orders_expire_unpaid(now=timezone.now() + timedelta(hours=1)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert counters(market, market.a1) == (10, 0, 0)


def test_a_payment_still_processing_keeps_its_order_and_stock_past_the_due_time(market):
    order, _ = _pending_order(market)
    later = timezone.now() + timedelta(hours=1)
    assert orders_expire_unpaid(now=later) == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.payment_due_at > later
    assert counters(market, market.a1)[2] == 2  # still allocated


def test_a_payment_that_settled_unseen_marks_the_order_paid_at_the_due_time(market):
    order, payment = _pending_order(market)
    TestGateway().settle(reference=payment.reference, succeed=True)  # no webhook came
    assert orders_expire_unpaid(now=timezone.now() + timedelta(hours=1)) == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert orders_expire_unpaid(now=timezone.now() + timedelta(hours=1)) == 0


def test_changing_the_cart_after_checkout_is_priced_at_placement(market):
    checkout = market.ready_checkout(lines=[(market.a1, 1)])
    line = checkout.cart.lines.get()
    cart_line_update(cart=checkout.cart, line_id=line.pk, quantity=3)
    from orders.services import checkout_refresh_hold

    checkout_refresh_hold(checkout=checkout)
    order = order_place(checkout=checkout, payment_token="tok_visa")
    assert order.lines.get().quantity == 3
    assert counters(market, market.a1) == (10, 0, 3)


def test_someone_elses_saved_address_cannot_be_used(market):
    from orders.services import checkout_set_address
    from shop.core.errors import NotFound
    from tests.factories import AddressFactory

    checkout = market.ready_checkout()
    before = checkout.shipping_address_id
    foreign = AddressFactory()  # belongs to another user
    with pytest.raises(NotFound):
        checkout_set_address(checkout=checkout, address_id=foreign.pk)
    checkout.refresh_from_db()
    assert checkout.shipping_address_id == before
