"""Starting a checkout and filling it in. Entering checkout holds stock for every line
(`inventory.services.stock_reserve`, all or nothing); changing the cart re-takes the hold."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from accounts.models import Address
from accounts.selectors import address_get_for_user
from accounts.services import address_create
from cart.models import Cart, CartStatus
from cart.selectors import cart_lines
from inventory.services import Destination as StockDestination
from inventory.services import ReserveLine, stock_reserve
from orders.models import Checkout, CheckoutStatus, Order
from pricing.models import ShippingMethod
from shop.core import db
from shop.core.countries import country_name
from shop.core.errors import NotFound, ValidationError
from shop.core.numbers import id_parse


def _stock_destination(address: Address | None) -> StockDestination | None:
    if address is None:
        return None
    return StockDestination(
        latitude=address.latitude, longitude=address.longitude, country=address.country
    )


def checkout_refresh_hold(*, checkout: Checkout) -> Checkout:
    """(Re)take the stock hold for the cart's current lines with a fresh TTL. Raises
    InsufficientStock (nothing held changes) when a line cannot be served any more."""
    lines = list(cart_lines(cart=checkout.cart))
    if not lines:
        raise ValidationError("Your cart is empty.")
    result = stock_reserve(
        holder=checkout.holder,
        lines=[ReserveLine(variant_id=x.variant_id, quantity=x.quantity) for x in lines],
        destination=_stock_destination(checkout.shipping_address),
        ttl_seconds=settings.INVENTORY_RESERVATION_TTL_SECONDS,
    )
    checkout.reserved_until = result.expires_at
    checkout.save(update_fields=["reserved_until", "updated_at"])
    return checkout


def checkout_rehold_what_is_left(*, checkout: Checkout, attempts: int = 3) -> dict[int, int]:
    """The hold lapsed while the shopper paid: take it again for as much of each line as the
    warehouses still have. Returns the units per variant that could not be held (sold
    meanwhile); raises InsufficientStock when none of the cart could be held."""
    from inventory.services import InsufficientStock

    ordered = {x.variant_id: x.quantity for x in cart_lines(cart=checkout.cart)}
    short: dict[int, int] = {}
    refused: InsufficientStock | None = None
    for _attempt in range(attempts):
        wanted = {v: q - short.get(v, 0) for v, q in ordered.items() if q > short.get(v, 0)}
        if not wanted:
            break
        try:
            result = stock_reserve(
                holder=checkout.holder,
                lines=[ReserveLine(variant_id=v, quantity=q) for v, q in wanted.items()],
                destination=_stock_destination(checkout.shipping_address),
                ttl_seconds=settings.INVENTORY_RESERVATION_TTL_SECONDS,
            )
        except InsufficientStock as exc:
            refused = refused or exc
            for line in exc.details or []:
                variant_id = line["variant_id"]
                left = max(0, min(int(line["available"]), ordered[variant_id]))
                short[variant_id] = ordered[variant_id] - left
            continue
        checkout.reserved_until = result.expires_at
        checkout.save(update_fields=["reserved_until", "updated_at"])
        return short
    raise refused or InsufficientStock([])


def checkout_start(*, cart: Cart, user=None, session_key: str = "") -> Checkout:
    """Open the cart's checkout, or reuse its open one, and hold stock for all its lines.

    The cart row is locked while its open checkout is looked up or made, so concurrent starts
    (a double tap, an app retrying) get the same checkout; the partial unique constraint
    `orders_checkout_one_open_per_cart` backs that up. A converted cart starts nothing, so it
    can never be placed again. The hold is taken in a second transaction under the checkout's
    row lock, the order placement locks in (checkout, then stock): holding the cart while
    locking stock would deadlock with placement, which locks stock and then the cart."""
    with transaction.atomic():
        locked = Cart.objects.select_for_update().only("id", "status").get(pk=cart.pk)
        if locked.status == CartStatus.CONVERTED:
            raise ValidationError("This cart has already been ordered.")
        checkout = locked.checkouts.filter(status=CheckoutStatus.OPEN).first()
        if checkout is None:
            checkout = Checkout.objects.create(
                cart=cart,
                user=user if user is not None and user.is_authenticated else None,
                session_key="" if cart.user_id else session_key,
                email=user.email if user is not None and user.is_authenticated else "",
            )
    with transaction.atomic():
        (current,) = db.hot_select(Checkout, "WHERE id = %s FOR UPDATE", [checkout.pk])
        if current.status != CheckoutStatus.OPEN:  # placed while this start waited
            raise ValidationError("This cart has already been ordered.")
        checkout.cart = cart
        return checkout_refresh_hold(checkout=checkout)


# The checkout with its cart, shipping address and order (if placed), as one prepared statement
# (shop.core.db): every checkout step and placement starts with it.
_CHECKOUT_FOR_OWNER_SQL = f"""
SELECT {db.columns(Checkout, "co")}, {db.columns(Cart, "ca")},
       {db.columns(Address, "a")}, {db.columns(Order, "o")}
FROM {Checkout._meta.db_table} co
JOIN {Cart._meta.db_table} ca ON ca.id = co.cart_id
LEFT JOIN {Address._meta.db_table} a ON a.id = co.shipping_address_id
LEFT JOIN {Order._meta.db_table} o ON o.checkout_id = co.id
WHERE co.token = %(token)s AND {{owner}}
"""  # noqa: S608 - model names
_OWNED_BY_USER = _CHECKOUT_FOR_OWNER_SQL.format(owner="co.user_id = %(user)s")
_OWNED_BY_SESSION = _CHECKOUT_FOR_OWNER_SQL.format(
    owner="co.user_id IS NULL AND co.session_key = %(session)s"
)


def checkout_get_for_owner(*, token: Any, user=None, session_key: str = "") -> Checkout:
    """Fetch-and-check: the checkout of this user (or this anonymous session); any other
    token is not found. Comes with its cart, shipping address and order (or none) loaded."""
    try:
        token = uuid.UUID(str(token))
    except ValueError:
        raise NotFound("No such checkout.") from None
    if user is not None and user.is_authenticated:
        sql, params = _OWNED_BY_USER, {"token": token, "user": user.pk}
    elif session_key:
        sql, params = _OWNED_BY_SESSION, {"token": token, "session": session_key}
    else:
        raise NotFound("No such checkout.")
    with db.hot_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        raise NotFound("No such checkout.")
    widths = [len(m._meta.concrete_fields) for m in (Checkout, Cart, Address)]
    (checkout,) = db.instances(Checkout, rows)
    (checkout.cart,) = db.instances(Cart, rows, start=widths[0])
    (address,) = db.instances(Address, rows, start=widths[0] + widths[1])
    (order,) = db.instances(Order, rows, start=sum(widths))
    checkout.shipping_address = address if checkout.shipping_address_id is not None else None
    # cached either way, as select_related does: a checkout without an order raises
    # Order.DoesNotExist on `checkout.order` instead of querying
    Checkout.order.related.set_cached_value(checkout, order if order.pk is not None else None)
    return checkout


def _require_open(checkout: Checkout) -> None:
    if checkout.status != CheckoutStatus.OPEN:
        raise ValidationError("This checkout has already been placed.")


def checkout_set_address(
    *, checkout: Checkout, email: str = "", address_id: Any = None, **fields: Any
) -> Checkout:
    """Use a saved address of the user (`address_id`) or a new one from `fields` (checked by
    `accounts.services.address_clean`; a signed-in shopper's goes into their address book). When
    the destination changes, the stock hold is taken again for it, so the nearest warehouses
    serve it (raises InsufficientStock, with the address kept, when the cart cannot be served
    any more)."""
    _require_open(checkout)
    if address_id not in (None, ""):
        if checkout.user_id is None:
            raise NotFound("That address is not yours.")
        address = address_get_for_user(user=checkout.user, pk=address_id)
    else:
        address = address_create(user=checkout.user, **fields)
    email = (email or "").strip() or checkout.email
    if not email:
        raise ValidationError("An email address is required.", fields={"email": ["Required."]})
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError(
            "Enter a valid email address.", fields={"email": ["Enter a valid email address."]}
        ) from None
    moved = checkout.shipping_address is None or _stock_destination(
        checkout.shipping_address
    ) != _stock_destination(address)
    with transaction.atomic():
        checkout.shipping_address = address
        checkout.email = email
        checkout.save(update_fields=["shipping_address", "email", "updated_at"])
    if moved:
        checkout_refresh_hold(checkout=checkout)
    return checkout


def checkout_set_shipping(*, checkout: Checkout, choices: dict[Any, Any]) -> Checkout:
    """Pick one active shipping method per seller in the cart. A method of another seller, for
    a seller not in the cart, or whose zone leaves out the destination is refused."""
    _require_open(checkout)
    seller_ids = set(
        cart_lines(cart=checkout.cart).values_list("variant__product__seller_id", flat=True)
    )
    cleaned: dict[str, int] = {}
    for seller_key, method_key in choices.items():
        seller_id, method_id = id_parse(seller_key), id_parse(method_key)
        if seller_id is None or method_id is None:
            raise ValidationError("Choose a shipping method for each seller.")
        if seller_id not in seller_ids:
            raise ValidationError("That seller has nothing in your cart.")
        method = ShippingMethod.objects.filter(
            pk=method_id, seller_id=seller_id, is_active=True
        ).first()
        if method is None:
            raise ValidationError("That shipping method is not offered by this seller.")
        address = checkout.shipping_address
        if address is not None and not method.ships_to(address.country):
            raise ValidationError(
                f"“{method.name}” does not ship to {country_name(address.country)}."
            )
        cleaned[str(seller_id)] = method_id
    missing = seller_ids - {int(k) for k in cleaned}
    if missing:
        raise ValidationError("Choose a shipping method for each seller.")
    checkout.shipping_choices = cleaned
    checkout.save(update_fields=["shipping_choices", "updated_at"])
    return checkout
