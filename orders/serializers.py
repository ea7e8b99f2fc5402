"""API shapes for prices, checkouts and orders. Output only, plus input validation of types:
every rule lives in the services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import AddressInputSerializer
from catalog.serializers import storage_url
from orders.models import Order, OrderEvent, OrderLine, SellerOrder
from orders.selectors import order_guest_token
from payments.gateways import payment_method_label
from pricing.models import ShippingMethod
from pricing.serializers import MONEY, BreakdownSerializer
from shop.core.api import ModelSerializerBuiltOnce
from shop.core.fields import DecimalApiField, IntegerApiField


class ShippingMethodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShippingMethod
        fields = ["id", "name", "kind", "price", "price_per_kg", "free_above"]


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
