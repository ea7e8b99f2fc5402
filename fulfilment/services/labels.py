"""Labels bought from a label-selling carrier (EasyPost, when EASYPOST_API_KEY is set).

`label_purchase` buys at most one label per reference ("ship:<seller order>:<request key>" for a
parcel, "return:<id>" for a return), on its `LabelPurchase` row, with no row lock held while
EasyPost is called (DESIGN: never call a network service under a row lock):
1. quote: the carrier's rates for the parcel; the chosen one (the service the seller asked for,
   else the cheapest) is saved with its quote id by a conditional UPDATE (only if none is saved
   yet: a concurrent request's quote saved first wins, and both go on with it);
2. buy: the saved quote's label is bought; EasyPost sells one postage per shipment, so a second
   buyer (a double submit, a retry after a lost answer) is refused and the carrier reads the
   label already bought instead;
3. record: a conditional UPDATE (quoted -> bought) and, for whoever made it, the cost posted to
   the seller's ledger (`ledger.services.ledger_post_label_cost`, journal `label:<quote id>`, so
   once anyway) in one transaction.
So a label is never bought twice and its cost is posted once. A carrier error is a
`ValidationError` and nothing is shipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fulfilment.carriers import Address, Carrier, Label, Parcel, Rate, label_carrier
from fulfilment.models import LabelPurchase, LabelStatus
from inventory.models import Warehouse
from orders.models import Order, OrderLine, SellerOrder
from shop.core.errors import NotFound, ValidationError

DEFAULT_UNIT_GRAMS = 100  # a variant without a weight still weighs something


def label_carrier_required() -> Carrier:
    carrier = label_carrier()
    if carrier is None:
        raise ValidationError(
            "Labels cannot be bought: EasyPost is not configured.",
            fields={"carrier": ["Choose a carrier and type its tracking number."]},
        )
    return carrier


def parcel_for(quantities: Sequence[tuple[int, int]]) -> Parcel:
    """The parcel's weight from its lines' variants: [(order line id, units)]."""
    lines = OrderLine.objects.select_related("variant").in_bulk([pk for pk, _ in quantities])
    grams = 0
    for pk, units in quantities:
        line = lines.get(pk)
        weight = getattr(getattr(line, "variant", None), "weight_grams", 0) or DEFAULT_UNIT_GRAMS
        grams += weight * units
    return Parcel(weight_grams=max(grams, 1))


def address_of_warehouse(warehouse: Warehouse, name: str) -> Address:
    return Address(
        name=name,
        line1=warehouse.line1,
        city=warehouse.city,
        postal_code=warehouse.postal_code,
        country=warehouse.country,
    )


def address_of_order(seller_order: SellerOrder) -> Address:
    a = seller_order.order.shipping_address or {}
    return Address(
        name=str(a.get("full_name") or ""),
        line1=str(a.get("line1") or ""),
        line2=str(a.get("line2") or ""),
        city=str(a.get("city") or ""),
        region=str(a.get("region") or ""),
        postal_code=str(a.get("postal_code") or ""),
        country=str(a.get("country") or ""),
        phone=str(a.get("phone") or ""),
    )


def _label(row: LabelPurchase) -> Label:
    return Label(
        tracking_number=row.tracking_number,
        label_url=row.label_url,
        cost=row.cost or Decimal(0),
        currency=row.currency,
        carrier=row.carrier,
        service=row.service,
        quote_id=row.quote_id,
    )


def _in_currency(rates: Sequence[Rate], seller_order: SellerOrder) -> list[Rate]:
    """Only rates in the order's currency: the label's cost goes to the seller order's ledger,
    which keeps one currency."""
    currency = Order.objects.values_list("currency", flat=True).get(pk=seller_order.order_id)
    usable = [rate for rate in rates if rate.currency == currency.upper()]
    if not usable:
        quoted = ", ".join(sorted({rate.currency for rate in rates}))
        raise ValidationError(
            f"EasyPost quoted in {quoted}, but this order is in {currency}; no label was bought.",
            fields={"carrier": [f"No EasyPost rate in {currency}."]},
        )
    return usable


def _choose(rates: Sequence[Rate], service: str) -> Rate:
    wanted = service.strip().lower()
    if wanted:
        for rate in rates:  # cheapest first
            if wanted in (rate.service.lower(), f"{rate.carrier} {rate.service}".lower()):
                return rate
        offered = ", ".join(f"{r.carrier} {r.service}" for r in rates)
        raise ValidationError(
            f"EasyPost does not offer {service} for this parcel (offered: {offered}).",
            fields={"service": [f"One of: {offered}, or empty for the cheapest."]},
        )
    return rates[0]


def label_purchase(
    *,
    reference: str,
    seller_order: SellerOrder,
    parcel: Parcel,
    from_address: Address,
    to_address: Address,
    service: str = "",
    is_return: bool = False,
) -> LabelPurchase:
    """The label for `reference`, bought once (see the module's docstring). No row lock is held
    while EasyPost is called: the first quote saved wins (a conditional UPDATE), and EasyPost
    sells that quote's postage once, so concurrent or repeated calls end with one label."""
    carrier = label_carrier_required()
    row, _ = LabelPurchase.objects.get_or_create(
        reference=reference[:120], defaults={"seller_order": seller_order}
    )
    if row.status == LabelStatus.BOUGHT:
        return row
    if not row.quote_id:
        rates = carrier.rates(
            parcel=parcel, from_address=from_address, to_address=to_address, is_return=is_return
        )
        rate = _choose(_in_currency(rates, seller_order), service)
        LabelPurchase.objects.filter(pk=row.pk, quote_id="").update(
            quote_id=rate.quote_id,
            rate_id=rate.id,
            carrier=rate.carrier[:40],
            service=rate.service[:60],
            cost=rate.amount,
            currency=rate.currency,
            updated_at=timezone.now(),
        )
        row.refresh_from_db()  # ours, or the quote a concurrent request saved first
        if row.status == LabelStatus.BOUGHT:
            return row
    label = carrier.label_buy(  # a second buyer of this quote reads the label already bought
        rate=Rate(
            id=row.rate_id,
            carrier=row.carrier,
            service=row.service,
            amount=row.cost or Decimal(0),
            currency=row.currency,
            quote_id=row.quote_id,
        )
    )
    with transaction.atomic():
        recorded = LabelPurchase.objects.filter(pk=row.pk, status=LabelStatus.QUOTED).update(
            status=LabelStatus.BOUGHT,
            tracking_number=label.tracking_number[:64],
            label_url=label.label_url[:500],
            cost=label.cost,
            currency=label.currency,
            carrier=label.carrier[:40],
            service=label.service[:60],
            bought_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if recorded:
            from ledger.services import ledger_post_label_cost

            kind = "label (return)" if is_return else "label"
            ledger_post_label_cost(  # journal label:<quote id>: once, whoever records it
                seller_order=SellerOrder.objects.select_related("order").get(pk=seller_order.pk),
                amount=label.cost,
                currency=label.currency,
                reference=row.quote_id,
                memo=f"Shipping {kind} {label.carrier} {label.service} {label.tracking_number}",
            )
    row.refresh_from_db()
    return row


def label_rates(
    *, seller_order: SellerOrder, warehouse_id: int, lines: Sequence[tuple[int, int]]
) -> list[Rate]:
    """What EasyPost would charge for this parcel (cheapest first), before buying: the seller
    then ships with one of them as `service`. Nothing is stored; a quote costs nothing."""
    carrier = label_carrier_required()
    ours = set(seller_order.lines.values_list("pk", flat=True))
    wanted = [(pk, units) for pk, units in lines if units]
    if not wanted:
        raise ValidationError(
            "Choose at least one line and how many units to ship.",
            fields={"lines": ["Enter a quantity for at least one line."]},
        )
    if any(pk not in ours for pk, _ in wanted):
        raise NotFound("That line is not part of this order.")
    warehouse = Warehouse.objects.filter(pk=warehouse_id, seller_id=seller_order.seller_id).first()
    if warehouse is None:
        raise NotFound("No such warehouse.")
    seller_order = SellerOrder.objects.select_related("order", "seller").get(pk=seller_order.pk)
    return carrier.rates(
        parcel=parcel_for(wanted),
        from_address=address_of_warehouse(warehouse, seller_order.seller.name),
        to_address=address_of_order(seller_order),
    )
