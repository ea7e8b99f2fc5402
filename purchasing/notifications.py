"""Emails of purchasing: a sent purchase order to its supplier, reorder alerts to the seller."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage, send_mail

from purchasing.documents import purchase_order_csv, purchase_order_pdf
from purchasing.models import PurchaseOrder
from sellers.models import Seller


def purchase_order_email_send(*, order_id: int) -> None:
    order = (
        PurchaseOrder.objects.select_related("seller", "supplier", "warehouse")
        .filter(pk=order_id)
        .first()
    )
    if order is None or not order.supplier.email:
        return
    message = EmailMessage(
        subject=f"Purchase order {order.number} from {order.seller.name}",
        body=(
            f"Please find purchase order {order.number} attached (PDF and CSV).\n"
            f"Deliver to {order.warehouse.name} by {order.expected_on}.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.supplier.email],
        reply_to=[order.seller.support_email] if order.seller.support_email else None,
    )
    message.attach(f"{order.number}.pdf", purchase_order_pdf(order=order), "application/pdf")
    message.attach(f"{order.number}.csv", purchase_order_csv(order=order), "text/csv")
    message.send()


def reorder_alert_send(*, seller_id: int, order_ids: list[int]) -> None:
    seller = Seller.objects.filter(pk=seller_id).first()
    if seller is None or not seller.support_email:
        return
    numbers = ", ".join(f"PO-{pk:06d}" for pk in order_ids)
    send_mail(
        subject=f"{len(order_ids)} purchase order(s) drafted for restocking",
        message=(
            f"Stock of some items fell below their reorder point. Drafts to review and send: "
            f"{numbers}.\n{settings.SITE_URL}/seller/purchasing/orders/\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[seller.support_email],
    )
