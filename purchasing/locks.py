"""Row locks of purchasing, in one place (inventory/locks.py holds the stock ones)."""

from __future__ import annotations

from purchasing.models import PurchaseOrder
from shop.core.errors import NotFound


def purchase_order_lock(*, pk: int) -> PurchaseOrder:
    order = PurchaseOrder.objects.select_for_update().filter(pk=pk).first()
    if order is None:
        raise NotFound("No such purchase order.")
    return order
