"""Fulfilment: what a seller sent (shipments per seller order and warehouse, with their lines and
tracking events) and what came back (return requests and their lines).

Rows are written by `fulfilment.services` only. Idempotency lives in the database: a shipment or
a return request is unique per (seller order, key), a tracking event per (shipment, external id),
so a replayed request or task finds what the first one wrote.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from shop.core.models import BaseModel


class ShipmentStatus(models.TextChoices):
    SHIPPED = "shipped", "Shipped"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    EXCEPTION = "exception", "Delivery problem"


class Shipment(BaseModel):
    """One parcel: units of a seller order's lines sent from one warehouse with one carrier."""

    seller_order = models.ForeignKey(
        "orders.SellerOrder", on_delete=models.PROTECT, related_name="shipments"
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, related_name="shipments"
    )
    key = models.CharField(max_length=64, help_text="The request that shipped it (idempotency).")
    carrier = models.CharField(max_length=20)
    service = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=64)
    status = models.CharField(
        max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.SHIPPED
    )
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    label = models.OneToOneField(
        "fulfilment.LabelPurchase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipment",
        help_text="The label bought from a label-selling carrier (EasyPost), if any.",
    )

    class Meta:
        ordering = ["shipped_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["seller_order", "key"], name="fulfilment_shipment_key"),
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="fulfilment_shipment_tracking"
            ),
        ]
        indexes = [models.Index(fields=["status", "carrier"], name="fulfilment_shipment_open")]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="shipment_lines"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "order_line"], name="fulfilment_shipmentline_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="fulfilment_shipline_qty"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.order_line_id}"


class TrackingEvent(models.Model):
    """One piece of carrier news, stored once (`external_id` is the carrier's event id)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    external_id = models.CharField(max_length=100)
    status = models.CharField(max_length=20, choices=ShipmentStatus.choices)
    description = models.CharField(max_length=255, blank=True)
    location = models.CharField(max_length=120, blank=True)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "external_id"], name="fulfilment_tracking_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.status} at {self.occurred_at:%Y-%m-%d %H:%M}"


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved: send it back"
    REJECTED = "rejected", "Rejected"
    RECEIVED = "received", "Received and refunded"


class ReturnRequest(BaseModel):
    """A shopper's request to send units of one seller order back (an RMA)."""

    seller_order = models.ForeignKey(
        "orders.SellerOrder", on_delete=models.PROTECT, related_name="returns"
    )
    key = models.CharField(max_length=64, help_text="The request that created it (idempotency).")
    status = models.CharField(
        max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED
    )
    reason = models.CharField(max_length=500)
    decision_note = models.CharField(
        max_length=500, blank=True, help_text="Return instructions, or why it was rejected."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    refund_id = models.BigIntegerField(null=True, blank=True)
    return_label = models.OneToOneField(
        "fulfilment.LabelPurchase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="return_request",
        help_text="The return label bought on approval when EasyPost is configured.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["seller_order", "key"], name="fulfilment_return_key"),
        ]
        indexes = [models.Index(fields=["status"], name="fulfilment_return_status")]

    def __str__(self) -> str:
        return f"Return {self.pk} ({self.status})"


class ReturnLine(models.Model):
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines"
    )
    quantity = models.PositiveIntegerField()
    restocked = models.BooleanField(
        null=True, blank=True, help_text="Set when received: back in stock, or written off."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["return_request", "order_line"], name="fulfilment_returnline_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="fulfilment_returnline_qty"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x line {self.order_line_id}"


class ReturnPhoto(models.Model):
    """A picture the shopper attached to a return request (checked like product images)."""

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(upload_to="returns/%Y/%m/")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Photo {self.pk} of return {self.return_request_id}"


class LabelStatus(models.TextChoices):
    QUOTED = "quoted", "Quoted"
    BOUGHT = "bought", "Bought"


class LabelPurchase(BaseModel):
    """A label bought from a carrier (EasyPost), once per `reference` (a shipment request
    "ship:<seller order>:<key>" or a return "return:<id>"). The quote is saved before the label is
    bought, so a retry buys the same quote again (EasyPost sells it once) and never a second
    label."""

    reference = models.CharField(max_length=120, unique=True)
    seller_order = models.ForeignKey(
        "orders.SellerOrder", on_delete=models.PROTECT, related_name="labels"
    )
    provider = models.CharField(max_length=20, default="easypost")
    status = models.CharField(
        max_length=10, choices=LabelStatus.choices, default=LabelStatus.QUOTED
    )
    quote_id = models.CharField(max_length=64, blank=True, help_text="EasyPost shipment id.")
    rate_id = models.CharField(max_length=64, blank=True)
    carrier = models.CharField(max_length=40, blank=True)
    service = models.CharField(max_length=60, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    label_url = models.URLField(max_length=500, blank=True)
    bought_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Label {self.reference} ({self.status})"
