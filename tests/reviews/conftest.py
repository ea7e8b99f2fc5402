from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from tests.factories import (
    ProductFactory,
    ProductVariantFactory,
    SellerMemberFactory,
    UserFactory,
)
from tests.factories.orders import sold_seller_order


@dataclass
class Shop:
    """One seller's product with a variant, a member of the seller and a buyer who paid."""

    member: object
    product: object
    variant: object
    buyer: object
    seller_order: object

    def buyer_new(self, *, status: str = "delivered", delivered: bool = True):
        user = UserFactory()
        sold_seller_order(
            seller=self.product.seller,
            placed_at=timezone.now(),
            user=user,
            variant=self.variant,
            status=status,
            delivered_at=timezone.now() if delivered else None,
        )
        return user


@pytest.fixture
def shop(db) -> Shop:
    member = SellerMemberFactory()
    product = ProductFactory(seller=member.seller)
    variant = ProductVariantFactory(product=product, name="Blue / M")
    buyer = UserFactory()
    seller_order = sold_seller_order(
        seller=member.seller,
        placed_at=timezone.now(),
        user=buyer,
        variant=variant,
        status="delivered",
        delivered_at=timezone.now(),
    )
    return Shop(member, product, variant, buyer, seller_order)


def png_upload(name: str = "photo.png", size: tuple[int, int] = (200, 150)):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")
