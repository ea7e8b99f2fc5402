"""The pricing rules: tax rates, automatic promotions, vouchers, sellers' shipping methods.

Below both the cart and orders (the cart shows totals, checkout and placement charge them),
so neither imports the other for them. The models keep the `orders` app label: their tables,
migrations and admin permissions are the orders app's as before; `orders.models` imports them,
which registers them when the app loads.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from shop.core.models import BaseModel
from shop.core.money import money_field

SHIPPING_NAME_TAKEN = "You already have a shipping method with this name."


SHIPPING_TAX_CLASS = "shipping"


class TaxRate(BaseModel):
    """Rate for a destination and a product tax class. An empty `region` is the country-wide
    rate; a region-specific row wins over it. The class `shipping` is the rate shipping is taxed
    at where the destination taxes it (no row: shipping is not taxed there). Loaded from
    `orders/data/tax_rates.json` by `manage.py tax_rates_load`; staff edit them in the admin."""

    country = models.CharField(max_length=2)
    region = models.CharField(max_length=100, blank=True)
    tax_class = models.CharField(max_length=10)
    rate = models.DecimalField(max_digits=6, decimal_places=4, help_text="0.1900 = 19%.")

    class Meta:
        app_label = "orders"  # its tables and migrations stay the orders app's
        ordering = ["country", "region", "tax_class"]
        constraints = [
            models.UniqueConstraint(
                fields=["country", "region", "tax_class"], name="orders_taxrate_unique"
            ),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=1), name="orders_taxrate_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country}/{self.region or '*'} {self.tax_class}: {self.rate}"


class DiscountKind(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage"
    FIXED = "fixed", "Fixed amount"


class Promotion(BaseModel):
    """An automatic discount on a product or on every product of a category subtree."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=DiscountKind.choices)
    value = money_field(help_text="Percent (10 = 10%) or amount per unit.")
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.CASCADE, null=True, blank=True
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        app_label = "orders"  # its tables and migrations stay the orders app's
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=False) | Q(product__isnull=False),
                name="orders_promotion_has_target",
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="orders_promotion_value_pos"),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__lte=100),
                name="orders_promotion_pct_max",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Voucher(BaseModel):
    """A code the shopper enters. `times_used` moves only by a guarded UPDATE in
    `voucher_redeem`, and the CHECK constraint makes exceeding `usage_limit` impossible."""

    code = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=10, choices=DiscountKind.choices)
    value = money_field()
    min_spend = money_field(default=0)
    seller = models.ForeignKey(
        "sellers.Seller",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text="Only this seller's lines; empty = platform-wide.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    per_customer_limit = models.PositiveIntegerField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        app_label = "orders"  # its tables and migrations stay the orders app's
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(times_used__lte=F("usage_limit")),
                name="orders_voucher_usage_limit",
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="orders_voucher_value_pos"),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__lte=100),
                name="orders_voucher_pct_max",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class ShippingKind(models.TextChoices):
    FLAT = "flat", "Flat rate"
    WEIGHT = "weight", "By weight"


class ShippingMethod(BaseModel):
    """A seller's way to ship to a zone (`countries`, empty = everywhere): a flat price, or
    base + per started kilogram; free when the seller's discounted subtotal reaches
    `free_above`."""

    seller = models.ForeignKey(
        "sellers.Seller", on_delete=models.CASCADE, related_name="shipping_methods"
    )
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=ShippingKind.choices, default=ShippingKind.FLAT)
    price = money_field(help_text="Flat price, or base price when by weight.")
    price_per_kg = money_field(default=0)
    free_above = money_field(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    countries = ArrayField(
        models.CharField(max_length=2),
        default=list,
        blank=True,
        help_text="The shipping zone: destination countries (ISO codes); empty ships everywhere.",
    )

    class Meta:
        app_label = "orders"  # its tables and migrations stay the orders app's
        ordering = ["seller_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0) & Q(price_per_kg__gte=0), name="orders_shipping_nonneg"
            ),
            # The service checks first for a friendly error; this closes the race between two
            # concurrent creates/renames (the service turns the violation into the same error).
            models.UniqueConstraint(
                Lower("name"),
                "seller",
                name="orders_shipping_unique_name",
                violation_error_message=SHIPPING_NAME_TAKEN,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.seller_id})"

    def ships_to(self, country: str) -> bool:
        return not self.countries or country.upper() in self.countries
