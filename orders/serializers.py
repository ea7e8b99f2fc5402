"""API shapes for prices, checkouts and orders. Output only, plus input validation of types:
every rule lives in the services."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import AddressInputSerializer
from catalog.serializers import storage_url
from orders.models import Order, OrderEvent, OrderLine, SellerOrder, ShippingMethod
from orders.selectors import order_guest_token
from payments.gateways import payment_method_label
from shop.core.api import ModelSerializerBuiltOnce
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
    payment_token = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text=(
            "A payment method the device produced, confirmed by the server: a Stripe "
            "PaymentMethod id (`pm_...`), or a test gateway token (`tok_visa`, `tok_3ds`, "
            "`tok_pending`, `tok_decline`, `tok_unavailable`)."
        ),
    )
    payment_id = IntegerApiField(
        required=False,
        help_text=(
            "Or the payment the device confirmed itself (from `POST checkouts/<token>/payment/`"
            ", confirmed with Stripe's PaymentSheet): its state is read from the gateway."
        ),
    )
    return_url = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Where the bank's check (3-D Secure) returns the shopper (the app's URL).",
    )
    expected_total = DecimalApiField(
        **MONEY,
        required=False,
        help_text="The total the shopper reviewed; placement is refused if it changed.",
    )


class OrderLineSerializer(ModelSerializerBuiltOnce):
    """A line as bought (copied at placement), with where the product is now: `product_slug`
    and `thumbnail` are null when the product or its images are gone."""

    product_slug = serializers.CharField(allow_null=True, read_only=True)
    thumbnail = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "product_slug",
            "thumbnail",
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

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, line: OrderLine) -> str | None:
        return storage_url(self.context, getattr(line, "image_name", None))


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


class GuestOrderLookupSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=20)
    email = serializers.CharField(max_length=254)


class OrderDetailSerializer(ModelSerializerBuiltOnce):
    seller_orders = SellerOrderSerializer(many=True)
    events = OrderEventSerializer(many=True)
    payment_method = serializers.SerializerMethodField()
    guest_token = serializers.SerializerMethodField(
        help_text="Guest orders only: opens the order at GET /api/v1/orders/guest/<token>/."
    )

    def get_payment_method(self, order: Order) -> str:
        return payment_method_label(gateway=order.payment_gateway)

    def get_guest_token(self, order: Order) -> str | None:
        return order_guest_token(order=order) if order.user_id is None else None

    class Meta:
        model = Order
        fields = [
            *ORDER_FIELDS,
            "email",
            "shipping_address",
            "voucher_code",
            "payment_method",
            "guest_token",
            "seller_orders",
            "events",
        ]


class PaymentSerializer(serializers.Serializer):
    """A payment of a checkout, as a device needs it to pay (and to poll)."""

    id = serializers.IntegerField()
    gateway = serializers.CharField()
    status = serializers.CharField(
        help_text="needs_method, requires_action, processing, authorised, captured, canceled"
    )
    amount = DecimalApiField(**MONEY)
    currency = serializers.CharField()
    failure_message = serializers.CharField()
    order_number = serializers.CharField(allow_null=True)


class PaymentPrepareSerializer(PaymentSerializer):
    client_secret = serializers.CharField(
        help_text="For Stripe's PaymentSheet / Payment Element; never log or store it."
    )
    publishable_key = serializers.CharField(help_text='Stripe\'s publishable key ("" for test).')
    customer = serializers.CharField(allow_null=True)
    ephemeral_key = serializers.CharField(allow_null=True)
