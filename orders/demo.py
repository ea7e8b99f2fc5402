"""Demo checkout data for `seed_demo`, so the first purchase works out of the box: shipping
methods per seller and destination zone (domestic, Europe, rest of the world), the tax table
(`orders/data/tax_rates.json`), live vouchers and promotions, and an address in the demo
customer's address book. Everything goes through the services; safe to re-run (existing
methods, vouchers and promotions of the same name are left alone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_countries import countries

from accounts.models import User
from accounts.services import address_create
from catalog.models import Category, Product, ProductStatus
from orders.services.shipping import shipping_method_create
from orders.services.taxes import tax_rates_load
from pricing.models import DiscountKind, Promotion, ShippingKind, ShippingMethod, Voucher
from sellers.models import Seller, SellerStatus

EU = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()  # noqa: SIM905
)
ALL = frozenset(code for code, _ in countries)
CUSTOMER_ADDRESS: dict[str, Any] = {
    "full_name": "Casey Customer",
    "line1": "Invalidenstraße 117",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
    "phone": "+49 30 2093 0",
}


@dataclass
class CheckoutSeedResult:
    shipping_methods: int = 0
    tax_rates: int = 0
    vouchers: int = 0
    promotions: int = 0


Zone = tuple[str, str, Decimal, Decimal, Decimal | None, frozenset[str]]


def _zones(home: str) -> list[Zone]:
    """(name, kind, price, per kg, free above, countries) for a seller shipping from `home`."""
    europe = (EU | {"GB"}) - {home}
    domestic = frozenset({home})
    abroad = ALL - europe - domestic
    return [
        (
            "Standard (2–4 days)",
            ShippingKind.FLAT,
            Decimal("4.95"),
            Decimal("0"),
            Decimal("50"),
            domestic,
        ),
        (
            "Express (next working day)",
            ShippingKind.FLAT,
            Decimal("12.90"),
            Decimal("0"),
            None,
            domestic,
        ),
        (
            "Europe (4–7 days)",
            ShippingKind.WEIGHT,
            Decimal("8.50"),
            Decimal("1.50"),
            Decimal("150"),
            europe,
        ),
        (
            "Worldwide (7–14 days)",
            ShippingKind.WEIGHT,
            Decimal("18.00"),
            Decimal("4.00"),
            None,
            abroad,
        ),
    ]


def _shipping_seed(sellers: list[Seller]) -> int:
    created = 0
    for seller in sellers:
        home = (seller.country or "GB").upper()
        existing = set(ShippingMethod.objects.filter(seller=seller).values_list("name", flat=True))
        for name, kind, price, per_kg, free_above, zone in _zones(home):
            if name in existing:
                continue
            shipping_method_create(
                seller=seller,
                name=name,
                kind=kind,
                price=price,
                price_per_kg=per_kg,
                free_above=free_above,
                countries=sorted(zone),
            )
            created += 1
    return created


def _vouchers_seed(sellers: list[Seller]) -> int:
    now = timezone.now()
    specs: list[tuple[str, str, Decimal, Decimal, Seller | None, int | None]] = [
        ("WELCOME10", DiscountKind.PERCENTAGE, Decimal("10"), Decimal("20"), None, 1),
        ("SAVE5", DiscountKind.FIXED, Decimal("5"), Decimal("40"), None, None),
    ]
    if sellers:
        specs.append(
            ("NORTHWIND15", DiscountKind.PERCENTAGE, Decimal("15"), Decimal("0"), sellers[0], None)
        )
    created = 0
    for code, kind, value, min_spend, seller, per_customer in specs:
        _, was_created = Voucher.objects.get_or_create(
            code=code,
            defaults={
                "kind": kind,
                "value": value,
                "min_spend": min_spend,
                "seller": seller,
                "per_customer_limit": per_customer,
                "starts_at": now - timedelta(days=1),
                "ends_at": now + timedelta(days=365),
            },
        )
        created += was_created
    return created


def _promotions_seed() -> int:
    now = timezone.now()
    created = 0
    for name, slug, percent in (
        ("Board game week", "board-games", "15"),
        ("Tents 10% off", "tents", "10"),
    ):
        category = Category.objects.filter(slug=slug).first()
        if category is None or Promotion.objects.filter(name=name).exists():
            continue
        Promotion.objects.create(
            name=name,
            kind=DiscountKind.PERCENTAGE,
            value=Decimal(percent),
            category=category,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
        )
        created += 1
    product = (
        Product.objects.filter(status=ProductStatus.ACTIVE, seller__status=SellerStatus.APPROVED)
        .order_by("pk")
        .first()
    )
    if product is not None and not Promotion.objects.filter(product=product).exists():
        Promotion.objects.create(
            name=f"{product.name}: 5 off",
            kind=DiscountKind.FIXED,
            value=Decimal("5"),
            product=product,
            starts_at=now - timedelta(days=1),
        )
        created += 1
    return created


def demo_checkout_seed(*, sellers: list[Seller]) -> CheckoutSeedResult:
    with transaction.atomic():
        result = CheckoutSeedResult(
            shipping_methods=_shipping_seed(sellers),
            tax_rates=tax_rates_load().rates,
            vouchers=_vouchers_seed(sellers),
            promotions=_promotions_seed(),
        )
        customer = User.objects.filter(email="customer@example.com").first()
        if customer is not None and not customer.addresses.exists():
            address_create(user=customer, **CUSTOMER_ADDRESS)
    return result
