"""API shapes for prices, checkouts and orders. Output only, plus input validation of types:
every rule lives in the services."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from accounts.models import Address
from orders.models import Order, OrderEvent, OrderLine, SellerOrder, ShippingMethod
from shop.core.api import ModelSerializerBuiltOnce
from shop.core.fields import DecimalApiField, IntegerApiField, max_length_of

MONEY = {"max_digits": 20, "decimal_places": 2}


class LinePriceSerializer(serializers.Serializer):
    variant_id = IntegerApiField(source="variant.pk")
    sku = serializers.CharField(source="variant.sku")
    product_name = serializers.CharField(source="variant.product.name")
    variant_name = serializers.CharField(source="variant.name")
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


class ShippingMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShippingMethod
        fields = ["id", "name", "kind", "price", "price_per_kg", "free_above"]


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


def _address_text(name: str, **options) -> serializers.CharField:
    """A text field as long as the Address column it fills."""
    return serializers.CharField(max_length=max_length_of(Address, name), **options)


class AddressInputSerializer(serializers.Serializer):
    full_name = _address_text("full_name")
    line1 = _address_text("line1")
    line2 = _address_text("line2", required=False, allow_blank=True)
    city = _address_text("city")
    region = _address_text("region", required=False, allow_blank=True)
    postal_code = _address_text("postal_code")
    country = _address_text("country", min_length=2)
    phone = _address_text("phone", required=False, allow_blank=True)


class CheckoutUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False)
    address_id = IntegerApiField(required=False)
    address = AddressInputSerializer(required=False)
    shipping = serializers.DictField(
        child=IntegerApiField(),
        required=False,
        help_text="{seller_id: shipping_method_id} for every seller in the cart.",
    )


class CheckoutSerializer(serializers.Serializer):
    token = serializers.UUIDField()
    status = serializers.CharField()
    email = serializers.EmailField()
    reserved_until = serializers.DateTimeField()
    shipping_address = AddressInputSerializer(allow_null=True)
    shipping_choices = serializers.DictField(child=IntegerApiField())
    shipping_options = serializers.DictField(
        child=ShippingMethodSerializer(many=True), help_text="Methods offered, per seller id."
    )
    totals = BreakdownSerializer()


class PlaceOrderSerializer(serializers.Serializer):
    payment_token = serializers.CharField(max_length=100, required=False, allow_blank=True)
    expected_total = DecimalApiField(
        **MONEY,
        required=False,
        help_text="The total the shopper reviewed; placement is refused if it changed.",
    )


class OrderLineSerializer(ModelSerializerBuiltOnce):
    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "product_name",
            "variant_name",
            "quantity",
            "unit_price",
            "subtotal",
            "discount",
            "tax_rate",
            "tax",
            "total",
        ]


class OrderEventSerializer(ModelSerializerBuiltOnce):
    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "reason", "created_at", "seller_order"]


class SellerOrderSerializer(ModelSerializerBuiltOnce):
    seller_name = serializers.CharField(source="seller.name")
    lines = OrderLineSerializer(many=True)

    class Meta:
        model = SellerOrder
        fields = [
            "id",
            "seller_name",
            "status",
            "shipping_method_name",
            "subtotal",
            "discount_total",
            "shipping_total",
            "tax_total",
            "total",
            "lines",
        ]


ORDER_FIELDS = [
    "number",
    "status",
    "placed_at",
    "currency",
    "subtotal",
    "discount_total",
    "shipping_total",
    "tax_total",
    "total",
]


class OrderListSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ORDER_FIELDS


class OrderDetailSerializer(ModelSerializerBuiltOnce):
    seller_orders = SellerOrderSerializer(many=True)
    events = OrderEventSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            *ORDER_FIELDS,
            "email",
            "shipping_address",
            "voucher_code",
            "seller_orders",
            "events",
        ]
