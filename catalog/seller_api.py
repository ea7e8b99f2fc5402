"""The seller's catalog over the API (`/api/v1/seller/products/...`): the portal's rules through
the same services (drafts first, SKUs unique, prices above sales to come, typed attribute values
checked per type). The seller is the `X-Seller-Id` header's, else the user's only/first one;
owners and managers only (the portal's `products` permission); another seller's ids are 404."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product, ProductStatus, ProductType, ProductVariant, TaxClass
from catalog.selectors import (
    category_get_by_slug,
    product_get_for_seller,
    product_list_for_seller,
    variant_get_for_seller,
)
from catalog.services import (
    product_archive,
    product_create,
    product_publish,
    product_update,
    variant_attributes_set,
    variant_create,
    variant_update,
)
from sellers.models import SellerMember
from sellers.selectors import member_require, seller_membership_get
from shop.core.api import ErrorSerializer
from shop.core.errors import NotFound
from shop.core.fields import DecimalApiField, IntegerApiField

SELLER_HEADER = OpenApiParameter(
    "X-Seller-Id",
    int,
    OpenApiParameter.HEADER,
    required=False,
    description="The seller to act for; defaults to your only (or first) seller account.",
)


def _membership(request: Request) -> SellerMember:
    raw = request.headers.get("X-Seller-Id")
    try:
        seller_id = int(raw) if raw is not None else None
    except ValueError as exc:
        raise NotFound("No seller account found.") from exc
    membership = seller_membership_get(user=request.user, seller_id=seller_id)
    member_require(membership=membership, action="products")
    return membership


# --- shapes -----------------------------------------------------------------------------------


class SellerVariantSerializer(serializers.ModelSerializer):
    attributes = serializers.SerializerMethodField()

    class Meta:
        model = ProductVariant
        fields = ["id", "sku", "name", "price", "compare_at_price", "currency", "is_active"]
        fields += ["weight_grams", "allow_backorder", "max_quantity_per_order", "attributes"]

    def get_attributes(self, variant: ProductVariant) -> dict[str, str]:
        """{attribute slug: value as shown}; choices by their slug."""
        out = {}
        for value in variant.attribute_values.all():
            out[value.attribute.slug] = value.choice.slug if value.choice else value.display_value
        return out


class SellerProductSerializer(serializers.ModelSerializer):
    category = serializers.CharField(source="category.slug")
    product_type = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    variants = SellerVariantSerializer(many=True)

    class Meta:
        model = Product
        fields = ["id", "slug", "name", "status", "category", "product_type", "brand"]
        fields += ["description", "tax_class", "published_at", "updated_at", "variants"]


class ProductInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    category = serializers.SlugField(help_text="The category's slug.")
    product_type = serializers.PrimaryKeyRelatedField(
        queryset=ProductType.objects.all(), allow_null=True, required=False
    )
    brand = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    tax_class = serializers.ChoiceField(choices=TaxClass.choices, required=False)
    slug = serializers.SlugField(max_length=220, required=False, help_text="Create only.")


class VariantInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    price = DecimalApiField(max_digits=20, decimal_places=2)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    compare_at_price = DecimalApiField(
        max_digits=20, decimal_places=2, required=False, allow_null=True
    )
    is_active = serializers.BooleanField(required=False)
    weight_grams = IntegerApiField(min_value=0, required=False)
    allow_backorder = serializers.BooleanField(required=False)
    max_quantity_per_order = IntegerApiField(min_value=1, required=False)
    attributes = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="{attribute slug: value}: every attribute of the product type (choices by "
        "slug, numbers as text, yes/no).",
    )


def _product_body(product: Product) -> dict[str, Any]:
    fresh = product_list_for_seller(seller=product.seller).get(pk=product.pk)
    return SellerProductSerializer(fresh).data


def _input(serializer_class, data, *, partial: bool = False) -> dict[str, Any]:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- views ------------------------------------------------------------------------------------


@extend_schema(tags=["seller catalog"], parameters=[SELLER_HEADER])
class SellerProductListView(generics.ListAPIView):
    """My shop's products in every status, newest change first (`?status=draft|active|archived`)."""

    permission_classes = [IsAuthenticated]
    serializer_class = SellerProductSerializer
    queryset = Product.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        products = product_list_for_seller(seller=_membership(self.request).seller)
        wanted = self.request.query_params.get("status", "")
        return products.filter(status=wanted) if wanted in ProductStatus.values else products

    @extend_schema(
        tags=["seller catalog"],
        summary="Create a product (a draft; publish it when its variants are in)",
        parameters=[SELLER_HEADER],
        request=ProductInputSerializer,
        responses={201: SellerProductSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "A lamp",
                request_only=True,
                value={"name": "Brass desk lamp", "category": "desk-lamps", "brand": "Lumen"},
            )
        ],
    )
    def post(self, request: Request) -> Response:
        membership = _membership(request)
        values = _input(ProductInputSerializer, request.data)
        values["category"] = category_get_by_slug(slug=values["category"])
        product = product_create(seller=membership.seller, **values)
        return Response(_product_body(product), status=status.HTTP_201_CREATED)


class SellerProductDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller catalog"],
        summary="One of my products with its variants",
        parameters=[SELLER_HEADER],
        responses=SellerProductSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        product = product_get_for_seller(seller=_membership(request).seller, pk=pk)
        return Response(SellerProductSerializer(product).data)

    @extend_schema(
        tags=["seller catalog"],
        summary="Change a product (fields left out keep their value)",
        parameters=[SELLER_HEADER],
        request=ProductInputSerializer,
        responses={200: SellerProductSerializer, 400: ErrorSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        product = product_get_for_seller(seller=_membership(request).seller, pk=pk)
        values = _input(ProductInputSerializer, request.data, partial=True)
        values.pop("slug", None)  # the public address stays
        category = (
            category_get_by_slug(slug=values.pop("category"))
            if "category" in values
            else product.category
        )
        product = product_update(
            product=product,
            name=values.get("name", product.name),
            category=category,
            product_type=values.get("product_type", product.product_type),
            brand=values.get("brand", product.brand),
            description=values.get("description", product.description),
            tax_class=values.get("tax_class"),
        )
        return Response(_product_body(product))


class SellerProductStatusView(APIView):
    permission_classes = [IsAuthenticated]
    action_name = "publish"

    @extend_schema(
        tags=["seller catalog"],
        summary="Publish (`publish/`) or archive (`archive/`) a product",
        parameters=[SELLER_HEADER],
        request=None,
        responses={200: SellerProductSerializer, 400: ErrorSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        product = product_get_for_seller(seller=_membership(request).seller, pk=pk)
        service = product_publish if self.action_name == "publish" else product_archive
        return Response(_product_body(service(product=product)))


def _variant_save(variant: ProductVariant, attributes: dict[str, str] | None) -> None:
    if attributes is not None:
        variant_attributes_set(variant=variant, values=attributes)


class SellerVariantCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller catalog"],
        summary="Add a variant to one of my products",
        parameters=[SELLER_HEADER],
        request=VariantInputSerializer,
        responses={201: SellerProductSerializer, 400: ErrorSerializer},
        examples=[
            OpenApiExample(
                "A variant",
                request_only=True,
                value={"sku": "LAMP-BRASS", "price": "49.00", "weight_grams": 1200},
            )
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        product = product_get_for_seller(seller=_membership(request).seller, pk=pk)
        values = _input(VariantInputSerializer, request.data)
        attributes = values.pop("attributes", None)
        with transaction.atomic():  # the variant and its values, or neither
            variant = variant_create(product=product, **values)
            _variant_save(variant, attributes)
        return Response(_product_body(product), status=status.HTTP_201_CREATED)


class SellerVariantDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["seller catalog"],
        summary="Change a variant (price, SKU, stock policy, attributes)",
        parameters=[SELLER_HEADER],
        request=VariantInputSerializer,
        responses={200: SellerProductSerializer, 400: ErrorSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        variant = variant_get_for_seller(seller=_membership(request).seller, pk=pk)
        values = _input(VariantInputSerializer, request.data, partial=True)
        attributes = values.pop("attributes", None)
        with transaction.atomic():
            variant = variant_update(
                variant=variant,
                sku=values.get("sku", variant.sku),
                price=values.get("price", variant.price),
                name=values.get("name", variant.name),
                compare_at_price=values.get("compare_at_price", variant.compare_at_price),
                is_active=values.get("is_active", variant.is_active),
                weight_grams=values.get("weight_grams"),
                allow_backorder=values.get("allow_backorder"),
                max_quantity_per_order=values.get("max_quantity_per_order"),
            )
            _variant_save(variant, attributes)
        return Response(_product_body(variant.product))
