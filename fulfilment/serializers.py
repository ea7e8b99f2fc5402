"""Shapes of the fulfilment API (read) and its inputs (checked with the shared number parser)."""

from __future__ import annotations

from rest_framework import serializers

from fulfilment.models import (
    LabelPurchase,
    ReturnLine,
    ReturnRequest,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
from inventory.services import MAX_LINE_QUANTITY
from orders.models import FraudStatus, OrderLine
from shop.core.fields import IntegerApiField


class TrackingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["status", "description", "location", "occurred_at"]


class ShipmentLineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="order_line.product_name")
    sku = serializers.CharField(source="order_line.sku")

    class Meta:
        model = ShipmentLine
        fields = ["order_line_id", "sku", "product_name", "quantity"]


class ShipmentSerializer(serializers.ModelSerializer):
    lines = ShipmentLineSerializer(many=True)
    events = TrackingEventSerializer(many=True, help_text="The tracking timeline, oldest first.")
    warehouse_id = serializers.IntegerField()

    class Meta:
        model = Shipment
        fields = [
            "id",
            "warehouse_id",
            "carrier",
            "service",
            "tracking_number",
            "status",
            "shipped_at",
            "delivered_at",
            "lines",
            "events",
        ]


class LabelSerializer(serializers.ModelSerializer):
    """A label bought from EasyPost (its cost is charged to the seller)."""

    class Meta:
        model = LabelPurchase
        fields = ["carrier", "service", "tracking_number", "label_url", "cost", "currency"]


class ReturnLabelSerializer(serializers.ModelSerializer):
    """The return label the shopper prints (no cost: that is the seller's)."""

    class Meta:
        model = LabelPurchase
        fields = ["carrier", "service", "tracking_number", "label_url"]


class SellerShipmentSerializer(ShipmentSerializer):
    label = LabelSerializer(
        allow_null=True, read_only=True, help_text="The EasyPost label, when one was bought."
    )

    class Meta(ShipmentSerializer.Meta):
        fields = [*ShipmentSerializer.Meta.fields, "label"]


class ReturnLineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="order_line.product_name")

    class Meta:
        model = ReturnLine
        fields = ["order_line_id", "product_name", "quantity", "restocked"]


class ReturnSerializer(serializers.ModelSerializer):
    lines = ReturnLineSerializer(many=True)
    photos = serializers.SerializerMethodField(help_text="URLs of the shopper's photos.")
    return_label = ReturnLabelSerializer(
        allow_null=True, read_only=True, help_text="The label to send it back with, if bought."
    )

    class Meta:
        model = ReturnRequest
        fields = [
            "id",
            "seller_order_id",
            "status",
            "reason",
            "decision_note",
            "created_at",
            "decided_at",
            "received_at",
            "lines",
            "photos",
            "return_label",
        ]

    def get_photos(self, obj: ReturnRequest) -> list[str]:
        return [photo.image.url for photo in obj.photos.all()]


class ReturnableLineSerializer(serializers.Serializer):
    order_line_id = serializers.IntegerField()
    product_name = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Units that may still be returned.")


class OrderPartSerializer(serializers.Serializer):
    """One seller's part of the shopper's order: parcels, returns and what may be returned."""

    seller_order_id = serializers.IntegerField()
    seller = serializers.CharField()
    status = serializers.CharField()
    shipments = ShipmentSerializer(many=True)
    returns = ReturnSerializer(many=True)
    returnable = ReturnableLineSerializer(many=True)
    return_until = serializers.DateTimeField(allow_null=True)
    can_return = serializers.BooleanField()


class LineQuantitySerializer(serializers.Serializer):
    order_line_id = IntegerApiField(min_value=1, max_value=2**63 - 1)
    quantity = IntegerApiField(min_value=0, max_value=MAX_LINE_QUANTITY)


class ReturnCreateSerializer(serializers.Serializer):
    seller_order_id = IntegerApiField(min_value=1, max_value=2**63 - 1)
    lines = LineQuantitySerializer(many=True, allow_empty=False, max_length=200)
    reason = serializers.CharField(max_length=500)


class ShipmentCreateSerializer(serializers.Serializer):
    warehouse_id = IntegerApiField(min_value=1, max_value=2**63 - 1)
    carrier = serializers.CharField(
        max_length=20, help_text='A carrier code; "easypost" buys a label (when configured).'
    )
    tracking_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="Not with easypost."
    )
    service = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    lines = LineQuantitySerializer(many=True, allow_empty=False, max_length=200)


class RatesRequestSerializer(serializers.Serializer):
    warehouse_id = IntegerApiField(min_value=1, max_value=2**63 - 1)
    lines = LineQuantitySerializer(many=True, allow_empty=False, max_length=200)


class RateSerializer(serializers.Serializer):
    carrier = serializers.CharField()
    service = serializers.CharField(help_text='Send "<carrier> <service>" as `service` to buy it.')
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    delivery_days = serializers.IntegerField(allow_null=True)


class ReturnApproveSerializer(serializers.Serializer):
    instructions = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )


class ReturnRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ReturnReceiveSerializer(serializers.Serializer):
    restock = serializers.BooleanField(
        default=True, help_text="Back in stock (true) or written off as damaged (false)."
    )


class SellerOrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "sku", "product_name", "variant_name", "quantity", "unit_price", "total"]


class SellerOrderListSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    number = serializers.CharField(source="order.number")
    placed_at = serializers.DateTimeField(source="order.placed_at")
    email = serializers.EmailField(source="order.email")
    status = serializers.CharField()
    on_hold = serializers.SerializerMethodField(
        help_text="Not to be packed or shipped yet (the marketplace's checks; no reason given)."
    )
    currency = serializers.CharField()
    total = serializers.DecimalField(max_digits=20, decimal_places=2)
    ship_by = serializers.DateTimeField()
    late = serializers.BooleanField()
    delivered_at = serializers.DateTimeField(allow_null=True)

    def get_on_hold(self, seller_order) -> bool:
        return seller_order.order.fraud_status != FraudStatus.APPROVED


class SellerOrderDetailSerializer(SellerOrderListSerializer):
    shipping_address = serializers.JSONField(source="order.shipping_address")
    shipping_method_name = serializers.CharField()
    lines = SellerOrderLineSerializer(many=True)
    shipments = SellerShipmentSerializer(many=True)
    returns = ReturnSerializer(many=True)


class LineCancelSerializer(serializers.Serializer):
    quantity = IntegerApiField(min_value=1, max_value=MAX_LINE_QUANTITY)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LineRerouteSerializer(serializers.Serializer):
    from_warehouse_id = IntegerApiField(min_value=1, max_value=2**63 - 1)
    to_warehouse_id = IntegerApiField(min_value=1, max_value=2**63 - 1)
    quantity = IntegerApiField(min_value=1, max_value=MAX_LINE_QUANTITY)
