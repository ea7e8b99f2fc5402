"""Suppliers and purchase orders, demand forecasts with their reorder advice, and the seller's
dynamic-pricing rules with the history of every price they changed.

Stock is never changed here: a sent purchase order is an inventory inbound shipment (the
"incoming" column), and receiving it books units through `inventory.services`."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from shop.core.models import BaseModel
from shop.core.money import money_field


class PurchasingSettings(BaseModel):
    """A seller's replenishment targets (absent: the defaults below)."""

    seller = models.OneToOneField(
        "sellers.Seller", on_delete=models.CASCADE, related_name="purchasing_settings"
    )
    service_level = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.9500"),
        help_text="Chance of not running out during a lead time (0.95 = 95%).",
    )
    review_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days of demand an order covers beyond the reorder point."
    )
    auto_draft = models.BooleanField(
        default=True, help_text="Draft purchase orders when stock falls below the reorder point."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(service_level__gt=Decimal("0.5"), service_level__lt=1),
                name="purchasing_settings_service_level",
            )
        ]


class Supplier(BaseModel):
    seller = models.ForeignKey("sellers.Seller", on_delete=models.CASCADE, related_name="suppliers")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    currency = models.CharField(max_length=3, default=settings.SHOP_CURRENCY)
    lead_time_days = models.PositiveSmallIntegerField(default=7)
    lead_time_sd_days = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("0"), help_text="Standard deviation."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["seller_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "name"], name="purchasing_supplier_name"),
            models.CheckConstraint(
                condition=Q(lead_time_sd_days__gte=0), name="purchasing_supplier_lt_sd"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SupplierItem(BaseModel):
    """What a supplier sells of one variant: its cost, minimum order and case pack."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, related_name="supplier_items"
    )
    cost_price = money_field()
    min_order_quantity = models.PositiveIntegerField(default=1)
    case_pack = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["supplier_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "variant"], name="purchasing_item_unique"),
            models.CheckConstraint(condition=Q(cost_price__gte=0), name="purchasing_item_cost"),
            models.CheckConstraint(condition=Q(min_order_quantity__gte=1), name="purchasing_moq"),
            models.CheckConstraint(condition=Q(case_pack__gte=1), name="purchasing_case_pack"),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id} from {self.supplier_id}"


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    PARTIALLY_RECEIVED = "partially_received", "Partially received"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class PurchaseOrder(BaseModel):
    """Goods ordered from one supplier for one warehouse. While sent, the open quantities are an
    inventory inbound shipment (`inbound_shipment`); each receipt books through it."""

    seller = models.ForeignKey(
        "sellers.Seller", on_delete=models.CASCADE, related_name="purchase_orders"
    )
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="orders")
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    status = models.CharField(
        max_length=20, choices=PurchaseOrderStatus.choices, default=PurchaseOrderStatus.DRAFT
    )
    currency = models.CharField(max_length=3)
    note = models.CharField(max_length=500, blank=True)
    expected_on = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    inbound_shipment = models.ForeignKey(
        "inventory.InboundShipment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The open inbound shipment holding what is still expected.",
    )
    from_suggestion = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["seller", "status"], name="purchasing_po_seller_status")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"PO-{self.pk:06d}"


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.PROTECT, related_name="purchase_lines"
    )
    quantity = models.PositiveIntegerField()
    received_quantity = models.PositiveIntegerField(default=0)
    unit_cost = money_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "variant"], name="purchasing_po_line_variant"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="purchasing_po_line_qty"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.variant_id} on {self.order_id}"

    @property
    def line_total(self):
        return self.unit_cost * self.quantity

    @property
    def open_quantity(self) -> int:
        return max(self.quantity - self.received_quantity, 0)


class ForecastRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class ForecastRun(BaseModel):
    """One pass over stock rows (one seller's, or every seller's at night), in chunks of stock
    ids in ascending order. `cursor` is the last stock id whose forecast is stored: a run whose
    worker died resumes after it, so each row is forecast once per run."""

    seller = models.ForeignKey(
        "sellers.Seller",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="forecast_runs",
    )
    status = models.CharField(
        max_length=10, choices=ForecastRunStatus.choices, default=ForecastRunStatus.QUEUED
    )
    horizon_days = models.PositiveSmallIntegerField(default=28)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    cursor = models.BigIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    drafted_orders = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="purchasing_run_status")]

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


class DemandForecast(BaseModel):
    """The latest forecast of one stock row (variant x warehouse) and the reorder advice made
    from it. Rewritten by each run."""

    stock = models.OneToOneField(
        "inventory.Stock", on_delete=models.CASCADE, related_name="demand_forecast"
    )
    seller = models.ForeignKey(
        "sellers.Seller", on_delete=models.CASCADE, related_name="demand_forecasts"
    )
    run = models.ForeignKey(ForecastRun, on_delete=models.SET_NULL, null=True, related_name="+")
    model = models.CharField(max_length=60)
    backtest_wape = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    history_days = models.PositiveIntegerField(default=0)
    censored_days = models.PositiveIntegerField(default=0)
    mean_daily = models.DecimalField(max_digits=14, decimal_places=4)
    sigma_daily = models.DecimalField(max_digits=14, decimal_places=4)
    # [[iso date, forecast, lo, hi], ...] and the last days of history [[iso date, units], ...]
    points = models.JSONField(default=list)
    history = models.JSONField(default=list)
    available = models.IntegerField(default=0)
    incoming = models.IntegerField(default=0)
    safety_stock = models.PositiveIntegerField(default=0)
    reorder_point = models.PositiveIntegerField(default=0)
    order_up_to = models.PositiveIntegerField(default=0)
    suggested_quantity = models.PositiveIntegerField(default=0)
    reorder_by = models.DateField(null=True, blank=True)
    supplier = models.ForeignKey(
        Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["seller", "suggested_quantity"], name="purchasing_fc_seller_sugg")
        ]


class PricingStrategy(models.TextChoices):
    RAISE_LOW_COVER = "raise_low_cover", "Raise when days of cover fall under N"
    MARKDOWN_AGEING = "markdown_ageing", "Mark down stock that covers more than N days"
    FOLLOW_DEMAND = "follow_demand", "Follow demand against the forecast"


class PricingRule(BaseModel):
    """A seller's rule for one variant, or for every variant of its products in a category
    subtree (a variant's own rule wins): the strategy moves the price by `step_percent` at most
    once a day, never outside [floor, ceiling] and never by more than `max_change_percent` of
    the day's opening price."""

    seller = models.ForeignKey(
        "sellers.Seller", on_delete=models.CASCADE, related_name="pricing_rules"
    )
    variant = models.OneToOneField(
        "catalog.ProductVariant",
        on_delete=models.CASCADE,
        related_name="pricing_rule",
        null=True,
        blank=True,
    )
    category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.CASCADE,
        related_name="pricing_rules",
        null=True,
        blank=True,
    )
    strategy = models.CharField(max_length=20, choices=PricingStrategy.choices)
    floor_price = money_field()
    ceiling_price = money_field()
    min_margin_percent = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    max_change_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("5"), help_text="Per day."
    )
    step_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("2"))
    cover_days = models.PositiveIntegerField(
        default=14, help_text="N: the days of cover the strategy compares against."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["seller_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(floor_price__gt=0), name="purchasing_rule_floor"),
            models.CheckConstraint(
                condition=Q(ceiling_price__gte=F("floor_price")), name="purchasing_rule_ceiling"
            ),
            models.CheckConstraint(
                condition=Q(max_change_percent__gt=0, max_change_percent__lte=50),
                name="purchasing_rule_max_change",
            ),
            models.CheckConstraint(
                condition=Q(variant__isnull=True, category__isnull=False)
                | Q(variant__isnull=False, category__isnull=True),
                name="purchasing_rule_variant_or_category",
            ),
            models.UniqueConstraint(
                fields=["seller", "category"],
                condition=Q(category__isnull=False),
                name="purchasing_rule_seller_category",
            ),
        ]


class PriceChange(models.Model):
    """Every price a rule (or its preview applied by a person) changed, with its reason."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    seller = models.ForeignKey("sellers.Seller", on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, related_name="price_changes"
    )
    rule = models.ForeignKey(
        PricingRule, on_delete=models.SET_NULL, null=True, related_name="changes"
    )
    old_price = money_field()
    new_price = money_field()
    reason = models.CharField(max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["variant", "created_at"], name="purchasing_pc_var_at")]

    def __str__(self) -> str:
        return f"{self.variant_id}: {self.old_price} -> {self.new_price}"
