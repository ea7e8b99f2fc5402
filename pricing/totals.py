"""The one place totals are computed, for the cart page, checkout, the API and placement.

Client-sent prices are never read: unit prices come from `catalog.selectors` (sale prices
included). Order of operations, each rounded once with ROUND_HALF_UP (DESIGN.md):

1. line subtotal = unit price x quantity
2. automatic promotion: the best single promotion on the product or its category subtree
   (percentage of the line subtotal, or a fixed amount per unit, never below zero)
3. voucher: on the eligible lines (all, or one seller's), after promotions; the discount is
   shared across those lines in proportion to their value, remainders in cents going to the
   largest lines first, so line discounts add up exactly to the voucher's amount
4. tax per line on the discounted line amount, at the destination's rate for the product's
   tax class (prices are tax-exclusive; a region-specific rate wins over the country rate)
5. shipping per seller with the chosen method, if its zone includes the destination; free when
   the seller's discounted subtotal reaches the method's threshold; taxed per seller at the
   destination's `shipping` rate where it has one (where shipping is not taxed, no row)

Rates come from the tax provider (`SHOP_TAX_PROVIDER`, default `TableTaxProvider`: the TaxRate
table, loaded from `orders/data/tax_rates.json`): the place to plug in a tax service.

Tax-inclusive display (`SHOP_PRICES_INCLUDE_TAX`) changes what is shown, never a total: a unit
price is shown as `price_with_tax(unit, rate)` (rounded once, ROUND_HALF_UP), a line as its net
amount plus its tax (the line's own rounded tax, so shown lines add up to the total).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from catalog.models import PATH_STEP, Category, ProductVariant
from catalog.selectors import variant_price_current, variants_priced
from pricing.models import (
    SHIPPING_TAX_CLASS,
    DiscountKind,
    Promotion,
    ShippingKind,
    ShippingMethod,
    TaxRate,
    Voucher,
)
from shop.core import db
from shop.core.errors import ValidationError
from shop.core.money import CENT, ZERO, quantize

HUNDRED = Decimal("100")
PATH_SEGMENT = PATH_STEP + 1  # "0000000007/": a category path is a run of these


@dataclass(frozen=True)
class PricingLine:
    variant_id: int
    quantity: int
    price_at_add: Decimal | None = None


@dataclass(frozen=True)
class Destination:
    country: str
    region: str = ""


@dataclass
class LinePrice:
    variant: ProductVariant
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    promotion: str = ""
    promotion_discount: Decimal = ZERO
    voucher_discount: Decimal = ZERO
    tax_rate: Decimal = Decimal("0")
    tax: Decimal = ZERO
    price_at_add: Decimal | None = None

    @property
    def discount(self) -> Decimal:
        return self.promotion_discount + self.voucher_discount

    @property
    def net(self) -> Decimal:
        return self.subtotal - self.discount

    @property
    def total(self) -> Decimal:
        return self.net + self.tax

    @property
    def unit_price_incl_tax(self) -> Decimal:
        """Display only: the unit price with this line's tax rate."""
        return price_with_tax(amount=self.unit_price, rate=self.tax_rate)

    @property
    def price_changed(self) -> bool:
        return self.price_at_add is not None and self.price_at_add != self.unit_price

    @property
    def seller_id(self) -> int:
        return self.variant.product.seller_id


@dataclass
class SellerPrice:
    seller_id: int
    seller_name: str
    lines: list[LinePrice] = field(default_factory=list)
    shipping_method: ShippingMethod | None = None
    shipping: Decimal = ZERO
    shipping_tax_rate: Decimal = Decimal("0")
    shipping_tax: Decimal = ZERO
    weight_grams: int = 0

    @property
    def subtotal(self) -> Decimal:
        return sum((line.subtotal for line in self.lines), ZERO)

    @property
    def discount(self) -> Decimal:
        return sum((line.discount for line in self.lines), ZERO)

    @property
    def goods_tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), ZERO)

    @property
    def tax(self) -> Decimal:
        """The goods' tax and the shipping's."""
        return self.goods_tax + self.shipping_tax

    @property
    def shipping_incl_tax(self) -> Decimal:
        return self.shipping + self.shipping_tax

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.tax + self.shipping


@dataclass(frozen=True)
class DiscountApplied:
    """What one discount did: `source` is "promotion" or "voucher"."""

    source: str
    name: str
    amount: Decimal


@dataclass
class PriceBreakdown:
    currency: str
    sellers: list[SellerPrice]
    discounts: list[DiscountApplied]
    voucher: Voucher | None = None
    voucher_error: str = ""
    missing_shipping: list[int] = field(default_factory=list)

    @property
    def lines(self) -> list[LinePrice]:
        return [line for seller in self.sellers for line in seller.lines]

    @property
    def subtotal(self) -> Decimal:
        return sum((s.subtotal for s in self.sellers), ZERO)

    @property
    def discount_total(self) -> Decimal:
        return sum((s.discount for s in self.sellers), ZERO)

    @property
    def net_total(self) -> Decimal:
        """Goods after discounts, before shipping and tax."""
        return self.subtotal - self.discount_total

    @property
    def goods_total_incl_tax(self) -> Decimal:
        """Goods after discounts with their tax, before shipping (the cart's tax-inclusive
        total)."""
        return self.net_total + sum((s.goods_tax for s in self.sellers), ZERO)

    @property
    def shipping_tax_total(self) -> Decimal:
        return sum((s.shipping_tax for s in self.sellers), ZERO)

    @property
    def shipping_total_incl_tax(self) -> Decimal:
        return self.shipping_total + self.shipping_tax_total

    @property
    def shipping_total(self) -> Decimal:
        return sum((s.shipping for s in self.sellers), ZERO)

    @property
    def tax_total(self) -> Decimal:
        return sum((s.tax for s in self.sellers), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount_total + self.shipping_total + self.tax_total


# Pricing's reads are prepared statements (shop.core.db): every cart view, checkout step and
# placement runs them, and the ORM spent more CPU building them than PostgreSQL running them.
_PROMOTIONS_SQL = f"""
SELECT {db.columns(Promotion, "pr")}, {db.columns(Category, "c")}
FROM {Promotion._meta.db_table} pr
LEFT JOIN {Category._meta.db_table} c ON c.id = pr.category_id
WHERE pr.is_active AND pr.starts_at <= %(at)s AND (pr.ends_at IS NULL OR pr.ends_at > %(at)s)
  AND (pr.product_id = ANY(%(products)s::bigint[]) OR c.path = ANY(%(paths)s::varchar[]))
"""  # noqa: S608 - model names


def _promotions_for(variants: Sequence[ProductVariant], at: datetime) -> list[Promotion]:
    """Live promotions on the variants' products or their categories' subtrees (each with its
    category loaded)."""
    product_ids = {v.product_id for v in variants}
    category_paths = {v.product.category.path for v in variants if v.product.category}
    ancestor_paths = {
        path[:i]
        for path in category_paths
        for i in range(PATH_SEGMENT, len(path) + 1, PATH_SEGMENT)
    }
    with db.hot_cursor() as cursor:
        cursor.execute(
            _PROMOTIONS_SQL,
            {"at": at, "products": sorted(product_ids), "paths": sorted(ancestor_paths)},
        )
        rows = cursor.fetchall()
    promotions = db.instances(Promotion, rows)
    categories = db.instances(Category, rows, start=len(Promotion._meta.concrete_fields))
    for promotion, category in zip(promotions, categories, strict=True):
        promotion.category = category if promotion.category_id is not None else None
    return promotions


def _promotion_discount(promotion: Promotion, line: LinePrice) -> Decimal:
    if promotion.kind == DiscountKind.PERCENTAGE:
        return quantize(line.subtotal * promotion.value / HUNDRED)
    return min(quantize(promotion.value * line.quantity), line.subtotal)


def _applies(promotion: Promotion, variant: ProductVariant) -> bool:
    if promotion.product_id is not None:
        return promotion.product_id == variant.product_id
    category = promotion.category
    return category is not None and variant.product.category.path.startswith(category.path)


def _share(amount: Decimal, lines: Sequence[LinePrice]) -> None:
    """Spread `amount` over `lines` by their net value; cents left by rounding down go to the
    largest lines first, so the shares add up to `amount` exactly."""
    base = sum((line.net for line in lines), ZERO)
    if base <= 0:
        return
    cents = int(amount / CENT)
    raw = [(line.net * cents / base, i) for i, line in enumerate(lines)]
    floors = [math.floor(r) for r, _ in raw]
    left = cents - sum(floors)
    for _, i in sorted(raw, key=lambda r: (-(r[0] - math.floor(r[0])), -lines[r[1]].net))[:left]:
        floors[i] += 1
    for line, share in zip(lines, floors, strict=True):
        line.voucher_discount = Decimal(share) * CENT


def voucher_get_usable(
    *, code: str, at: datetime, customer_email: str = ""
) -> tuple[Voucher | None, str]:
    """The voucher for `code` and "" if it may be used now, else (voucher or None, reason)."""
    voucher = Voucher.objects.filter(code__iexact=code.strip()).first()
    if voucher is None or not voucher.is_active:
        return None, f"The code “{code}” is not valid."
    if voucher.starts_at > at or (voucher.ends_at and voucher.ends_at <= at):
        return voucher, f"The code “{voucher.code}” is not valid at this time."
    if voucher.usage_limit is not None and voucher.times_used >= voucher.usage_limit:
        return voucher, f"The code “{voucher.code}” has been used up."
    if customer_email and voucher.per_customer_limit is not None:
        # its redemptions are the orders' (orders.models.VoucherRedemption)
        used = voucher.redemptions.filter(
            email__iexact=customer_email, released_at__isnull=True
        ).count()
        if used >= voucher.per_customer_limit:
            return voucher, f"You have already used the code “{voucher.code}”."
    return voucher, ""


def price_with_tax(*, amount: Decimal, rate: Decimal) -> Decimal:
    """A tax-exclusive amount shown with tax, rounded once (ROUND_HALF_UP)."""
    return quantize(amount * (1 + rate))


def tax_display_destination(destination: Destination | None) -> Destination:
    """Whose tax prices are shown with: the shopper's destination, else the default country."""
    return destination or Destination(settings.SHOP_TAX_DISPLAY_COUNTRY)


def tax_rates_for_display(*, destination: Destination | None = None) -> dict[str, Decimal]:
    """{tax class: rate} at `tax_display_destination(destination)`; one query."""
    return _tax_rates(tax_display_destination(destination))


class TaxProvider(Protocol):
    """Where rates come from: {tax class: rate} for a destination, with the class `shipping`
    when the destination taxes shipping. Called once per pricing; a tax service's client goes
    here (it must answer quickly or from its own cache: pricing runs on every cart view)."""

    def rates(self, *, destination: Destination) -> dict[str, Decimal]: ...


class TableTaxProvider:
    """The TaxRate table (one prepared statement): a region's row wins over the country's."""

    def rates(self, *, destination: Destination) -> dict[str, Decimal]:
        return _tax_table_rates(destination)


def tax_provider_get() -> TaxProvider:
    return import_string(settings.SHOP_TAX_PROVIDER)()


def _tax_rates(destination: Destination | None) -> dict[str, Decimal]:
    if destination is None:
        return {}
    return tax_provider_get().rates(destination=destination)


def _tax_table_rates(destination: Destination) -> dict[str, Decimal]:
    rows = db.hot_select(
        TaxRate,
        # the model's ordering, then id: if "BY" and "by" both exist, the same one always wins
        "WHERE country = %s AND (region = '' OR UPPER(region) = UPPER(%s)) "
        "ORDER BY region, tax_class, id",
        [destination.country.upper(), destination.region],
    )
    rates: dict[str, Decimal] = {}
    for row in sorted(rows, key=lambda r: r.region != ""):
        rates[row.tax_class] = row.rate  # region-specific rows sort last and win
    return rates


def shipping_price(*, method: ShippingMethod, seller_net: Decimal, weight_grams: int) -> Decimal:
    if method.free_above is not None and seller_net >= method.free_above:
        return ZERO
    if method.kind == ShippingKind.WEIGHT:
        kilos = math.ceil(weight_grams / 1000) if weight_grams else 0
        return quantize(method.price + method.price_per_kg * kilos)
    return quantize(method.price)


def pricing_compute(
    *,
    lines: Sequence[PricingLine],
    destination: Destination | None = None,
    voucher_code: str = "",
    shipping_choices: Mapping[int, int] | None = None,
    customer_email: str = "",
    currency: str = "USD",
    at: datetime | None = None,
) -> PriceBreakdown:
    """Totals for `lines`. Unknown variant ids raise `ValidationError`. Sellers without a
    shipping choice are listed in `missing_shipping` (shipping 0 until chosen)."""
    at = at or timezone.now()
    quantities = {line.variant_id: line for line in lines}
    variants = {v.pk: v for v in variants_priced(variant_ids=quantities, at=at)}
    unknown = set(quantities) - set(variants)
    if unknown:
        raise ValidationError(f"Unknown product variant(s): {sorted(unknown)}.")

    promotions = _promotions_for(list(variants.values()), at)
    sellers: dict[int, SellerPrice] = {}
    discounts: dict[tuple[str, str], Decimal] = {}
    for variant_id, spec in quantities.items():
        variant = variants[variant_id]
        unit = quantize(variant_price_current(variant=variant, at=at))
        line = LinePrice(
            variant=variant,
            quantity=spec.quantity,
            unit_price=unit,
            subtotal=quantize(unit * spec.quantity),
            price_at_add=spec.price_at_add,
        )
        best = max(
            ((p, _promotion_discount(p, line)) for p in promotions if _applies(p, variant)),
            key=lambda pair: pair[1],
            default=None,
        )
        if best and best[1] > 0:
            line.promotion, line.promotion_discount = best[0].name, best[1]
            key = ("promotion", best[0].name)
            discounts[key] = discounts.get(key, ZERO) + best[1]
        owner = variant.product.seller
        bucket = sellers.setdefault(owner.pk, SellerPrice(owner.pk, owner.name))
        bucket.lines.append(line)
        bucket.weight_grams += variant.weight_grams * spec.quantity

    breakdown = PriceBreakdown(
        currency=currency,
        sellers=sorted(sellers.values(), key=lambda s: (s.seller_name, s.seller_id)),
        discounts=[],
    )
    if voucher_code:
        voucher, error = voucher_get_usable(code=voucher_code, at=at, customer_email=customer_email)
        if not error and voucher is not None:
            eligible = [
                line
                for line in breakdown.lines
                if voucher.seller_id is None or line.seller_id == voucher.seller_id
            ]
            base = sum((line.net for line in eligible), ZERO)
            if not eligible:
                error = f"The code “{voucher.code}” does not apply to anything in your cart."
            elif base < voucher.min_spend:
                error = f"The code “{voucher.code}” needs a spend of at least {voucher.min_spend}."
            else:
                if voucher.kind == DiscountKind.PERCENTAGE:
                    amount = quantize(base * voucher.value / HUNDRED)
                else:
                    amount = min(quantize(voucher.value), base)
                _share(amount, eligible)
                breakdown.voucher = voucher
                discounts[("voucher", voucher.code)] = amount
        breakdown.voucher_error = error

    rates = _tax_rates(destination)
    for line in breakdown.lines:
        line.tax_rate = rates.get(line.variant.product.tax_class, Decimal("0"))
        line.tax = quantize(line.net * line.tax_rate)

    choices = {int(k): int(v) for k, v in (shipping_choices or {}).items()}
    methods = {
        m.pk: m
        for m in db.hot_select(
            ShippingMethod, "WHERE id = ANY(%s::bigint[])", [sorted(set(choices.values()))]
        )
    }
    shipping_rate = rates.get(SHIPPING_TAX_CLASS, Decimal("0"))
    for seller in breakdown.sellers:
        method = methods.get(choices.get(seller.seller_id, 0))
        if (
            method is None
            or method.seller_id != seller.seller_id
            or not method.is_active
            or (destination is not None and not method.ships_to(destination.country))
        ):
            breakdown.missing_shipping.append(seller.seller_id)
            continue
        seller.shipping_method = method
        seller.shipping = shipping_price(
            method=method,
            seller_net=seller.subtotal - seller.discount,
            weight_grams=seller.weight_grams,
        )
        seller.shipping_tax_rate = shipping_rate
        seller.shipping_tax = quantize(seller.shipping * shipping_rate)
    breakdown.discounts = [
        DiscountApplied(src, name, amt) for (src, name), amt in discounts.items()
    ]
    return breakdown
