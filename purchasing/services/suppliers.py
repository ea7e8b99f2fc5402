"""Suppliers of a seller and what each sells (cost price, minimum order, case pack)."""

from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from catalog.models import ProductVariant
from purchasing.models import PurchasingSettings, Supplier, SupplierItem
from sellers.models import Seller
from shop.core.errors import NotFound, ValidationError

MAX_LEAD_TIME_DAYS = 365


def _supplier_values_check(
    *, name: str, currency: str, lead_time_days: int, lead_time_sd_days: Decimal
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name.strip() or len(name) > 200:
        errors["name"] = ["Enter a name of 1 to 200 characters."]
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = ["Enter a 3-letter currency code."]
    if not 0 <= lead_time_days <= MAX_LEAD_TIME_DAYS:
        errors["lead_time_days"] = [f"Enter 0 to {MAX_LEAD_TIME_DAYS} days."]
    if not 0 <= lead_time_sd_days <= MAX_LEAD_TIME_DAYS:
        errors["lead_time_sd_days"] = [f"Enter 0 to {MAX_LEAD_TIME_DAYS} days."]
    return errors


def supplier_save(
    *,
    seller: Seller,
    name: str,
    email: str = "",
    currency: str = "",
    lead_time_days: int = 7,
    lead_time_sd_days: Decimal = Decimal("0"),
    is_active: bool = True,
    supplier: Supplier | None = None,
) -> Supplier:
    """Create (supplier None) or update one of `seller`'s suppliers."""
    from django.conf import settings

    currency = (currency or settings.SHOP_CURRENCY).upper()
    errors = _supplier_values_check(
        name=name,
        currency=currency,
        lead_time_days=lead_time_days,
        lead_time_sd_days=lead_time_sd_days,
    )
    if errors:
        raise ValidationError("The supplier is invalid.", fields=errors)
    if supplier is not None and supplier.seller_id != seller.pk:
        raise NotFound("No such supplier.")
    supplier = supplier or Supplier(seller=seller)
    supplier.name = name.strip()
    supplier.email = email
    supplier.currency = currency
    supplier.lead_time_days = lead_time_days
    supplier.lead_time_sd_days = lead_time_sd_days
    supplier.is_active = is_active
    try:
        with transaction.atomic():
            supplier.save()
    except IntegrityError as exc:
        raise ValidationError(
            "You already have a supplier with this name.",
            fields={"name": ["This name is already used by another of your suppliers."]},
        ) from exc
    return supplier


def supplier_item_set(
    *,
    supplier: Supplier,
    variant_id: int,
    cost_price: Decimal,
    min_order_quantity: int = 1,
    case_pack: int = 1,
) -> SupplierItem:
    """What `supplier` charges for one of its seller's variants (created or replaced)."""
    errors: dict[str, list[str]] = {}
    if cost_price < 0:
        errors["cost_price"] = ["The cost cannot be negative."]
    if not 1 <= min_order_quantity <= 100_000:
        errors["min_order_quantity"] = ["Enter 1 to 100000."]
    if not 1 <= case_pack <= 10_000:
        errors["case_pack"] = ["Enter 1 to 10000."]
    if errors:
        raise ValidationError("The supplier item is invalid.", fields=errors)
    if not ProductVariant.objects.filter(
        pk=variant_id, product__seller_id=supplier.seller_id
    ).exists():
        raise NotFound("No such product variant in this shop.")
    item, _ = SupplierItem.objects.update_or_create(
        supplier=supplier,
        variant_id=variant_id,
        defaults={
            "cost_price": cost_price,
            "min_order_quantity": min_order_quantity,
            "case_pack": case_pack,
        },
    )
    return item


def supplier_item_delete(*, item: SupplierItem) -> None:
    item.delete()


def purchasing_settings_save(
    *, seller: Seller, service_level: Decimal, review_days: int, auto_draft: bool
) -> PurchasingSettings:
    errors: dict[str, list[str]] = {}
    if not Decimal("0.5") < service_level < 1:
        errors["service_level"] = ["Enter a service level above 0.5 and below 1 (0.95 = 95%)."]
    if not 0 <= review_days <= 365:
        errors["review_days"] = ["Enter 0 to 365 days."]
    if errors:
        raise ValidationError("The purchasing settings are invalid.", fields=errors)
    settings, _ = PurchasingSettings.objects.update_or_create(
        seller=seller,
        defaults={
            "service_level": service_level,
            "review_days": review_days,
            "auto_draft": auto_draft,
        },
    )
    return settings
