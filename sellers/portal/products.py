"""Portal product pages: list, create/edit with a variant formset, publish/archive.
Every product lookup is scoped to the current seller (another seller's id -> 404)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from catalog.models import Product, ProductImage, ProductStatus, ProductVariant
from catalog.services import (
    product_archive,
    product_create,
    product_image_add,
    product_image_delete,
    product_publish,
    product_update,
    variant_create,
    variant_update,
)
from sellers.models import SellerMember
from sellers.portal.forms import ImageForm, ProductForm, VariantFormSet
from sellers.portal.views import _ctx, portal_view
from shop.core.errors import NotFound, ServiceError

PAGE_SIZE = 25


def product_get_owned(*, membership: SellerMember, product_id: int) -> Product:
    product = Product.objects.filter(seller_id=membership.seller_id, pk=product_id).first()
    if product is None:
        raise NotFound("No such product.")
    return product


@portal_view("products")
def product_list(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    qs = (
        Product.objects.filter(seller_id=membership.seller_id)
        .select_related("category")
        .annotate(variant_count=Count("variants"))
        .order_by("-updated_at", "-id")
    )
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(variants__sku__iexact=q)).distinct()
    status = request.GET.get("status", "")
    if status in ProductStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/products/list.html",
        _ctx(
            request,
            membership,
            page=page,
            q=q,
            status=status,
            statuses=ProductStatus.choices,
        ),
    )


class _FormsInvalid(Exception):
    """Rolls the whole save back when any variant is refused by its service."""


def _place(form: Any, exc: ServiceError) -> None:
    placed = False
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _save(
    membership: SellerMember, product: Product | None, form: ProductForm, formset: Any
) -> Product:
    with transaction.atomic():
        try:
            if product is None:
                product = product_create(seller=membership.seller, **form.cleaned_data)
            else:
                product = product_update(product=product, **form.cleaned_data)
        except ServiceError as exc:
            _place(form, exc)
            raise _FormsInvalid from exc
        owned = {v.pk: v for v in ProductVariant.objects.filter(product=product)}
        failed = False
        for vform in formset:
            data = dict(vform.cleaned_data)
            if not data:
                continue
            variant_id = data.pop("id", None)
            try:
                if variant_id is None:
                    variant_create(product=product, **data)
                elif variant_id in owned:
                    variant_update(variant=owned[variant_id], **data)
                else:
                    raise NotFound("No such variant.")
            except ServiceError as exc:
                _place(vform, exc)
                failed = True
        if failed:
            raise _FormsInvalid
    return product


def _edit(request: HttpRequest, membership: SellerMember, product: Product | None) -> HttpResponse:
    if product is None:
        initial: dict[str, Any] = {}
        variants_initial: list[dict[str, Any]] = []
    else:
        initial = {
            "name": product.name,
            "category": product.category_id,
            "product_type": product.product_type_id,
            "brand": product.brand,
            "description": product.description,
        }
        variants_initial = list(
            product.variants.order_by("position", "id").values(
                "id", "sku", "name", "price", "compare_at_price", "is_active"
            )
        )
    form = ProductForm(request.POST or None, initial=initial)
    formset = VariantFormSet(request.POST or None, initial=variants_initial, prefix="variants")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            saved = _save(membership, product, form, formset)
        except _FormsInvalid:
            pass
        else:
            messages.success(request, f"{saved.name} was saved.")
            return redirect("portal:product_edit", product_id=saved.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/products/edit.html",
        _ctx(
            request,
            membership,
            form=form,
            formset=formset,
            product=product,
            images=product.images.order_by("position", "id") if product else [],
            image_form=ImageForm(),
        ),
        status=status,
    )


@portal_view("products")
def product_new(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    return _edit(request, membership, None)


@portal_view("products")
def product_edit(request: HttpRequest, membership: SellerMember, product_id: int) -> HttpResponse:
    return _edit(
        request, membership, product_get_owned(membership=membership, product_id=product_id)
    )


@require_POST
@portal_view("products")
def product_status(request: HttpRequest, membership: SellerMember, product_id: int) -> HttpResponse:
    product = product_get_owned(membership=membership, product_id=product_id)
    action = request.POST.get("action")
    try:
        if action == "publish":
            product_publish(product=product)
        elif action == "archive":
            product_archive(product=product)
        else:
            messages.error(request, "Choose publish or archive.")
            return redirect("portal:product_edit", product_id=product.pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{product.name} is now {product.get_status_display()}.")
    return redirect("portal:product_edit", product_id=product.pk)


@require_POST
@portal_view("products")
def product_image_upload(
    request: HttpRequest, membership: SellerMember, product_id: int
) -> HttpResponse:
    product = product_get_owned(membership=membership, product_id=product_id)
    form = ImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            product_image_add(
                product=product,
                upload=form.cleaned_data["image"],
                alt_text=form.cleaned_data["alt_text"],
            )
        except ServiceError as exc:
            messages.error(request, " ".join(exc.fields.get("image", [exc.message])))
        else:
            messages.success(request, "Image added.")
    else:
        messages.error(request, "Choose an image file to upload.")
    return redirect("portal:product_edit", product_id=product.pk)


@require_POST
@portal_view("products")
def product_image_remove(
    request: HttpRequest, membership: SellerMember, product_id: int, image_id: int
) -> HttpResponse:
    product = product_get_owned(membership=membership, product_id=product_id)
    image = ProductImage.objects.filter(product=product, pk=image_id).first()
    if image is None:
        raise Http404("No such image.")
    product_image_delete(image=image)
    messages.success(request, "Image removed.")
    return redirect("portal:product_edit", product_id=product.pk)
