"""Placing, cancelling and expiring orders.

Placement order of work, and why:
1. read and re-validate the checkout and price it fresh (no locks);
2. pay (`payments.services`, no transaction or row lock open, so a slow gateway never blocks
   stock or other shoppers): the checkout's payment for this total is started (or the one in
   flight reused), then confirmed with the method the shopper's device produced, or read back
   when the device confirmed it itself (Stripe.js, the mobile SDKs). Keys derived from our
   payment row make a doubled submission hold money once. A payment that needs the shopper to
   authenticate (3-D Secure) answers PaymentActionRequired and keeps the stock hold; a decline
   answers PaymentFailed and keeps the checkout payable with another method;
3. when the hold lapsed while the shopper paid, take it again (from any warehouse that has the
   stock); if the stock is gone, release the payment and say so;
4. one transaction: lock the checkout row, return its order if one exists (double submit),
   else create the Order, one SellerOrder per seller and the lines, convert the stock hold to
   allocations (locks stock rows in primary-key order inside inventory), redeem the voucher
   with a guarded UPDATE, link the payment to the order, mark the cart converted, and write
   the confirmation email to the outbox (`shop.core.outbox`);
5. if step 4 fails, queue the release of the payment through the outbox, in a transaction of
   its own, and re-raise. The release voids only a payment no order was linked to (a commit
   whose answer was lost may still have placed it), so nothing that happens after a commit
   can unfund a placed order.
Every payment void (a failed placement, a cancellation, an expiry) runs from the outbox as an
idempotent task, never inline: a gateway or broker outage delays it, never loses it.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cart.selectors import cart_lines_to_price
from cart.services import cart_mark_converted
from catalog.selectors import product_is_public
from inventory.services import (
    AllocateLine,
    InsufficientStock,
    stock_allocate_reserved,
    stock_deallocate,
)
from ledger.commission import CommissionLine, commission_amount, commission_terms_for
from ledger.services import Sale, SaleLine, ledger_post_cancellation, ledger_post_sales
from orders.models import (
    Checkout,
    CheckoutStatus,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    SellerOrder,
    VoucherRedemption,
)
from orders.selectors import order_detail_attach, order_get_for_checkout
from orders.services.transitions import CANCELLABLE, order_transition_together
from orders.services.vouchers import voucher_release
from payments.gateways import IntentStatus
from payments.models import Payment
from payments.services import (
    PaymentFailed,
    payment_confirm,
    payment_for_order,
    payment_link_order,
    payment_refresh,
    payment_start,
)
from pricing.models import Voucher
from pricing.totals import Destination, PriceBreakdown, PricingLine, pricing_compute
from shop.core.db import hot_execute, hot_insert, hot_select
from shop.core.errors import Conflict, ErrorCode, ServiceError, ValidationError
from shop.core.outbox import outbox_enqueue, outbox_enqueue_many

logger = logging.getLogger(__name__)

PAYMENT_VOID_TASK = "payments.tasks.payment_void_task"
PAYMENT_RELEASE_UNUSED_TASK = "payments.tasks.payment_release_unused_task"
# every paid order is scored before a seller may ship it (orders.services.fraud)
ORDER_FRAUD_CHECK_TASK = "orders.tasks.order_fraud_check_task"


class PaymentActionRequired(ServiceError):
    """The shopper must authenticate the payment (3-D Secure) before the order is placed:
    `details` carries what a browser or app needs (the payment, its client secret, where a
    browser goes)."""

    code = ErrorCode.PAYMENT_ACTION_REQUIRED
    http_status = 402


def _order_number() -> str:
    return f"{timezone.now():%y%m%d}-{secrets.token_hex(4).upper()}"


def _address_snapshot(checkout: Checkout) -> dict[str, Any]:
    a = checkout.shipping_address
    assert a is not None
    return {
        "full_name": a.full_name,
        "line1": a.line1,
        "line2": a.line2,
        "city": a.city,
        "region": a.region,
        "postal_code": a.postal_code,
        "country": a.country,
        "phone": a.phone,
    }


def checkout_price(*, checkout: Checkout) -> PriceBreakdown:
    """The checkout's totals now, from the cart's current lines (never from the client)."""
    lines = [
        PricingLine(variant_id, quantity, price_at_add)
        for variant_id, quantity, price_at_add in cart_lines_to_price(cart=checkout.cart)
    ]
    if not lines:
        raise ValidationError("Your cart is empty.")
    address = checkout.shipping_address
    return pricing_compute(
        lines=lines,
        destination=Destination(address.country, address.region) if address else None,
        voucher_code=checkout.cart.voucher_code,
        shipping_choices=checkout.shipping_choices,
        customer_email=checkout.email,
        currency=settings.SHOP_CURRENCY,
    )


def _validate_for_placement(checkout: Checkout, expected_total: Decimal | None) -> PriceBreakdown:
    if checkout.shipping_address is None or not checkout.email:
        raise ValidationError("Enter a shipping address and email before placing the order.")
    breakdown = checkout_price(checkout=checkout)
    if breakdown.missing_shipping:
        raise ValidationError("Choose a shipping method for each seller.")
    if breakdown.voucher_error:
        raise ValidationError(
            breakdown.voucher_error, fields={"voucher": [breakdown.voucher_error]}
        )
    gone = [
        line.variant.product.name
        for line in breakdown.lines
        if not line.variant.is_active or not product_is_public(product=line.variant.product)
    ]
    if gone:
        raise ValidationError(
            "Some items are no longer sold: " + ", ".join(gone) + ". Remove them to continue."
        )
    if expected_total is not None and expected_total != breakdown.total:
        raise Conflict(
            f"The total changed to {breakdown.total} {breakdown.currency} since you reviewed "
            "the order. Please review it again.",
            details={"total": str(breakdown.total)},
        )
    return breakdown


def _voucher_redeem(*, order: Order, breakdown: PriceBreakdown) -> None:
    """Count one use with a guarded UPDATE (the row lock it takes serialises concurrent
    redemptions of this voucher); the CHECK constraint backs it up."""
    voucher = breakdown.voucher
    if voucher is None:
        return
    used = Voucher.objects.filter(pk=voucher.pk).filter(
        Q(usage_limit__isnull=True) | Q(times_used__lt=F("usage_limit"))
    )
    if not used.update(times_used=F("times_used") + 1):
        raise ValidationError(f"The code “{voucher.code}” has been used up.")
    if voucher.per_customer_limit is not None:
        previous = VoucherRedemption.objects.filter(
            voucher=voucher, email__iexact=order.email, released_at__isnull=True
        )
        if previous.count() >= voucher.per_customer_limit:
            raise ValidationError(f"You have already used the code “{voucher.code}”.")
    amount = next(d.amount for d in breakdown.discounts if d.source == "voucher")
    VoucherRedemption.objects.create(
        voucher=voucher, order=order, user_id=order.user_id, email=order.email, amount=amount
    )


def _order_create(
    *,
    checkout: Checkout,
    address: dict[str, Any],
    breakdown: PriceBreakdown,
    payment: Payment,
) -> tuple[Order, list[SellerOrder], list[OrderLine], OrderEvent]:
    """Insert the order, its seller orders and lines and the placed event: four INSERTs
    whatever the cart size. Seller orders carry their seller (loaded by pricing)."""
    now = timezone.now()
    order = Order(
        number=_order_number(),
        checkout=checkout,
        user_id=checkout.user_id,
        email=checkout.email,
        currency=breakdown.currency,
        subtotal=breakdown.subtotal,
        discount_total=breakdown.discount_total,
        shipping_total=breakdown.shipping_total,
        tax_total=breakdown.tax_total,
        total=breakdown.total,
        shipping_address=address,
        voucher_code=breakdown.voucher.code if breakdown.voucher else "",
        payment_gateway=payment.gateway,
        payment_reference=payment.reference,
        placed_at=now,
        payment_due_at=(
            now + timedelta(seconds=settings.ORDER_UNPAID_EXPIRY_SECONDS)
            if payment.status == IntentStatus.PROCESSING
            else None
        ),
    )
    hot_insert([order])
    seller_orders = [
        SellerOrder(
            order=order,
            seller_id=seller.seller_id,
            currency=breakdown.currency,
            subtotal=seller.subtotal,
            discount_total=seller.discount,
            shipping_total=seller.shipping,
            tax_total=seller.tax,
            total=seller.total,
            shipping_method_name=seller.shipping_method.name if seller.shipping_method else "",
        )
        for seller in breakdown.sellers
    ]
    hot_insert(seller_orders)
    for seller, seller_order in zip(breakdown.sellers, seller_orders, strict=True):
        seller_order.seller = seller.lines[0].variant.product.seller
    lines = [
        OrderLine(
            order=order,
            seller_order=seller_order,
            variant=price.variant,
            sku=price.variant.sku,
            product_name=price.variant.product.name,
            variant_name=price.variant.name,
            quantity=price.quantity,
            unit_price=price.unit_price,
            subtotal=price.subtotal,
            discount=price.discount,
            tax_rate=price.tax_rate,
            tax=price.tax,
            total=price.total,
        )
        for seller, seller_order in zip(breakdown.sellers, seller_orders, strict=True)
        for price in seller.lines
    ]
    _commission_freeze(lines)
    hot_insert(lines)
    placed = OrderEvent(
        order=order,
        actor_id=checkout.user_id,
        to_status=OrderStatus.PENDING_PAYMENT,
        reason="Order placed.",
    )
    hot_insert([placed])
    return order, seller_orders, lines, placed


def _commission_freeze(lines: list[OrderLine]) -> None:
    """Each line keeps the commission terms that apply now and their amount (on its amount
    before tax): a rule changed later never changes the order (one query)."""
    terms = commission_terms_for(
        lines=[
            CommissionLine(
                seller_id=line.seller_order.seller_id,
                seller_rate=line.seller_order.seller.commission_rate,
                category_path=line.variant.product.category.path
                if line.variant and line.variant.product.category_id
                else "",
            )
            for line in lines
        ]
    )
    for line, term in zip(lines, terms, strict=True):
        line.commission_rate, line.commission_fixed = term.rate, term.fixed
        line.commission = commission_amount(
            terms=term, base=line.total - line.tax, quantity=line.quantity
        )


def order_sales(
    *, order: Order, seller_orders: list[SellerOrder], lines: list[OrderLine]
) -> list[Sale]:
    """What the seller ledger records when an order is paid: per seller order, its lines (with
    their frozen commission) and its shipping."""
    by_seller_order: dict[int, list[OrderLine]] = {}
    for line in lines:
        by_seller_order.setdefault(line.seller_order_id, []).append(line)
    return [
        Sale(
            seller_id=seller_order.seller_id,
            order_id=order.pk,
            order_number=order.number,
            seller_order_id=seller_order.pk,
            currency=seller_order.currency,
            shipping=seller_order.shipping_total,
            lines=tuple(
                SaleLine(
                    order_line_id=line.pk,
                    amount=line.total,
                    commission=line.commission,
                    label=f"{line.quantity} x {line.product_name}"[:200],
                )
                for line in by_seller_order.get(seller_order.pk, [])
            ),
        )
        for seller_order in seller_orders
    ]


_CHECKOUT_PLACED_SQL = (
    f"UPDATE {Checkout._meta.db_table} SET status = %s, updated_at = %s WHERE id = %s"  # noqa: S608
)


def _email_enqueue(order: Order, kind: str) -> None:
    outbox_enqueue(task=ORDER_EMAIL_TASK, kwargs={"order_id": order.pk, "kind": kind})


ORDER_EMAIL_TASK = "orders.tasks.order_email_send_task"


def _placed_order(checkout: Checkout) -> Order | None:
    """The checkout's order, read through the reverse one-to-one (already loaded when the
    checkout came from `checkout_get_for_owner`)."""
    try:
        return checkout.order
    except Order.DoesNotExist:
        return None


def order_place(
    *,
    checkout: Checkout,
    payment_token: str = "",
    payment_id: Any = None,
    expected_total: Decimal | None = None,
    return_url: str = "",
    client_ip: str | None = None,
) -> Order:
    """Pay for the checkout and place its order, or return the order it already placed. Pay
    with `payment_token` (a method the device produced: confirmed here), or name the payment
    the device confirmed itself (`payment_id`, from `checkout_payment_prepare`). A new order
    comes shaped for its detail (`orders.selectors.order_detail_attach`) from the rows just
    written."""
    existing = _placed_order(checkout)
    if existing is not None:
        return existing
    if checkout.status != CheckoutStatus.OPEN:
        raise ValidationError("This checkout is closed. Start again from your cart.")
    breakdown = _validate_for_placement(checkout, expected_total)
    payment = _payment_of(checkout, breakdown, client_ip)
    if payment_id not in (None, "") and str(payment_id) != str(payment.pk):
        raise Conflict(
            "That payment was for another total. Review the order and pay again.",
            details={"payment_id": payment.pk, "total": str(breakdown.total)},
        )
    if not IntentStatus(payment.status).funds_an_order:
        if payment_token:
            payment = payment_confirm(
                payment=payment,
                method=payment_token,
                return_url=return_url or checkout_payment_return_url(checkout=checkout),
            )
        elif payment_id not in (None, ""):
            payment = payment_refresh(payment=payment, kind="returned")
        else:
            raise ValidationError(
                "Choose how to pay.", fields={"payment_token": ["Choose how to pay."]}
            )
    return order_place_paid(checkout=checkout, payment=payment, breakdown=breakdown)


def checkout_payment_return_url(*, checkout: Checkout) -> str:
    """Where the bank's check (3-D Secure) sends a browser back: the storefront's return page,
    which reads the payment and places the order."""
    from django.urls import reverse

    return settings.SITE_URL + reverse("orders:checkout_payment_return", args=[checkout.token])


def _payment_of(checkout: Checkout, breakdown: PriceBreakdown, client_ip: str | None) -> Payment:
    return payment_start(
        checkout_id=checkout.pk,
        amount=breakdown.total,
        currency=breakdown.currency,
        capture_later=settings.PAYMENTS_CAPTURE_LATER,
        user_id=checkout.user_id,
        email=checkout.email,
        client_ip=client_ip,
    )


def checkout_payment_prepare(*, checkout: Checkout, client_ip: str | None = None) -> Payment:
    """The payment a device confirms itself (Stripe's Payment Element or PaymentSheet) for the
    checkout's current total; its client secret goes to the device. The order is then placed
    with `order_place(payment_id=...)` or, if the shopper never comes back, by the webhook."""
    if _placed_order(checkout) is not None:
        raise ValidationError("This checkout's order is placed already.")
    if checkout.status != CheckoutStatus.OPEN:
        raise ValidationError("This checkout is closed. Start again from your cart.")
    breakdown = _validate_for_placement(checkout, None)
    return _payment_of(checkout, breakdown, client_ip)


def order_place_paid(
    *, checkout: Checkout, payment: Payment, breakdown: PriceBreakdown | None = None
) -> Order:
    """Place the checkout's order on a payment the gateway has accepted (authorised, captured
    or processing); the way in for a shopper back from authenticating and for webhooks. Any
    other payment answers why it cannot pay (action required, declined)."""
    existing = _placed_order(checkout)
    if existing is not None:
        return existing
    status = IntentStatus(payment.status)
    if status == IntentStatus.REQUIRES_ACTION:
        _hold_extend(checkout)
        raise PaymentActionRequired(
            "Your bank asks you to confirm this payment.",
            details={"payment_id": payment.pk, "status": payment.status, **_action(payment)},
        )
    if not status.funds_an_order:
        raise PaymentFailed(
            payment.failure_message
            or (
                "The payment was cancelled. Please pay again."
                if status == IntentStatus.CANCELED
                else "The payment is not complete yet. Please pay to place the order."
            ),
            details={"payment_id": payment.pk, "status": payment.status},
        )
    breakdown = breakdown or _validate_for_placement(checkout, None)
    if breakdown.total != payment.amount or breakdown.currency != payment.currency:
        _payment_release_enqueue(payment=payment)
        raise Conflict(
            f"The total changed to {breakdown.total} {breakdown.currency} while you paid "
            f"{payment.amount}; that payment is released. Please review the order again.",
            details={"total": str(breakdown.total)},
        )
    money_taken = status in (IntentStatus.AUTHORISED, IntentStatus.CAPTURED)
    try:
        # money taken: what sold meanwhile is refunded below, the rest is placed
        short = _hold_retake_if_lapsed(checkout, partly=money_taken)
    except InsufficientStock:
        _payment_release_enqueue(payment=payment)
        raise
    address = _address_snapshot(checkout)
    try:
        with transaction.atomic():
            (locked,) = hot_select(Checkout, "WHERE id = %s FOR UPDATE", [checkout.pk])
            # a separate statement after the lock: a join in the locking query would read the
            # order table as of before the wait and miss an order committed meanwhile
            placed_meanwhile = hot_select(Order, "WHERE checkout_id = %s", [locked.pk])
            if placed_meanwhile:
                checkout.order = placed_meanwhile[0]
                return placed_meanwhile[0]
            order, seller_orders, lines, placed = _order_create(
                checkout=locked, address=address, breakdown=breakdown, payment=payment
            )
            stock_allocate_reserved(
                holder=locked.holder,
                order_lines=[
                    # variant_id is set: the lines were just made from live variants
                    AllocateLine(order_line_id=x.pk, variant_id=x.variant_id, quantity=kept)  # type: ignore[arg-type]
                    for x in lines
                    if (kept := x.quantity - short.get(x.variant_id or 0, 0)) > 0
                ],
            )
            _voucher_redeem(order=order, breakdown=breakdown)
            events = [placed]
            if status in (IntentStatus.AUTHORISED, IntentStatus.CAPTURED):
                events += order_transition_together(
                    order=order,
                    seller_orders=seller_orders,
                    to=OrderStatus.PAID,
                    reason=_paid_reason(payment),
                )
                ledger_post_sales(
                    sales=order_sales(order=order, seller_orders=seller_orders, lines=lines)
                )
            payment_link_order(payment=payment, order_id=order.pk)
            if short:
                _sold_meanwhile_refund(order=order, seller_orders=seller_orders, short=short)
            hot_execute(_CHECKOUT_PLACED_SQL, [CheckoutStatus.PLACED, order.placed_at, locked.pk])
            cart_mark_converted(cart_id=locked.cart_id, at=order.placed_at)
            placed_tasks = [(ORDER_EMAIL_TASK, {"order_id": order.pk, "kind": "placed"})]
            if money_taken:  # paid: scored before anyone ships it
                placed_tasks.append((ORDER_FRAUD_CHECK_TASK, {"order_id": order.pk}))
            outbox_enqueue_many(tasks=placed_tasks)
    except Exception:
        _payment_release_enqueue(payment=payment)
        raise
    checkout.status = CheckoutStatus.PLACED
    checkout.order = order
    if short:  # refunds moved statuses: read the detail back
        return order_get_for_checkout(checkout=checkout) or order
    return order_detail_attach(order=order, seller_orders=seller_orders, lines=lines, events=events)


SOLD_MEANWHILE = "Sold out while you paid: refunded automatically."


def _sold_meanwhile_refund(
    *, order: Order, seller_orders: list[SellerOrder], short: dict[int, int]
) -> None:
    """Refund the units sold while the shopper paid (never allocated, so no stock moves), and
    the shipping of a seller order left with nothing to ship; the shopper is told by email."""
    from orders.services.payments import RefundRequest, order_refund

    for seller_order in seller_orders:
        lines = list(seller_order.lines.all())
        requests = [
            RefundRequest(
                order_line_id=line.pk,
                quantity=min(line.quantity, short.get(line.variant_id or 0, 0)),
                allocated=False,
            )
            for line in lines
            if short.get(line.variant_id or 0)
        ]
        if not requests:
            continue
        nothing_left = sum(r.quantity for r in requests) == sum(x.quantity for x in lines)
        seller_order.order = order
        order_refund(
            seller_order=seller_order,
            lines=requests,
            shipping_amount=seller_order.shipping_total if nothing_left else Decimal("0"),
            reason=SOLD_MEANWHILE,
        )
    logger.warning("Order %s placed without units sold meanwhile: %s", order.number, short)


def _paid_reason(payment: Payment) -> str:
    verb = "captured" if payment.status == IntentStatus.CAPTURED else "authorised"
    return f"Payment {verb} ({payment.reference})."


def _action(payment: Payment) -> dict[str, str]:
    """What a device needs to finish authenticating: the intent's client secret (for Stripe's
    SDKs; never stored) and where a browser goes (the test gateway's page, a bank's)."""
    from payments.services import gateway_of

    try:
        intent = gateway_of(payment).intent_get(reference=payment.reference)
    except Exception:  # noqa: BLE001 - the device can ask again by placing again
        logger.warning("Could not read the next action of payment %s.", payment.pk)
        return {"client_secret": "", "action_url": ""}
    action_url = intent.action_url
    if action_url.startswith("/"):
        action_url = settings.SITE_URL + action_url
    return {"client_secret": intent.client_secret, "action_url": action_url}


def _hold_extend(checkout: Checkout) -> None:
    """A payment is in flight: the shopper must not lose the stock to the clock meanwhile."""
    from inventory.services import ReservationExpired, stock_reservation_extend

    # a hold already gone is taken again at placement (from any warehouse), or refused there
    with contextlib.suppress(ReservationExpired):
        stock_reservation_extend(holder=checkout.holder)


def _hold_retake_if_lapsed(checkout: Checkout, *, partly: bool) -> dict[int, int]:
    """The shopper paid after the stock hold ran out: take it again, from whichever warehouses
    have the stock now. With `partly`, as much of each line as is left (returns the units per
    variant sold meanwhile); else all of it. Raises InsufficientStock when nothing (or, not
    `partly`, not everything) can be held."""
    if checkout.reserved_until is not None and checkout.reserved_until > timezone.now():
        return {}
    from orders.services.checkout import checkout_refresh_hold, checkout_rehold_what_is_left

    if partly:
        return checkout_rehold_what_is_left(checkout=checkout)
    checkout_refresh_hold(checkout=checkout)
    return {}


def _cancel_locked(
    *, order_id: int, by, reason: str, unpaid_due_by: datetime | None
) -> Order | None:
    order = Order.objects.select_for_update().get(pk=order_id)
    if unpaid_due_by is not None and not (
        order.status == OrderStatus.PENDING_PAYMENT
        and order.payment_due_at is not None
        and order.payment_due_at <= unpaid_due_by
    ):
        return None  # paid or cancelled meanwhile: nothing to expire
    if order.status not in CANCELLABLE:
        raise ValidationError(
            f"Order {order.number} can no longer be cancelled "
            f"({OrderStatus(order.status).label.lower()})."
        )
    seller_orders = list(order.seller_orders.select_for_update().order_by("pk"))
    if any(so.status not in CANCELLABLE for so in seller_orders):
        raise ValidationError(
            f"Part of order {order.number} has already shipped; it cannot be cancelled."
        )
    order_transition_together(
        order=order,
        seller_orders=seller_orders,
        to=OrderStatus.CANCELLED,
        actor=by,
        reason=reason or "Cancelled.",
    )
    stock_deallocate(order_line_ids=list(order.lines.values_list("pk", flat=True)))
    voucher_release(order=order)
    payment = payment_for_order(order_id=order.pk)
    if payment is not None:
        if payment.status == IntentStatus.AUTHORISED:
            # the hold is voided: no money is taken, so the sale is unwound (a captured
            # payment is refunded instead, and the refund posts)
            ledger_post_cancellation(seller_order_ids=[so.pk for so in seller_orders])
        outbox_enqueue(task=PAYMENT_VOID_TASK, kwargs={"payment_id": payment.pk})
    _email_enqueue(order, "cancelled")
    return order


def order_cancel(*, order: Order, by=None, reason: str = "") -> Order:
    """Cancel before anything shipped: every seller order and the order move to cancelled,
    allocated stock is released, and the payment hold's void and the customer's email are
    written to the outbox in the same transaction (they run after it, with retries)."""
    with transaction.atomic():
        cancelled = _cancel_locked(order_id=order.pk, by=by, reason=reason, unpaid_due_by=None)
    assert cancelled is not None
    return cancelled


def _payment_release_enqueue(*, payment: Payment) -> None:
    """After a failed placement: queue the release of its payment in a transaction of its
    own. The task voids only a payment no order was linked to. If even queueing fails (the
    database is down), the authorisation lapses at the gateway on its own; it is logged so an
    operator can release it sooner."""
    try:
        outbox_enqueue(task=PAYMENT_RELEASE_UNUSED_TASK, kwargs={"payment_id": payment.pk})
    except Exception:
        logger.exception(
            "Could not queue the release of payment %s (checkout %s) after a failed placement; "
            "release it by hand if the gateway does not.",
            payment.reference,
            payment.checkout_id,
        )


def orders_expire_unpaid(*, now: datetime | None = None, limit: int = 200) -> int:
    """Cancel orders still waiting for payment after their due time; their stock goes back.
    The gateway is asked first (webhooks are not guaranteed): a payment that succeeded marks
    the order paid instead, and one still processing (a bank debit) keeps the order and its
    stock for another due period, so a paying shopper never loses the stock to the clock.
    Each order is re-checked under its row lock, so a payment that lands meanwhile wins."""
    from orders.services.payments import order_payment_settle

    now = now or timezone.now()
    due = list(
        Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, payment_due_at__lte=now)
        .order_by("payment_due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for order_id in due:
        payment = payment_for_order(order_id=order_id)
        if payment is not None:
            try:
                payment = order_payment_settle(payment_id=payment.pk)
            except ServiceError:
                logger.warning("Could not ask the gateway about payment %s.", payment.pk)
                continue  # asked again at the next run; nothing is cancelled blind
            if payment.status == IntentStatus.PROCESSING:
                Order.objects.filter(pk=order_id, status=OrderStatus.PENDING_PAYMENT).update(
                    payment_due_at=now + timedelta(seconds=settings.ORDER_UNPAID_EXPIRY_SECONDS)
                )
                continue
            status = Order.objects.values_list("status", flat=True).get(pk=order_id)
            if status == OrderStatus.CANCELLED:  # its payment failed: cancelled by the settle
                expired += 1
                continue
        with transaction.atomic():
            cancelled = _cancel_locked(
                order_id=order_id,
                by=None,
                reason="Payment not received in time.",
                unpaid_due_by=now,
            )
        if cancelled is not None:
            expired += 1
    return expired
