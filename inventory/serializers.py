"""Shapes of the seller inventory API. Input serializers only parse; the services decide."""

from __future__ import annotations

from rest_framework import serializers

from inventory.models import MovementReason, Stock, StockMovement, Warehouse
from inventory.selectors import STOCK_STATUSES
from inventory.services import MAX_LINE_QUANTITY
from shop.core.fields import DecimalApiField, IntegerApiField


class WarehouseSerializer(serializers.ModelSerializer):
    latitude = DecimalApiField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = DecimalApiField(
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        required=False,
        allow_null=True,
    )

    class Meta:
        model = Warehouse
        fields = [
            "id",
            "code",
            "name",
            "line1",
            "city",
            "postal_code",
            "country",
            "latitude",
            "longitude",
            "priority",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # uniqueness per seller is checked by the service (the seller is not a field here)
        validators: list = []


class StockSerializer(serializers.ModelSerializer):
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    sku = serializers.CharField(source="variant.sku", read_only=True)
    product_name = serializers.CharField(source="variant.product.name", read_only=True)
    available = IntegerApiField(source="available_now", read_only=True)
    incoming = IntegerApiField(read_only=True)
    low_stock_limit = IntegerApiField(read_only=True)

    class Meta:
        model = Stock
        fields = [
            "id",
            "warehouse",
            "warehouse_code",
            "variant",
            "sku",
            "product_name",
            "on_hand",
            "allocated",
            "reserved",
            "available",
            "incoming",
            "low_stock_threshold",
            "low_stock_limit",
            "backorder_allowed",
            "updated_at",
        ]
        read_only_fields = fields


class StockMovementSerializer(serializers.ModelSerializer):
    warehouse = IntegerApiField(source="stock.warehouse_id", read_only=True)
    variant = IntegerApiField(source="stock.variant_id", read_only=True)
    sku = serializers.CharField(source="stock.variant.sku", read_only=True)
    actor = serializers.EmailField(
        source="actor.email", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "created_at",
            "stock",
            "warehouse",
            "variant",
            "sku",
            "reason",
            "delta",
            "on_hand_after",
            "actor",
            "reference",
            "note",
        ]
        read_only_fields = fields


def _quantity() -> IntegerApiField:
    return IntegerApiField(min_value=1, max_value=MAX_LINE_QUANTITY)


class ReceiveSerializer(serializers.Serializer):
    warehouse = IntegerApiField(min_value=1)
    variant = IntegerApiField(min_value=1)
    quantity = _quantity()
    reason = serializers.CharField(max_length=500, required=False, default="")
    reference = serializers.CharField(max_length=100, required=False, default="")


class AdjustSerializer(serializers.Serializer):
    delta = IntegerApiField(min_value=-MAX_LINE_QUANTITY, max_value=MAX_LINE_QUANTITY)
    reason = serializers.CharField(max_length=500)
    reference = serializers.CharField(max_length=100, required=False, default="")

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("Enter a non-zero change.")
        return value


class WriteOffSerializer(serializers.Serializer):
    quantity = _quantity()
    reason = serializers.CharField(max_length=500)
    reference = serializers.CharField(max_length=100, required=False, default="")


class TransferSerializer(serializers.Serializer):
    to_warehouse = IntegerApiField(min_value=1)
    quantity = _quantity()
    reason = serializers.CharField(max_length=500, required=False, default="")


class StockFilterSerializer(serializers.Serializer):
    warehouse = IntegerApiField(min_value=1, required=False)
    variant = IntegerApiField(min_value=1, required=False)
    sku = serializers.CharField(max_length=64, required=False)
    q = serializers.CharField(max_length=200, required=False)
    status = serializers.ChoiceField(choices=STOCK_STATUSES, required=False)


class MovementFilterSerializer(serializers.Serializer):
    stock = IntegerApiField(min_value=1, required=False)
    warehouse = IntegerApiField(min_value=1, required=False)
    variant = IntegerApiField(min_value=1, required=False)
    reason = serializers.ChoiceField(choices=MovementReason.choices, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
