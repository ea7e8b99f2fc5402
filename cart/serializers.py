"""API shapes for carts and wishlists. Prices in responses are computed by the server; a price
sent by a client is not a field of any input here, so it is ignored."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cart.models import WishlistItem
from catalog.serializers import storage_url
from pricing.serializers import BreakdownSerializer, LinePriceSerializer
from shop.core.fields import DecimalApiField, IntegerApiField

MONEY = {"max_digits": 20, "decimal_places": 2}


class CartLineSerializer(serializers.Serializer):
    id = IntegerApiField(source="line.pk")
    variant_id = IntegerApiField(source="line.variant_id")
    product_name = serializers.CharField(source="price.variant.product.name")
    product_slug = serializers.CharField(source="price.variant.product.slug")
    variant_name = serializers.CharField(source="price.variant.name")
    seller_name = serializers.CharField(source="price.variant.product.seller.name")
    thumbnail = serializers.SerializerMethodField()
    quantity = IntegerApiField(source="line.quantity")
    price_at_add = DecimalApiField(source="line.price_at_add", **MONEY)
    available = IntegerApiField(
        help_text="Units this cart can have (its own checkout hold counts as its own)."
    )
    backorderable = serializers.BooleanField(
        help_text="More than `available` may be bought: the rest ships on backorder."
    )
    price = LinePriceSerializer()

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, item) -> str | None:
        return storage_url(self.context, getattr(item.price.variant, "image_name", None))


class SavedLineSerializer(serializers.Serializer):
    id = IntegerApiField(source="pk")
    variant_id = IntegerApiField()
    quantity = IntegerApiField()
    product_name = serializers.CharField(source="variant.product.name")
    product_slug = serializers.CharField(source="variant.product.slug")
    variant_name = serializers.CharField(source="variant.name")


class CartSerializer(serializers.Serializer):
    id = IntegerApiField(source="cart.pk", allow_null=True)
    share_token = serializers.CharField(source="cart.share_token", allow_null=True)
    voucher_code = serializers.CharField(source="cart.voucher_code", allow_null=True)
    count = IntegerApiField()
    lines = CartLineSerializer(many=True)
    saved = SavedLineSerializer(many=True)
    totals = BreakdownSerializer(allow_null=True)


class CartLineAddSerializer(serializers.Serializer):
    variant_id = IntegerApiField(min_value=1)
    quantity = IntegerApiField(min_value=1, default=1)


class CartLineUpdateSerializer(serializers.Serializer):
    quantity = IntegerApiField(min_value=0, help_text="0 removes the line.")
    saved_for_later = serializers.BooleanField(required=False)


class VoucherSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, allow_blank=True)


class WishlistItemSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="variant.product.name", read_only=True)
    product_slug = serializers.CharField(source="variant.product.slug", read_only=True)
    variant_name = serializers.CharField(source="variant.name", read_only=True)
    thumbnail = serializers.SerializerMethodField()
    variant_id = IntegerApiField()

    class Meta:
        model = WishlistItem
        fields = ["id", "variant_id", "product_name", "product_slug", "variant_name"]
        fields += ["thumbnail", "created_at"]
        read_only_fields = ["id", "created_at"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail(self, item: WishlistItem) -> str | None:
        images = getattr(item.variant.product, "image_list", None) or []
        if not images:
            return None
        return storage_url(self.context, (images[0].thumbnail or images[0].image).name)
