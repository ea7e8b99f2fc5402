"""A seller's shipping methods: create, edit, activate/deactivate, reorder. Checkout offers the
active ones in `position` order (`orders.selectors.shipping_options`)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max

from pricing.models import SHIPPING_NAME_TAKEN, ShippingKind, ShippingMethod
from sellers.models import Seller
from shop.core.countries import country_codes_parse
from shop.core.errors import ValidationError

ZERO = Decimal("0")


def _require_valid(
    *,
    seller_id: int,
    name: str,
    kind: str,
    price: Decimal,
    price_per_kg: Decimal,
    free_above: Decimal | None,
    exclude_pk: int | None = None,
) -> None:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["Enter a name shoppers will recognise, e.g. “Standard (3–5 days)”."]
    else:
        same_name = ShippingMethod.objects.filter(seller_id=seller_id, name__iexact=name.strip())
        if exclude_pk is not None:
            same_name = same_name.exclude(pk=exclude_pk)
        if same_name.exists():
            errors["name"] = [SHIPPING_NAME_TAKEN]
    if kind not in ShippingKind.values:
        errors["kind"] = ["Choose flat rate or by weight."]
    if price < ZERO:
        errors["price"] = ["Enter zero or more."]
    if price_per_kg < ZERO:
        errors["price_per_kg"] = ["Enter zero or more."]
    elif kind == ShippingKind.FLAT and price_per_kg > ZERO:
        errors["price_per_kg"] = ["A flat rate has no price per kilogram: leave it at 0."]
    elif kind == ShippingKind.WEIGHT and price_per_kg == ZERO:
        errors["price_per_kg"] = ["Enter the price per started kilogram, or choose flat rate."]
    if free_above is not None and free_above <= ZERO:
        errors["free_above"] = ["Enter an amount above 0, or leave empty for never free."]
    if errors:
        raise ValidationError("The shipping method has errors.", fields=errors)


def shipping_method_create(
    *,
    seller: Seller,
    name: str,
    kind: str,
    price: Decimal,
    price_per_kg: Decimal = ZERO,
    free_above: Decimal | None = None,
    countries: Iterable[str] = (),
) -> ShippingMethod:
    """A new active method, listed after the seller's existing ones."""
    with transaction.atomic():
        # Locking the seller serialises concurrent creates, so positions stay distinct. NO KEY
        # UPDATE: a plain FOR UPDATE would block other writers' deferred foreign-key checks on
        # the seller and deadlock against one whose new row holds the name this insert waits on.
        Seller.objects.select_for_update(no_key=True).filter(pk=seller.pk).first()
        last = ShippingMethod.objects.filter(seller=seller).aggregate(last=Max("position"))["last"]
        return shipping_method_update(
            method=ShippingMethod(seller=seller, position=0 if last is None else last + 1),
            name=name,
            kind=kind,
            price=price,
            price_per_kg=price_per_kg,
            free_above=free_above,
            countries=countries,
        )


def shipping_method_update(
    *,
    method: ShippingMethod,
    name: str,
    kind: str,
    price: Decimal,
    price_per_kg: Decimal = ZERO,
    free_above: Decimal | None = None,
    countries: Iterable[str] = (),
) -> ShippingMethod:
    """Set a method's terms and zone (`countries`: destination codes, none = everywhere; a new,
    unsaved method is inserted). Placed orders keep the shipping they were charged."""
    _require_valid(
        seller_id=method.seller_id,
        name=name,
        kind=kind,
        price=price,
        price_per_kg=price_per_kg,
        free_above=free_above,
        exclude_pk=method.pk,
    )
    method.name = name.strip()
    method.kind = kind
    method.price = price
    method.price_per_kg = price_per_kg
    method.free_above = free_above
    method.countries = country_codes_parse(countries)
    try:
        with transaction.atomic():
            method.save()
    except IntegrityError as exc:
        # A concurrent create/rename took the name between the check above and this save.
        diag = getattr(exc.__cause__, "diag", None)
        if getattr(diag, "constraint_name", None) != "orders_shipping_unique_name":
            raise
        raise ValidationError(
            "The shipping method has errors.", fields={"name": [SHIPPING_NAME_TAKEN]}
        ) from exc
    return method


def shipping_method_set_active(*, method: ShippingMethod, is_active: bool) -> ShippingMethod:
    """Deactivating hides the method from new checkouts; a checkout that already chose it is
    asked to choose again (`checkout_set_shipping` accepts active methods only)."""
    method.is_active = is_active
    method.save(update_fields=["is_active", "updated_at"])
    return method


def shipping_method_move(*, method: ShippingMethod, offset: int) -> ShippingMethod:
    """Move one place up (-1) or down (+1) in the seller's list; positions are renumbered
    0..n-1 so gaps and ties left by older data disappear."""
    if offset not in (-1, 1):
        raise ValidationError("Move by one place up or down.")
    with transaction.atomic():
        methods = list(
            ShippingMethod.objects.select_for_update()
            .filter(seller_id=method.seller_id)
            .order_by("pk")
        )
        methods.sort(key=lambda m: (m.position, m.pk))
        index = next(i for i, m in enumerate(methods) if m.pk == method.pk)
        target = index + offset
        if 0 <= target < len(methods):
            methods[index], methods[target] = methods[target], methods[index]
        changed = []
        for position, row in enumerate(methods):
            if row.position != position:
                row.position = position
                changed.append(row)
        ShippingMethod.objects.bulk_update(changed, ["position"])
    method.position = next(m.position for m in methods if m.pk == method.pk)
    return method
