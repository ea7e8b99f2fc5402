"""Checkout, orders split per seller, and the vouchers' redemptions. The pricing rules they
use (tax rates, vouchers, promotions, shipping methods) are `pricing.models`, under this app's
label: importing them here registers them with it.

Order lines copy price, tax, discount and shipping at placement so history never changes when
the catalogue does. Status changes go through `orders.services.transitions` only.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from pricing.models import Voucher
from shop.core.models import BaseModel
from shop.core.money import money_field

# --- voucher redemptions (the pricing rules are pricing.models) ----------------------------------


class VoucherRedemption(BaseModel):
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    order = models.OneToOneField(
        "Order", on_delete=models.CASCADE, related_name="voucher_redemption"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    email = models.EmailField()
    amount = money_field()
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="The order was cancelled: this use no longer counts."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["voucher", "email"], name="orders_redemption_email")]


# --- checkout -----------------------------------------------------------------------------------


class CheckoutStatus(models.TextChoices):
    OPEN = "open", "Open"
    PLACED = "placed", "Placed"
    # A duplicate open checkout of one cart, closed when the one-open-per-cart rule came in.
    CLOSED = "closed", "Closed"


class CheckoutQuerySet(models.QuerySet):
    def open_holders(self) -> models.QuerySet:
        """The stock-hold holders (`Checkout.holder`) of the open checkouts, as a subquery: the
        cart reads its own through `cart.checkouts` (what they hold is the shopper's)."""
        return (
            self.filter(status=CheckoutStatus.OPEN)
            .annotate(holder_key=Concat(Value(HOLDER_PREFIX), Cast("token", CharField())))
            .values("holder_key")
        )


HOLDER_PREFIX = "checkout:"


class Checkout(BaseModel):
    """One attempt to buy a cart. Its stock hold is the inventory reservation of `holder`."""

    objects = CheckoutQuerySet.as_manager()

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cart = models.ForeignKey("cart.Cart", on_delete=models.CASCADE, related_name="checkouts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True
    )
    session_key = models.CharField(max_length=64, blank=True)
    email = models.EmailField(blank=True)
    shipping_address = models.ForeignKey(
        "accounts.Address", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shipping_choices = models.JSONField(
        default=dict, blank=True, help_text="{seller_id: shipping_method_id}"
    )
    status = models.CharField(
        max_length=10, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN
    )
    reserved_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # `checkout_start` locks the cart and reuses its open checkout; this makes a second
            # open one impossible however the starts race (each would hold stock and place).
            models.UniqueConstraint(
                fields=["cart"],
                condition=Q(status="open"),
                name="orders_checkout_one_open_per_cart",
            )
        ]

    def __str__(self) -> str:
        return f"Checkout {self.token}"

    @property
    def holder(self) -> str:
        return f"{HOLDER_PREFIX}{self.token}"


# --- orders -------------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAID = "paid", "Paid"
    PROCESSING = "processing", "Processing"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"


class Totals(models.Model):
    currency = models.CharField(max_length=3, default=settings.SHOP_CURRENCY)
    subtotal = money_field(default=0)
    discount_total = money_field(default=0)
    shipping_total = money_field(default=0)
    tax_total = money_field(default=0)
    total = money_field(default=0)

    class Meta:
        abstract = True


class FraudStatus(models.TextChoices):
    """Where an order stands with the fraud check (payments' fraud rules, run on Celery after
    placement). Fulfilment and payouts wait for `approved`."""

    PENDING = "pending", "Not checked yet"
    APPROVED = "approved", "Approved"
    REVIEW = "review", "On hold for review"
    REJECTED = "rejected", "Rejected"


class Order(BaseModel, Totals):
    """The customer's order. `checkout` is unique: the database itself refuses a second order
    for the same checkout, whatever races above it."""

    fraud_status = models.CharField(
        max_length=20, choices=FraudStatus.choices, default=FraudStatus.PENDING, db_index=True
    )
    number = models.CharField(max_length=20, unique=True)
    checkout = models.OneToOneField(
        Checkout, on_delete=models.PROTECT, null=True, blank=True, related_name="order"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
    )
    email = models.EmailField()
    status = models.CharField(
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING_PAYMENT,
        db_index=True,
    )
    shipping_address = models.JSONField(default=dict)
    voucher_code = models.CharField(max_length=40, blank=True)
    payment_gateway = models.CharField(max_length=20, blank=True)
    payment_reference = models.CharField(max_length=100, blank=True)
    placed_at = models.DateTimeField()
    payment_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-placed_at"], name="orders_order_user_placed"),
            models.Index(fields=["status", "payment_due_at"], name="orders_order_due"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="orders_order_total_nonneg")
        ]

    def __str__(self) -> str:
        return self.number


class SellerOrder(BaseModel, Totals):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="seller_orders")
    # when its last shipment arrived (the return window and the payout count from it)
    delivered_at = models.DateTimeField(null=True, blank=True)
    seller = models.ForeignKey(
        "sellers.Seller", on_delete=models.PROTECT, related_name="seller_orders"
    )
    status = models.CharField(
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING_PAYMENT,
        db_index=True,
    )
    shipping_method_name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "seller"], name="orders_sellerorder_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order.number}-{self.seller_id}"

    @property
    def shipping_tax(self):
        """The tax on this part's shipping: its tax total less its lines' (uses the prefetched
        lines)."""
        return self.tax_total - sum((line.tax for line in self.lines.all()), 0)


class OrderLine(BaseModel):
    """A copy of what was bought, at the price, tax and discount of the moment."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    seller_order = models.ForeignKey(SellerOrder, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sku = models.CharField(max_length=64)
    product_name = models.CharField(max_length=200)
    variant_name = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price = money_field()
    subtotal = money_field()
    discount = money_field(default=0)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4, default=0)
    tax = money_field(default=0)
    total = money_field()
    # the platform's commission, frozen at placement (ledger.commission): the terms that
    # applied and the amount they gave
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    commission_fixed = money_field(default=0)
    commission = money_field(default=0)

    class Meta:
        ordering = ["seller_order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orders_line_qty_positive")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderEvent(models.Model):
    """One recorded status change (or note): who, when, why, from, to."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    seller_order = models.ForeignKey(
        SellerOrder, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"

    @property
    def to_label(self) -> str:
        return OrderStatus(self.to_status).label
