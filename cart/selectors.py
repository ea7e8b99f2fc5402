"""Reads of carts and wishlists, shaped for the cart page and the API."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from cart.models import Cart, CartLine, CartStatus, WishlistItem
from inventory.selectors import variant_supply
from pricing.totals import (
    LinePrice,
    PriceBreakdown,
    PricingLine,
    pricing_compute,
    tax_display_destination,
)
from shop.core import db
from shop.core.errors import NotFound


def cart_for_owner(*, user=None, session_key: str = "") -> Cart | None:
    """The owner's current cart (an abandoned one counts: coming back revives it)."""
    if user is not None and user.is_authenticated:
        carts = Cart.objects.filter(user=user)
    elif session_key:
        carts = Cart.objects.filter(user__isnull=True, session_key=session_key)
    else:
        return None
    return (
        carts.filter(status__in=[CartStatus.ACTIVE, CartStatus.ABANDONED])
        .order_by("status", "-last_activity_at")  # "active" sorts before "abandoned"
        .first()
    )


def cart_lines(*, cart: Cart, saved_for_later: bool = False) -> QuerySet[CartLine]:
    return (
        cart.lines.filter(saved_for_later=saved_for_later)
        .select_related("variant__product__seller", "variant__product__category")
        .order_by("created_at", "id")
    )


# `cart_lines` (to buy, in the order added) as one prepared statement (shop.core.db) for pricing,
# which needs only these three columns and runs for every checkout step and placement.
_LINES_TO_PRICE_SQL = f"""
SELECT variant_id, quantity, price_at_add FROM {CartLine._meta.db_table}
WHERE cart_id = %s AND NOT saved_for_later ORDER BY created_at, id
"""  # noqa: S608 - model names


def cart_lines_to_price(*, cart: Cart) -> list[tuple[int, int, Decimal | None]]:
    """(variant id, quantity, price when added) of `cart_lines(cart=cart)`, in its order."""
    with db.hot_cursor() as cursor:
        cursor.execute(_LINES_TO_PRICE_SQL, [cart.pk])
        return cursor.fetchall()


def cart_checkout_holders(*, cart: Cart) -> QuerySet:
    """The stock-hold holders of the cart's open checkouts, as a subquery: what they hold is
    the shopper's own, so the cart does not call it unavailable ("Only 1 left" while exactly
    that unit is held for this very cart). Checkouts point at their cart; the holder rule is
    theirs (`orders.models.CheckoutQuerySet.open_holders`), read through the relation."""
    return cart.checkouts.open_holders()


def cart_get_by_share_token(*, token: str) -> Cart:
    cart = Cart.objects.filter(share_token=token).first()
    if cart is None:
        raise NotFound("This shared cart link is not valid.")
    return cart


@dataclass
class CartLineView:
    line: CartLine
    price: LinePrice
    available: int
    backorderable: bool = False  # may be bought past `available` (inventory.variant_supply)

    @property
    def low_stock(self) -> bool:
        return not self.backorderable and self.available < self.line.quantity + 5


@dataclass
class CartView:
    cart: Cart | None
    lines: list[CartLineView]
    saved: list[CartLine]
    totals: PriceBreakdown | None

    @property
    def count(self) -> int:
        return sum(item.line.quantity for item in self.lines)


def cart_view(
    *, cart: Cart | None, shipping_choices: dict | None = None, destination=None
) -> CartView:
    """Lines with server-side prices and availability: a fixed number of queries whatever the
    number of lines."""
    if cart is None:
        return CartView(None, [], [], None)
    lines = list(cart_lines(cart=cart))
    saved = list(cart_lines(cart=cart, saved_for_later=True))
    if not lines:
        return CartView(cart, [], saved, None)
    if settings.SHOP_PRICES_INCLUDE_TAX:
        destination = tax_display_destination(destination)
    totals = pricing_compute(
        lines=[PricingLine(x.variant_id, x.quantity, x.price_at_add) for x in lines],
        destination=destination,
        voucher_code=cart.voucher_code,
        shipping_choices=shipping_choices,
        customer_email=cart.user.email if cart.user is not None else "",
        currency=settings.SHOP_CURRENCY,
    )
    prices = {p.variant.pk: p for p in totals.lines}
    supply = variant_supply(
        variant_ids=[x.variant_id for x in lines], holders=cart_checkout_holders(cart=cart)
    )
    return CartView(
        cart,
        [
            CartLineView(
                x,
                prices[x.variant_id],
                supply[x.variant_id].available,
                supply[x.variant_id].backorderable,
            )
            for x in lines
        ],
        saved,
        totals,
    )


def wishlist_items(*, user) -> QuerySet[WishlistItem]:
    """Newest first, with product, seller and the product's first image (`image_list`)."""
    from catalog.models import ProductImage

    return (
        WishlistItem.objects.filter(user=user)
        .select_related("variant__product__seller")
        .prefetch_related(
            Prefetch(
                "variant__product__images",
                queryset=ProductImage.objects.order_by("position", "id")[:1],
                to_attr="image_list",
            )
        )
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class AbandonmentStats:
    carts: int
    abandoned: int
    recovered: int

    @property
    def abandonment_rate(self) -> float:
        return self.abandoned / self.carts if self.carts else 0.0

    @property
    def recovery_rate(self) -> float:
        return self.recovered / self.abandoned if self.abandoned else 0.0


def cart_abandonment_stats() -> AbandonmentStats:
    """Of all carts, how many were ever marked abandoned, and of those how many converted
    later. One query."""
    from django.db.models import Count, Q

    row = Cart.objects.aggregate(
        carts=Count("pk"),
        abandoned=Count("pk", filter=Q(abandoned_at__isnull=False)),
        recovered=Count("pk", filter=Q(recovered_at__isnull=False)),
    )
    return AbandonmentStats(**row)
