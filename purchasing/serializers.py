"""Seller API shapes of purchasing. Input serializers parse (shared shop.core parsers); the
rules are the services'."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from purchasing.models import (
    DemandForecast,
    ForecastRun,
    PriceChange,
    PricingRule,
    PricingStrategy,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    SupplierItem,
)
from shop.core.fields import DecimalApiField, IntegerApiField


def _money(**kwargs) -> DecimalApiField:
    return DecimalApiField(max_digits=20, decimal_places=2, min_value=Decimal("0"), **kwargs)


class SupplierSerializer(serializers.ModelSerializer):
    lead_time_days = IntegerApiField(min_value=0, max_value=365, default=7)
    lead_time_sd_days = DecimalApiField(
        max_digits=6, decimal_places=2, min_value=Decimal("0"), default=Decimal("0")
    )

    class Meta:
        model = Supplier
        fields = [
            "id",
            "name",
            "email",
            "currency",
            "lead_time_days",
            "lead_time_sd_days",
            "is_active",
        ]
        read_only_fields = ["id"]


class SupplierItemSerializer(serializers.ModelSerializer):
    variant = IntegerApiField(source="variant_id", min_value=1)
    sku = serializers.CharField(source="variant.sku", read_only=True)
    cost_price = _money()
    min_order_quantity = IntegerApiField(min_value=1, max_value=100_000, default=1)
    case_pack = IntegerApiField(min_value=1, max_value=10_000, default=1)

    class Meta:
        model = SupplierItem
        fields = ["id", "variant", "sku", "cost_price", "min_order_quantity", "case_pack"]
        read_only_fields = ["id"]


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    variant = IntegerApiField(source="variant_id", min_value=1)
    sku = serializers.CharField(source="variant.sku", read_only=True)
    quantity = IntegerApiField(min_value=0, max_value=100_000)

    class Meta:
        model = PurchaseOrderLine
        fields = ["id", "variant", "sku", "quantity", "received_quantity", "unit_cost"]
        read_only_fields = ["id", "received_quantity", "unit_cost"]


class PurchaseOrderSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "status",
            "supplier",
            "warehouse",
            "currency",
            "note",
            "expected_on",
            "sent_at",
            "inbound_shipment",
            "from_suggestion",
            "lines",
            "created_at",
        ]
        read_only_fields = fields


class PurchaseOrderCreateSerializer(serializers.Serializer):
    supplier = IntegerApiField(min_value=1)
    warehouse = IntegerApiField(min_value=1)
    note = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    lines = PurchaseOrderLineSerializer(many=True)


class PurchaseOrderReceiveLineSerializer(serializers.Serializer):
    line = IntegerApiField(min_value=1)
    quantity = IntegerApiField(min_value=0, max_value=100_000)


class PurchaseOrderReceiveSerializer(serializers.Serializer):
    lines = PurchaseOrderReceiveLineSerializer(many=True)


class ForecastSerializer(serializers.ModelSerializer):
    variant = serializers.IntegerField(source="stock.variant_id", read_only=True)
    sku = serializers.CharField(source="stock.variant.sku", read_only=True)
    warehouse = serializers.IntegerField(source="stock.warehouse_id", read_only=True)

    class Meta:
        model = DemandForecast
        fields = [
            "id",
            "variant",
            "sku",
            "warehouse",
            "model",
            "backtest_wape",
            "history_days",
            "censored_days",
            "mean_daily",
            "sigma_daily",
            "available",
            "incoming",
            "safety_stock",
            "reorder_point",
            "order_up_to",
            "suggested_quantity",
            "reorder_by",
            "supplier",
            "reason",
            "points",
            "updated_at",
        ]
        read_only_fields = fields


class ForecastRunSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ForecastRun
        fields = [
            "id",
            "status",
            "done",
            "total",
            "percent",
            "horizon_days",
            "drafted_orders",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class PricingRuleSerializer(serializers.ModelSerializer):
    variant = IntegerApiField(source="variant_id", min_value=1, required=False, allow_null=True)
    category = IntegerApiField(source="category_id", min_value=1, required=False, allow_null=True)
    sku = serializers.CharField(source="variant.sku", read_only=True, allow_null=True, default=None)
    strategy = serializers.ChoiceField(choices=PricingStrategy.choices)
    floor_price = _money()
    ceiling_price = _money()
    min_margin_percent = DecimalApiField(max_digits=6, decimal_places=2, default=Decimal("0"))
    max_change_percent = DecimalApiField(max_digits=5, decimal_places=2, default=Decimal("5"))
    step_percent = DecimalApiField(max_digits=5, decimal_places=2, default=Decimal("2"))
    cover_days = IntegerApiField(min_value=1, max_value=365, default=14)

    class Meta:
        model = PricingRule
        fields = [
            "id",
            "variant",
            "category",
            "sku",
            "strategy",
            "floor_price",
            "ceiling_price",
            "min_margin_percent",
            "max_change_percent",
            "step_percent",
            "cover_days",
            "is_active",
        ]
        read_only_fields = ["id"]


class PriceProposalSerializer(serializers.Serializer):
    rule = serializers.IntegerField(source="rule.pk")
    variant = serializers.IntegerField(source="variant.pk")
    sku = serializers.CharField(source="variant.sku")
    current = serializers.DecimalField(max_digits=20, decimal_places=2)
    proposed = serializers.DecimalField(max_digits=20, decimal_places=2)
    changes = serializers.BooleanField()
    reason = serializers.CharField()
    blocked = serializers.CharField()


class PriceChangeSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="variant.sku", read_only=True)

    class Meta:
        model = PriceChange
        fields = ["id", "variant", "sku", "rule", "old_price", "new_price", "reason", "created_at"]
        read_only_fields = fields
