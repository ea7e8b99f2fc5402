"""Returns (RMA): the shopper asks to send back shipped units within the seller's return window;
the seller approves (with instructions) or rejects with a reason (staff may override a
rejection); receiving puts units back in stock or writes them off through
`inventory.services.stock_return` and gives the money back through
`orders.services.payments.order_refund`.

A return never covers more units than were shipped: every request, decision and receipt takes
the seller order's row lock first (then the order's), and counts the units of the other open or
received returns under it. Each step run twice has one effect (a request is unique per key; a
decision or receipt already made is returned as it is).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from catalog.services import image_validate
from fulfilment.carriers import label_carrier
from fulfilment.models import (
    LabelPurchase,
    ReturnLine,
    ReturnPhoto,
    ReturnRequest,
    ReturnStatus,
    ShipmentLine,
)
from fulfilment.selectors import return_window_ends, units_returnable
from fulfilment.services.labels import (
    address_of_order,
    address_of_warehouse,
    label_purchase,
    parcel_for,
)
from inventory.services import stock_return
from orders.models import Order, SellerOrder
from orders.services.payments import RefundRequest, order_refund
from payments.models import Refund
from shop.core.errors import Conflict, NotFound, ValidationError
from shop.core.outbox import outbox_enqueue

ORDER_EMAIL_TASK = "orders.tasks.order_email_send_task"
MAX_TEXT = 500
MAX_PHOTOS = 5


@dataclass(frozen=True)
class ReturnLineSpec:
    order_line_id: int
    quantity: int


def _text(value: object, *, field: str, required: bool, label: str) -> str:
    text = str(value or "").replace("\x00", "").strip()
    if required and not text:
        raise ValidationError(f"Enter {label}.", fields={field: [f"Enter {label}."]})
    if len(text) > MAX_TEXT:
        raise ValidationError(
            f"Keep {label} under {MAX_TEXT} characters.",
            fields={field: [f"At most {MAX_TEXT} characters."]},
        )
    return text


def _locked(seller_order_id: int) -> tuple[SellerOrder, Order]:
    seller_order = (
        SellerOrder.objects.select_for_update().select_related("seller").get(pk=seller_order_id)
    )
    order = Order.objects.select_for_update().get(pk=seller_order.order_id)
    seller_order.order = order
    return seller_order, order


def _email(order_id: int) -> None:
    outbox_enqueue(task=ORDER_EMAIL_TASK, kwargs={"order_id": order_id, "kind": "return"})


def return_request_create(
    *,
    order: Order,
    seller_order_id: int,
    lines: Sequence[ReturnLineSpec],
    reason: str,
    key: str,
    by=None,
    now: datetime | None = None,
    photos: Sequence[UploadedFile] = (),
) -> ReturnRequest:
    """The shopper asks to return units of one seller order of `order` (an order the caller
    fetched for this shopper). Within the seller's return window, shipped units only; up to
    MAX_PHOTOS pictures, checked like product images."""
    key = str(key or "").strip()[:64]
    if not key:
        raise ValidationError("A return request needs a request key.")
    if not SellerOrder.objects.filter(pk=seller_order_id, order_id=order.pk).exists():
        raise NotFound("No such part of this order.")
    existing = ReturnRequest.objects.filter(seller_order_id=seller_order_id, key=key).first()
    if existing is not None:
        return existing
    reason = _text(reason, field="reason", required=True, label="why you are returning it")
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(
            f"Attach at most {MAX_PHOTOS} photos.", fields={"photos": [f"At most {MAX_PHOTOS}."]}
        )
    for photo in photos:
        try:
            image_validate(upload=photo)
        except ValidationError as exc:
            raise ValidationError(
                f"{photo.name}: {' '.join(exc.fields.get('image', [exc.message]))}",
                fields={"photos": exc.fields.get("image", [exc.message])},
            ) from exc
    wanted = [line for line in lines if line.quantity]
    if not wanted:
        raise ValidationError(
            "Choose what to return.", fields={"lines": ["Enter a quantity for at least one item."]}
        )
    with transaction.atomic():
        seller_order, locked_order = _locked(seller_order_id)
        existing = ReturnRequest.objects.filter(seller_order_id=seller_order.pk, key=key).first()
        if existing is not None:
            return existing
        ends = return_window_ends(seller_order=seller_order)
        if ends is None:
            raise Conflict("Nothing of this order has shipped yet; nothing can be returned.")
        if (now or timezone.now()) > ends:
            raise Conflict(
                f"The return window of {seller_order.seller.name} "
                f"({seller_order.seller.return_window_days} days) ended on {ends:%Y-%m-%d}."
            )
        returnable = units_returnable(seller_order=seller_order)
        ours = set(seller_order.lines.values_list("pk", flat=True))
        seen: set[int] = set()
        for line in wanted:
            if line.order_line_id not in ours or line.order_line_id in seen:
                raise NotFound("That item is not part of this order.")
            seen.add(line.order_line_id)
            left = returnable.get(line.order_line_id, 0)
            if not isinstance(line.quantity, int) or not 0 < line.quantity <= left:
                raise ValidationError(
                    f"At most {left} of that item can be returned.",
                    fields={"lines": [f"At most {left}."]},
                )
        request = ReturnRequest.objects.create(
            seller_order=seller_order,
            key=key,
            reason=reason,
            requested_by=by if by is not None and by.is_authenticated else None,
        )
        ReturnLine.objects.bulk_create(
            ReturnLine(return_request=request, order_line_id=x.order_line_id, quantity=x.quantity)
            for x in wanted
        )
        for photo in photos:
            ReturnPhoto.objects.create(return_request=request, image=photo)
        _email(locked_order.pk)
    return request


def _decide(
    *, return_request: ReturnRequest, to: str, by, note: str, allowed_from: set[str]
) -> ReturnRequest:
    with transaction.atomic():
        _seller_order, order = _locked(return_request.seller_order_id)
        locked = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        if locked.status == to:
            return locked
        if locked.status not in allowed_from:
            raise Conflict(
                f"This return is {locked.get_status_display().lower()}; it cannot be "
                f"{ReturnStatus(to).label.split(':')[0].lower()} now."
            )
        locked.status = to
        locked.decision_note = note
        locked.decided_by = by if by is not None and by.is_authenticated else None
        locked.decided_at = timezone.now()
        locked.save(
            update_fields=["status", "decision_note", "decided_by", "decided_at", "updated_at"]
        )
        _email(order.pk)
    return locked


def _return_label_buy(return_request: ReturnRequest) -> LabelPurchase:
    """A return label from the shopper's address to the warehouse that shipped the first of the
    return's lines, bought once per return (`return:<id>`), its cost charged to the seller."""
    seller_order = SellerOrder.objects.select_related("order", "seller").get(
        pk=return_request.seller_order_id
    )
    lines = list(return_request.lines.all())
    shipped = (
        ShipmentLine.objects.filter(order_line_id__in=[x.order_line_id for x in lines])
        .select_related("shipment__warehouse")
        .order_by("pk")
        .first()
    )
    if shipped is None:
        raise Conflict("Nothing of this return was shipped; no return label can be bought.")
    return label_purchase(
        reference=f"return:{return_request.pk}",
        seller_order=seller_order,
        parcel=parcel_for([(x.order_line_id, x.quantity) for x in lines]),
        from_address=address_of_order(seller_order),
        to_address=address_of_warehouse(shipped.shipment.warehouse, seller_order.seller.name),
        is_return=True,
    )


def return_approve(
    *, return_request: ReturnRequest, by=None, instructions: str = "", override: bool = False
) -> ReturnRequest:
    """The seller accepts: the shopper sends the units back as the instructions say. Staff
    (`override`) may approve a return the seller rejected; its units count again. With EasyPost
    configured a return label is bought first (once per return, no lock held; an EasyPost error
    approves nothing) and attached; without it the instructions are all."""
    note = _text(instructions, field="instructions", required=False, label="instructions")
    allowed: set[str] = {ReturnStatus.REQUESTED, *([ReturnStatus.REJECTED] if override else [])}
    label = None
    fresh = ReturnRequest.objects.get(pk=return_request.pk)
    if label_carrier() is not None and fresh.status in allowed:
        label = _return_label_buy(fresh)
        if not note:
            note = f"Print the return label and send the parcel with {label.carrier}."
    with transaction.atomic():
        seller_order, _order = _locked(return_request.seller_order_id)
        current = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        if override and current.status == ReturnStatus.REJECTED:
            returnable = units_returnable(seller_order=seller_order)
            for line in current.lines.all():
                if line.quantity > returnable.get(line.order_line_id, 0):
                    raise Conflict("Other returns now cover these units; it cannot be approved.")
        if label is not None and current.status in allowed and current.return_label_id is None:
            current.return_label = label
            current.save(update_fields=["return_label", "updated_at"])
        return _decide(
            return_request=current,
            to=ReturnStatus.APPROVED,
            by=by,
            note=note,
            allowed_from=allowed,
        )


def return_reject(*, return_request: ReturnRequest, reason: str, by=None) -> ReturnRequest:
    note = _text(reason, field="reason", required=True, label="why it is rejected")
    return _decide(
        return_request=return_request,
        to=ReturnStatus.REJECTED,
        by=by,
        note=note,
        allowed_from={ReturnStatus.REQUESTED},
    )


def return_receive(
    *, return_request: ReturnRequest, restock: dict[int, bool] | bool = True, by=None
) -> ReturnRequest:
    """The parcel came back: each line's units go back on the shelf (`restock`) or are written
    off (per order line id, or one answer for all), and the money for them is refunded. Again
    on a received return: nothing more happens."""
    with transaction.atomic():
        seller_order, _order = _locked(return_request.seller_order_id)
        locked = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        if locked.status == ReturnStatus.RECEIVED:
            return locked
        if locked.status != ReturnStatus.APPROVED:
            raise Conflict("Only an approved return can be received.")
        lines = list(locked.lines.select_related("order_line"))
        by_line: dict[int, bool] = defaultdict(lambda: bool(restock))
        if isinstance(restock, dict):
            by_line.update({int(k): bool(v) for k, v in restock.items()})
        for line in lines:
            line.restocked = by_line[line.order_line_id]
            stock_return(
                order_line_id=line.order_line_id,
                quantity=line.quantity,
                restock=line.restocked,
                actor=by if by is not None and by.is_authenticated else None,
            )
        ReturnLine.objects.bulk_update(lines, ["restocked"])
        order_refund(
            seller_order=seller_order,
            lines=[
                RefundRequest(
                    order_line_id=line.order_line_id,
                    quantity=line.quantity,
                    restock=bool(line.restocked),
                    allocated=False,  # the stock came back above, through the return
                )
                for line in lines
            ],
            reason=f"Return {locked.pk} received.",
            by=by,
        )
        refund = Refund.objects.filter(seller_order_id=seller_order.pk).order_by("-pk").first()
        locked.status = ReturnStatus.RECEIVED
        locked.received_at = timezone.now()
        locked.refund_id = refund.pk if refund is not None else None
        locked.save(update_fields=["status", "received_at", "refund_id", "updated_at"])
    return locked
