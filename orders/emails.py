"""Customer emails about orders, rendered from templates/emails/."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from orders.links import order_follow_path
from orders.models import Order
from orders.selectors import order_refunds

SUBJECTS = {
    "placed": "Your order {number} is confirmed",
    "cancelled": "Your order {number} was cancelled",
    "refunded": "A refund for your order {number}",
    # fulfilment (fulfilment.services): the templates read the order's shipments and returns
    "shipped": "Your order {number} is on its way",
    "out_for_delivery": "Your order {number} is out for delivery",
    "delivered": "Your order {number} was delivered",
    "delivery_exception": "A problem delivering your order {number}",
    "return": "Your return for order {number}",
}


def order_email_send(*, order_id: int, kind: str) -> None:
    if kind not in SUBJECTS:
        raise ValueError(f"unknown order email {kind!r}")
    order = (
        Order.objects.prefetch_related("seller_orders__seller", "seller_orders__lines")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        return
    context = {
        "order": order,
        "order_url": settings.SITE_URL + order_follow_path(order=order),
    }
    if kind == "refunded":
        context["refunds"] = order_refunds(order=order)
    send_mail(
        subject=SUBJECTS[kind].format(number=order.number),
        message=render_to_string(f"emails/order_{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[order.email],
        html_message=render_to_string(f"emails/order_{kind}.html", context),
    )
