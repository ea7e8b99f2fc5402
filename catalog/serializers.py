"""Read-only shapes of the catalog for the API. Prices, visibility and breadcrumbs come from
`catalog.selectors`; these only present what the selectors return."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Category, Product, ProductImage, ProductVariant, VariantAttributeValue
from sellers.models import Seller

# a file URL that is null when there is no file (the schema must say so: the apps read it)
NULLABLE_URI = serializers.URLField(allow_null=True)


def storage_url(context: dict, name: str | None) -> str | None:
    """The absolute URL of a stored file by its storage name (cart and order lines carry the
    name of the image they show), or None."""
    if not name:
        return None
    url = default_storage.url(name)
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


def _absolute_url(context: dict, file: FieldFile | None) -> str | None:
    if not file:
        return None
    url = file.url
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]


class SellerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Seller
        fields = ["slug", "name"]


class CategoryTreeSerializer(serializers.ModelSerializer):
    """A node of `catalog.selectors.category_tree()` with its children, to any depth."""

    children = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "description", "depth", "is_featured", "children"]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_children(self, obj: Category) -> list[dict]:
        nodes = obj.child_nodes  # type: ignore[attr-defined]  # attached by category_tree
        return CategoryTreeSerializer(nodes, many=True, context=self.context).data


class CategoryDetailSerializer(serializers.ModelSerializer):
    """One category with its breadcrumbs (root first, itself last) and direct children."""

    breadcrumbs = CategoryRefSerializer(many=True, read_only=True)
    children = CategoryRefSerializer(source="children_list", many=True, read_only=True)

    class Meta:
        model = Category
        fields = ["id", "slug", "name", "description", "depth", "is_featured"]
        fields += ["breadcrumbs", "children"]


class ProductListSerializer(serializers.ModelSerializer):
    """A product card: expects `catalog.selectors.product_list` rows (`price_from`, seller,
    category and `image_list` already loaded)."""

    seller = SellerRefSerializer()
    category = CategoryRefSerializer()
    price_from = serializers.DecimalField(
        max_digits=20,
        decimal_places=2,
        allow_null=True,
        help_text="Lowest price a shopper pays now.",
    )
    currency = serializers.SerializerMethodField()
    rating = serializers.DecimalField(source="rating_avg", max_digits=3, decimal_places=2)
    thumbnail = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = ["id", "slug", "name", "brand", "seller", "category", "price_from", "currency"]
        fields += ["rating", "rating_count", "thumbnail"]

    def get_currency(self, obj: Product) -> str:
        return settings.SHOP_CURRENCY

    @extend_schema_field(NULLABLE_URI)
    def get_thumbnail(self, obj: Product) -> str | None:
        images = getattr(obj, "image_list", None) or []
        if not images:
            return None
        image = images[0]
        return _absolute_url(self.context, image.thumbnail or image.image)


class AttributeValueSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(source="attribute.slug")
    name = serializers.CharField(source="attribute.name")
    type = serializers.CharField(source="attribute.type")
    unit = serializers.CharField(source="attribute.unit")
    value = serializers.CharField(source="display_value")

    class Meta:
        model = VariantAttributeValue
        fields = ["slug", "name", "type", "unit", "value"]


class VariantSerializer(serializers.ModelSerializer):
    """A variant from `catalog.selectors.variant_queryset_priced`: `price` is the regular price,
    `current_price` what a shopper pays now (a running sale applied). Availability comes from
    the product page's selector (`available_quantity`, `backorderable` annotations): the same
    figures and words the storefront shows."""

    current_price = serializers.DecimalField(max_digits=20, decimal_places=2)
    on_sale = serializers.SerializerMethodField()
    attributes = AttributeValueSerializer(source="attribute_values", many=True)
    available = serializers.IntegerField(
        source="available_quantity", help_text="Units a shopper can buy now."
    )
    stock_status = serializers.SerializerMethodField(
        help_text="`in_stock`, `low_stock`, `backorder` or `out_of_stock`."
    )
    stock_label = serializers.SerializerMethodField(help_text='What to show: "Only 2 left".')
    can_buy = serializers.SerializerMethodField()

    class Meta:
        model = ProductVariant
        fields = ["id", "sku", "name", "price", "current_price", "compare_at_price", "on_sale"]
        fields += ["currency", "weight_grams", "max_quantity_per_order", "attributes"]
        fields += ["available", "stock_status", "stock_label", "can_buy"]

    def get_on_sale(self, obj: ProductVariant) -> bool:
        return obj.current_price < obj.price  # type: ignore[attr-defined]  # annotated

    def _status(self, obj: ProductVariant):
        from inventory.selectors import variant_stock_status

        return variant_stock_status(
            available=obj.available_quantity,  # type: ignore[attr-defined]  # annotated
            backorderable=bool(getattr(obj, "backorderable", False)),
            low_stock_threshold=obj.product.seller.low_stock_threshold,
        )

    def get_stock_status(self, obj: ProductVariant) -> str:
        return self._status(obj).code

    def get_stock_label(self, obj: ProductVariant) -> str:
        return self._status(obj).label

    def get_can_buy(self, obj: ProductVariant) -> bool:
        return self._status(obj).can_buy


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()
    alt = serializers.CharField(source="alt_text")

    class Meta:
        model = ProductImage
        fields = ["url", "thumbnail", "alt", "width", "height"]

    @extend_schema_field(NULLABLE_URI)
    def get_url(self, obj: ProductImage) -> str | None:
        return _absolute_url(self.context, obj.image)

    @extend_schema_field(NULLABLE_URI)
    def get_thumbnail(self, obj: ProductImage) -> str | None:
        return _absolute_url(self.context, obj.thumbnail or obj.image)


class ProductAttributeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    unit = serializers.CharField()
    values = serializers.ListField(child=serializers.CharField())


class ProductDetailSerializer(ProductListSerializer):
    """One product from `catalog.selectors.product_get_public`."""

    description = serializers.CharField()
    product_type = serializers.StringRelatedField(allow_null=True)
    variants = VariantSerializer(source="active_variants", many=True)
    images = ImageSerializer(source="image_list", many=True)
    attributes = serializers.SerializerMethodField()

    class Meta(ProductListSerializer.Meta):
        fields = [*ProductListSerializer.Meta.fields, "description", "product_type"]
        fields += ["published_at", "variants", "images", "attributes"]

    @extend_schema_field(ProductAttributeSerializer(many=True))
    def get_attributes(self, obj: Product) -> list[dict]:
        """Each attribute once, with the distinct values its variants have (a product summary)."""
        summary: dict[str, dict] = {}
        for variant in obj.active_variants:  # type: ignore[attr-defined]  # prefetched
            for value in variant.attribute_values.all():
                attribute = value.attribute
                entry = summary.setdefault(
                    attribute.slug,
                    {
                        "slug": attribute.slug,
                        "name": attribute.name,
                        "type": attribute.type,
                        "unit": attribute.unit,
                        "values": [],
                    },
                )
                if value.display_value not in entry["values"]:
                    entry["values"].append(value.display_value)
        return sorted(summary.values(), key=lambda e: e["name"])


class SellerSerializer(serializers.ModelSerializer):
    logo = serializers.SerializerMethodField()

    class Meta:
        model = Seller
        fields = ["slug", "name", "description", "country", "logo", "support_email"]
        fields += ["return_window_days", "handling_time_days", "approved_at"]

    @extend_schema_field(NULLABLE_URI)
    def get_logo(self, obj: Seller) -> str | None:
        return _absolute_url(self.context, obj.logo)
