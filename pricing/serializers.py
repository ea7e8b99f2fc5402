"""API shapes of a price breakdown (`pricing.totals.PriceBreakdown`), shared by the cart and
the checkout: output only."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.serializers import storage_url
from shop.core.fields import DecimalApiField, IntegerApiField

MONEY = {"max_digits": 20, "decimal_places": 2}


class LinePriceSerializer(serializers.Serializer):
    variant_id = IntegerApiField(source="variant.pk")
    sku = serializers.CharField(source="variant.sku")
    product_name = serializers.CharField(source="variant.product.name")
    product_slug = serializers.CharField(source="variant.product.slug")
    variant_name = serializers.CharField(source="variant.name")
    thumbnail = serializers.SerializerMethodField()
    quantity = IntegerApiField()
    unit_price = DecimalApiField(**MONEY)
    subtotal = DecimalApiField(**MONEY)
    promotion = serializers.CharField()
    promotion_discount = DecimalApiField(**MONEY)
    voucher_discount = DecimalApiField(**MONEY)
    tax_rate = DecimalApiField(max_digits=6, decimal_places=4)
    tax = DecimalApiField(**MONEY)
    total = DecimalApiField(**MONEY)
    unit_price_incl_tax = DecimalApiField(
        **MONEY, help_text="Display only: the unit price with this line's tax rate."
    )
    price_changed = serializers.BooleanField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, line) -> str | None:
        return storage_url(self.context, getattr(line.variant, "image_name", None))


class SellerPriceSerializer(serializers.Serializer):
    seller_id = IntegerApiField()
    seller_name = serializers.CharField()
    shipping_method_id = IntegerApiField(source="shipping_method.pk", allow_null=True)
    subtotal = DecimalApiField(**MONEY)
    discount = DecimalApiField(**MONEY)
    shipping = DecimalApiField(**MONEY)
    tax = DecimalApiField(**MONEY)
    total = DecimalApiField(**MONEY)
    lines = LinePriceSerializer(many=True)


class DiscountSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=["promotion", "voucher"])
    name = serializers.CharField()
    amount = DecimalApiField(**MONEY)


class BreakdownSerializer(serializers.Serializer):
    currency = serializers.CharField()
    subtotal = DecimalApiField(**MONEY)
    discount_total = DecimalApiField(**MONEY)
    shipping_total = DecimalApiField(**MONEY)
    tax_total = DecimalApiField(**MONEY)
    total = DecimalApiField(**MONEY)
    goods_total_incl_tax = DecimalApiField(
        **MONEY, help_text="Goods after discounts with their tax, before shipping."
    )
    prices_include_tax = serializers.SerializerMethodField(
        help_text="True when the shop shows prices with tax (SHOP_PRICES_INCLUDE_TAX): show "
        "`unit_price_incl_tax` and `goods_total_incl_tax` then."
    )
    discounts = DiscountSerializer(many=True)
    voucher_error = serializers.CharField()
    missing_shipping = serializers.ListField(child=IntegerApiField())
    sellers = SellerPriceSerializer(many=True)

    def get_prices_include_tax(self, obj) -> bool:
        return settings.SHOP_PRICES_INCLUDE_TAX
