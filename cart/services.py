"""Cart writes. Every change validates the variant (active, public, approved seller), the
quantity (positive integer, per-line maximum) and availability, and changes nothing when
invalid."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cart.models import Cart, CartLine, CartStatus, WishlistItem
from cart.selectors import cart_checkout_holders, cart_for_owner
from catalog.models import ProductVariant, variant_active_condition
from catalog.selectors import (
    product_queryset_public,
    variant_price_current,
    variant_queryset_priced,
)
from inventory.selectors import variant_supply
from pricing.totals import voucher_get_usable
from shop.core.db import hot_execute
from shop.core.errors import NotFound, ValidationError
from shop.core.numbers import NumberError, id_lookup, id_parse, integer_parse
from shop.core.outbox import outbox_enqueue


def quantity_parse(value: Any) -> int:
    """A positive whole number that a quantity column holds, or a clear error. Strings from
    forms are accepted."""
    try:
        return integer_parse(value, min_value=1)
    except NumberError as exc:
        if exc.code != "range":
            message, hint = "Quantity must be a whole number.", "Enter a whole number."
        elif str(value).strip().startswith("-") or str(value).strip() == "0":
            message, hint = "Quantity must be at least 1.", "Enter 1 or more."
        else:
            message, hint = "That quantity is too large.", str(exc)
        raise ValidationError(message, fields={"quantity": [hint]}) from None


def _purchasable_variant(variant_id: Any) -> ProductVariant:
    pk = id_parse(variant_id)
    if pk is None:
        raise NotFound("That product is not available.")
    variant = (
        variant_queryset_priced()
        .filter(variant_active_condition(), pk=pk, product__in=product_queryset_public())
        .select_related("product__seller")
        .first()
    )
    if variant is None:
        raise NotFound("That product is not available.")
    return variant


def _quantity_check(*, variant: ProductVariant, quantity: int, cart: Cart | None = None) -> int:
    """Refuse `quantity` of the variant in one line past its per-order limit or what is
    available now (the cart's own checkout hold counts as its own); returns the most one line
    may hold."""
    limit = variant.max_quantity_per_order
    if quantity > limit:
        raise ValidationError(
            f"You can buy at most {limit} of “{variant.product.name}” per order.",
            fields={"quantity": [f"At most {limit}."]},
        )
    holders = cart_checkout_holders(cart=cart) if cart is not None else ()
    supply = variant_supply(variant_ids=[variant.pk], holders=holders)[variant.pk]
    if supply.backorderable:
        return limit
    available = supply.available
    if quantity > available:
        message = (
            f"“{variant.product.name}” is out of stock."
            if available <= 0
            else f"Only {available} left of “{variant.product.name}”."
        )
        raise ValidationError(
            message, fields={"quantity": [message]}, details={"available": available}
        )
    return min(limit, available)


def cart_get_or_create(*, user=None, session_key: str = "") -> Cart:
    cart = cart_for_owner(user=user, session_key=session_key)
    if cart is not None:
        return cart
    owner = {"user": user} if user is not None and user.is_authenticated else {}
    if not owner:
        if not session_key:
            raise ValidationError("A session is required for an anonymous cart.")
        owner = {"session_key": session_key}
    try:
        with transaction.atomic():
            return Cart.objects.create(**owner)
    except IntegrityError:  # a concurrent request created it first
        cart = cart_for_owner(user=user, session_key=session_key)
        assert cart is not None
        return cart


def _touch(cart: Cart, now: datetime | None = None) -> None:
    """Record activity; a cart marked abandoned becomes active again (its `abandoned_at`
    stays, so a later conversion counts as a recovery)."""
    now = now or timezone.now()
    cart.last_activity_at = now
    fields = ["last_activity_at", "updated_at"]
    if cart.status == CartStatus.ABANDONED:
        cart.status = CartStatus.ACTIVE
        fields.append("status")
    cart.save(update_fields=fields)


# Adds a variant's units to a cart in one statement: a new line, or the existing line grown,
# only while the total stays within the line's limit (no row back: it would not). Two
# concurrent adds of one variant both count (a read-then-insert lost one and the other hit the
# unique constraint: a 500).
_LINE_UPSERT_SQL = f"""
INSERT INTO {CartLine._meta.db_table}
    (cart_id, variant_id, quantity, price_at_add, saved_for_later, created_at, updated_at)
VALUES (%(cart)s, %(variant)s, %(quantity)s, %(price)s, false, %(now)s, %(now)s)
ON CONFLICT (cart_id, variant_id) DO UPDATE
SET quantity = {CartLine._meta.db_table}.quantity + EXCLUDED.quantity,
    saved_for_later = false, updated_at = EXCLUDED.updated_at
WHERE {CartLine._meta.db_table}.quantity + EXCLUDED.quantity <= %(limit)s
RETURNING id
"""  # noqa: S608 - model names


def cart_line_add(*, cart: Cart, variant_id: Any, quantity: Any = 1) -> CartLine:
    """Add units of a variant; if the line exists its quantity grows (never past the per-order
    limit or what is available)."""
    quantity = quantity_parse(quantity)
    variant = _purchasable_variant(variant_id)
    limit = _quantity_check(variant=variant, quantity=quantity, cart=cart)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                _LINE_UPSERT_SQL,
                {
                    "cart": cart.pk,
                    "variant": variant.pk,
                    "quantity": quantity,
                    "price": variant_price_current(variant=variant),
                    "now": timezone.now(),
                    "limit": limit,
                },
            )
            row = cursor.fetchone()
        if row is None:
            held = CartLine.objects.get(cart=cart, variant=variant).quantity
            _quantity_check(variant=variant, quantity=held + quantity, cart=cart)
            raise ValidationError(  # stock arrived since the limit was read
                f"You can add at most {max(limit - held, 0)} more of “{variant.product.name}”.",
                fields={"quantity": [f"At most {max(limit - held, 0)} more."]},
            )
        _touch(cart)
    return CartLine.objects.get(pk=row[0])


def cart_line_get(*, cart: Cart, line_id: Any) -> CartLine:
    """A line of this cart; another cart's line (or garbage) is not found."""
    try:
        return CartLine.objects.select_related("variant__product").get(
            cart=cart, pk=id_lookup(line_id)
        )
    except (CartLine.DoesNotExist, TypeError, ValueError):
        raise NotFound("That line is not in your cart.") from None


def cart_line_update(*, cart: Cart, line_id: Any, quantity: Any) -> CartLine | None:
    """Set a line's quantity; 0 removes the line (returns None)."""
    line = cart_line_get(cart=cart, line_id=line_id)
    if str(quantity).strip() == "0":
        cart_line_remove(cart=cart, line_id=line.pk)
        return None
    quantity = quantity_parse(quantity)
    variant = _purchasable_variant(line.variant_id)
    _quantity_check(variant=variant, quantity=quantity, cart=cart)
    line.quantity = quantity
    line.save(update_fields=["quantity", "updated_at"])
    _touch(cart)
    return line


def cart_line_remove(*, cart: Cart, line_id: Any) -> None:
    line = cart_line_get(cart=cart, line_id=line_id)
    line.delete()
    _touch(cart)


def cart_line_save_for_later(*, cart: Cart, line_id: Any, saved: bool) -> CartLine:
    """Move a line out of (or back into) what will be bought."""
    line = cart_line_get(cart=cart, line_id=line_id)
    if not saved:
        _quantity_check(
            variant=_purchasable_variant(line.variant_id), quantity=line.quantity, cart=cart
        )
    line.saved_for_later = saved
    line.save(update_fields=["saved_for_later", "updated_at"])
    _touch(cart)
    return line


def cart_voucher_apply(*, cart: Cart, code: str) -> Cart:
    code = (code or "").strip()
    if not code:
        cart.voucher_code = ""
    else:
        email = cart.user.email if cart.user is not None else ""
        voucher, error = voucher_get_usable(code=code, at=timezone.now(), customer_email=email)
        if error or voucher is None:
            raise ValidationError(error, fields={"code": [error]})
        cart.voucher_code = voucher.code
    cart.save(update_fields=["voucher_code", "updated_at"])
    return cart


def _merge_lines(*, source: Cart, target: Cart) -> list[str]:
    """Add `source`'s lines to `target`, summing quantities capped by per-line limits and
    availability; returns a note for each line that had to be reduced or dropped."""
    notes: list[str] = []
    incoming = list(source.lines.select_related("variant__product"))
    existing = {line.variant_id: line for line in target.lines.all()}
    supply = variant_supply(variant_ids=[line.variant_id for line in incoming])
    for line in incoming:
        variant = line.variant
        public = product_queryset_public().filter(pk=variant.product_id).exists()
        if not (variant.is_active and public):
            notes.append(f"“{variant.product.name}” is no longer available.")
            continue
        current = existing.get(line.variant_id)
        wanted = line.quantity + (current.quantity if current else 0)
        cap = variant.max_quantity_per_order
        if not supply[line.variant_id].backorderable:
            cap = min(cap, supply[line.variant_id].available)
        quantity = min(wanted, cap)
        if quantity < wanted:
            notes.append(f"“{variant.product.name}”: quantity reduced to {quantity}.")
        if quantity <= 0:
            continue
        if current is None:
            CartLine.objects.create(
                cart=target,
                variant=variant,
                quantity=quantity,
                price_at_add=line.price_at_add,
                saved_for_later=line.saved_for_later,
            )
        else:
            current.quantity = quantity
            current.save(update_fields=["quantity", "updated_at"])
    return notes


def cart_merge_on_login(*, user, session_key: str) -> list[str]:
    """Fold the anonymous session cart into the user's cart at sign-in."""
    anonymous = cart_for_owner(session_key=session_key) if session_key else None
    if anonymous is None or not anonymous.lines.exists():
        return []
    with transaction.atomic():
        target = cart_get_or_create(user=user)
        notes = _merge_lines(source=anonymous, target=target)
        if not target.voucher_code and anonymous.voucher_code:
            target.voucher_code = anonymous.voucher_code
        _touch(target)
        anonymous.delete()
    return notes


def cart_copy_shared(*, token: str, target: Cart) -> list[str]:
    """Copy a shared cart's lines (a read-only snapshot) into the shopper's own cart."""
    from cart.selectors import cart_get_by_share_token

    source = cart_get_by_share_token(token=token)
    if source.pk == target.pk:
        return []
    with transaction.atomic():
        notes = _merge_lines(source=source, target=target)
        _touch(target)
    return notes


def wishlist_add(*, user, variant_id: Any) -> WishlistItem:
    variant = _purchasable_variant(variant_id)
    item, _ = WishlistItem.objects.get_or_create(user=user, variant=variant)
    return item


def wishlist_item_get(*, user, item_id: Any) -> WishlistItem:
    try:
        return WishlistItem.objects.get(user=user, pk=id_lookup(item_id))
    except (WishlistItem.DoesNotExist, TypeError, ValueError):
        raise NotFound("That item is not in your wishlist.") from None


def wishlist_remove(*, user, item_id: Any) -> None:
    wishlist_item_get(user=user, item_id=item_id).delete()


def wishlist_move_to_cart(*, user, item_id: Any, cart: Cart) -> CartLine:
    item = wishlist_item_get(user=user, item_id=item_id)
    with transaction.atomic():
        line = cart_line_add(cart=cart, variant_id=item.variant_id, quantity=1)
        item.delete()
    return line


def cart_line_move_to_wishlist(*, user, cart: Cart, line_id: Any) -> WishlistItem:
    line = cart_line_get(cart=cart, line_id=line_id)
    with transaction.atomic():
        item, _ = WishlistItem.objects.get_or_create(user=user, variant_id=line.variant_id)
        line.delete()
        _touch(cart)
    return item


_CONVERTED_SQL = f"""
UPDATE {Cart._meta.db_table}
SET status = %(status)s, converted_at = %(at)s, updated_at = %(at)s,
    recovered_at = CASE WHEN abandoned_at IS NOT NULL THEN %(at)s ELSE recovered_at END
WHERE id = %(id)s
"""  # noqa: S608 - model names


def cart_mark_converted(*, cart_id: int, at: datetime) -> None:
    """The cart became an order (placement calls this inside its transaction). One prepared
    UPDATE (shop.core.db); a cart that had been marked abandoned also counts as recovered."""
    hot_execute(_CONVERTED_SQL, {"status": CartStatus.CONVERTED, "at": at, "id": cart_id})


def carts_mark_abandoned(*, now: datetime | None = None) -> int:
    """Mark carts idle longer than CART_ABANDON_AFTER_SECONDS (with lines in them) as
    abandoned, and send one reminder to each signed-in owner. Safe to run repeatedly."""
    from django.conf import settings
    from django.db.models import Exists, OuterRef

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CART_ABANDON_AFTER_SECONDS)
    with transaction.atomic():
        idle = list(
            Cart.objects.select_for_update(skip_locked=True)
            .filter(status=CartStatus.ACTIVE, last_activity_at__lt=cutoff)
            .filter(Exists(CartLine.objects.filter(cart=OuterRef("pk"), saved_for_later=False)))
            .values_list("pk", "user_id", "reminder_sent_at")
        )
        ids = [pk for pk, _, _ in idle]
        Cart.objects.filter(pk__in=ids).update(status=CartStatus.ABANDONED, abandoned_at=now)
        remind = [pk for pk, user_id, sent in idle if user_id is not None and sent is None]
        Cart.objects.filter(pk__in=remind).update(reminder_sent_at=now)
        for cart_id in remind:
            outbox_enqueue(task="cart.tasks.cart_reminder_send_task", kwargs={"cart_id": cart_id})
    return len(ids)


def cart_reminder_send(*, cart_id: int) -> None:
    from django.conf import settings
    from django.core.mail import send_mail
    from django.template.loader import render_to_string

    cart = Cart.objects.select_related("user").filter(pk=cart_id, user__isnull=False).first()
    if cart is None or cart.user is None or cart.status == CartStatus.CONVERTED:
        return
    lines = cart.lines.filter(saved_for_later=False).select_related("variant__product")
    context = {"cart": cart, "lines": lines, "site_url": settings.SITE_URL}
    send_mail(
        subject="You left something in your cart",
        message=render_to_string("emails/cart_reminder.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[cart.user.email],
    )
