"""Warehouses, stock counters and the rows that explain them.

The invariant (DESIGN.md, "Inventory"): per stock row `allocated + reserved <= on_hand`, every
counter >= 0, enforced by CHECK constraints in PostgreSQL. The only exception is a stock row whose
`backorder_allowed` flag is set (copied from the variant's backorder policy), and the CHECK says so
explicitly. Counters are changed only by `inventory.services`, under row locks.

Reconciliation (`manage.py inventory_check`) proves, per stock row:
    reserved  == sum(Reservation.quantity)
    allocated == sum(Allocation.quantity - shipped_quantity - cancelled_quantity)
    on_hand   == sum(StockMovement.delta)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from shop.core.models import BaseModel


class Warehouse(BaseModel):
    """A place a seller keeps stock. Lower `priority` is preferred by the priority strategy."""

    seller = models.ForeignKey(
        "sellers.Seller", on_delete=models.PROTECT, related_name="warehouses"
    )
    code = models.SlugField(max_length=40, help_text="Short code, unique within the seller.")
    name = models.CharField(max_length=200)
    line1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code.")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    priority = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["seller_id", "priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "code"], name="inventory_warehouse_code"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="inventory_warehouse_lat_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="inventory_warehouse_lng_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Stock(BaseModel):
    """One variant in one warehouse. `available = on_hand - allocated - reserved`."""

    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.PROTECT, related_name="stocks"
    )
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stocks")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    backorder_allowed = models.BooleanField(
        default=False,
        help_text="Copied from the variant's backorder policy: the only case in which "
        "allocated + reserved may exceed on_hand.",
    )
    low_stock_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Available units at or below which this row is low on stock; empty uses the "
        "seller's default.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "warehouse"], name="inventory_stock_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_on_hand_nonneg"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0), name="inventory_allocated_nonneg"
            ),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="inventory_reserved_nonneg"),
            models.CheckConstraint(
                condition=Q(backorder_allowed=True)
                | Q(on_hand__gte=F("allocated") + F("reserved")),
                name="inventory_no_oversell",
            ),
        ]
        indexes = [models.Index(fields=["warehouse", "variant"], name="inventory_stock_wh_var")]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.warehouse_id}"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated - self.reserved


class Reservation(BaseModel):
    """Units held for a checkout (`holder`) until `expires_at`. An expired row keeps its units
    counted in `Stock.reserved` until it is released (lazily under the lock, or by the sweeper),
    but reads of availability already treat it as free."""

    holder = models.CharField(max_length=100, db_index=True)
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_reservation_qty"),
            models.UniqueConstraint(
                fields=["holder", "stock"], name="inventory_reservation_holder_stock"
            ),
        ]
        indexes = [
            models.Index(fields=["stock", "expires_at"], name="inventory_res_stock_exp"),
            models.Index(fields=["expires_at"], name="inventory_res_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.holder}: {self.quantity} of stock {self.stock_id}"


class Allocation(BaseModel):
    """Units sold to an order line. The outstanding part, `quantity - shipped_quantity -
    cancelled_quantity`, counts in `Stock.allocated`; rows are kept after shipping and cancelling
    so a replayed conversion finds them (idempotency) and returns know what was shipped.
    `order_line_id` is a plain id owned by the orders app (no foreign key, so inventory does not
    depend on orders)."""

    order_line_id = models.BigIntegerField(db_index=True)
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="allocations")
    quantity = models.PositiveIntegerField()
    shipped_quantity = models.PositiveIntegerField(default=0)
    cancelled_quantity = models.PositiveIntegerField(default=0)
    returned_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_line_id", "stock"], name="inventory_allocation_line_stock"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_allocation_qty"),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("shipped_quantity") + F("cancelled_quantity")),
                name="inventory_allocation_outstanding_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=F("shipped_quantity")),
                name="inventory_allocation_returned_le_shipped",
            ),
        ]

    @property
    def outstanding(self) -> int:
        return self.quantity - self.shipped_quantity - self.cancelled_quantity

    def __str__(self) -> str:
        return f"line {self.order_line_id}: {self.quantity} of stock {self.stock_id}"


class MovementReason(models.TextChoices):
    RECEIVE = "receive", "Received"
    SALE = "sale", "Shipped to a customer"
    RETURN = "return", "Returned by a customer"
    ADJUSTMENT = "adjustment", "Adjustment"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    WRITE_OFF = "write_off", "Write-off"
    # the sum of a month of movements archived by partitions_maintain, so that on_hand still
    # equals the sum of the rows kept
    CARRIED_FORWARD = "carried_forward", "Carried forward from archived months"


class StockMovement(models.Model):
    """The ledger: one row per change of `Stock.on_hand`. Rows are never edited."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="movements")
    reason = models.CharField(max_length=20, choices=MovementReason.choices)
    delta = models.IntegerField()
    on_hand_after = models.IntegerField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stock_movements",
    )
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="inventory_movement_nonzero"),
        ]
        indexes = [models.Index(fields=["stock", "created_at"], name="inventory_move_stock_at")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.delta:+d} on stock {self.stock_id}"


class InboundStatus(models.TextChoices):
    OPEN = "open", "Expected"
    RECEIVED = "received", "Received"
    CANCELLED = "cancelled", "Cancelled"


class InboundShipment(BaseModel):
    """Goods a seller expects at one of its warehouses. While open, its lines count as
    "incoming"; receiving it books what actually arrived through `stock_receive` and closes it
    (a short delivery closes it too: the rest is not coming on this shipment)."""

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="inbound_shipments"
    )
    reference = models.CharField(max_length=100, blank=True, help_text="Supplier or carrier ref.")
    expected_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=InboundStatus.choices, default=InboundStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["warehouse", "status"], name="inventory_inbound_wh_status")]

    def __str__(self) -> str:
        return f"inbound {self.pk} to {self.warehouse_id} ({self.status})"


class InboundShipmentLine(models.Model):
    shipment = models.ForeignKey(InboundShipment, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.PROTECT, related_name="inbound_lines"
    )
    expected_quantity = models.PositiveIntegerField()
    received_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "variant"], name="inventory_inbound_line_variant"
            ),
            models.CheckConstraint(
                condition=Q(expected_quantity__gt=0), name="inventory_inbound_line_expected"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expected_quantity} of {self.variant_id} on inbound {self.shipment_id}"
