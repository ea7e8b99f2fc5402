"""Portal product pages: list, create/edit with a variant formset (typed attribute values per
variant), publish/archive, images (upload, alt text, variant, order) and the storefront preview.
Every product lookup is scoped to the current seller (another seller's id -> 404)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.models import (
    Attribute,
    Product,
    ProductImage,
    ProductStatus,
    ProductType,
    ProductVariant,
    VariantAttributeValue,
)
from catalog.selectors import (
    product_get_for_preview,
    sale_price_state,
    sale_prices_for_product,
)
from catalog.services import (
    product_archive,
    product_create,
    product_image_add,
    product_image_delete,
    product_image_update,
    product_images_reorder,
    product_publish,
    product_update,
    variant_attributes_set,
    variant_create,
    variant_update,
)
from catalog.views import product_page_context
from sellers.models import SellerMember
from sellers.portal.forms import (
    ImageEditForm,
    ImageForm,
    ProductForm,
    VariantFormSet,
    attribute_field_name,
)
from sellers.portal.views import _ctx, _form_error, portal_view
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


def _type_attributes(product_type: ProductType | None) -> list[Attribute]:
    if product_type is None:
        return []
    return list(product_type.attributes.prefetch_related("choices").order_by("name"))


def _posted_type(request: HttpRequest) -> ProductType | None:
    """The product type the submitted form chose: its attributes are what the variants carry."""
    raw = request.POST.get("product_type", "")
    return ProductType.objects.filter(pk=int(raw)).first() if raw.isdigit() else None


def _attribute_initial(value: VariantAttributeValue) -> str:
    if value.choice_id is not None:
        return str(value.choice_id)
    if value.value_number is not None:
        return format(value.value_number.normalize(), "f")
    if value.value_boolean is not None:
        return "true" if value.value_boolean else "false"
    return value.value_text


def _variants_initial(product: Product, attributes: list[Attribute]) -> list[dict[str, Any]]:
    rows = list(
        product.variants.order_by("position", "id").values(
            "id", "sku", "name", "price", "compare_at_price", "is_active"
        )
    )
    names = {a.pk: attribute_field_name(a) for a in attributes}
    values = VariantAttributeValue.objects.filter(
        variant__product=product, attribute_id__in=list(names)
    )
    by_variant: dict[int, dict[str, str]] = {}
    for value in values:
        by_variant.setdefault(value.variant_id, {})[names[value.attribute_id]] = _attribute_initial(
            value
        )
    return [{**row, **by_variant.get(row["id"], {})} for row in rows]


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
            _form_error(form, exc)
            raise _FormsInvalid from exc
        owned = {v.pk: v for v in ProductVariant.objects.filter(product=product)}
        failed = False
        for vform in formset:
            data = dict(vform.cleaned_data)
            if not data:
                continue
            values = {a.slug: data.pop(attribute_field_name(a)) for a in vform.attributes}
            variant_id = data.pop("id", None)
            try:
                if variant_id is None:
                    variant = variant_create(product=product, **data)
                elif variant_id in owned:
                    variant = variant_update(variant=owned[variant_id], **data)
                else:
                    raise NotFound("No such variant.")
            except ServiceError as exc:
                _form_error(vform, exc)
                failed = True
                continue
            try:
                variant_attributes_set(variant=variant, values=values)
            except ServiceError as exc:
                _form_error(vform, exc, prefix="attr_")
                failed = True
        if failed:
            raise _FormsInvalid
    return product


def _edit(request: HttpRequest, membership: SellerMember, product: Product | None) -> HttpResponse:
    posted = request.method == "POST"
    saved_type = product.product_type if product else None
    product_type = _posted_type(request) if posted else saved_type
    attributes = _type_attributes(product_type)
    form = ProductForm(request.POST or None, initial=_product_initial(product) if product else {})
    formset = VariantFormSet(
        request.POST or None,
        initial=_variants_initial(product, attributes) if product else [],
        prefix="variants",
        form_kwargs={"attributes": attributes},
    )
    if not posted:
        return _render_edit(
            request, membership, product, form=form, formset=formset, product_type=product_type
        )
    # The attribute inputs were drawn for the type chosen when the page was rendered; a newly
    # chosen type's inputs have to be shown, and filled in, before anything is saved.
    type_changed = False
    if product_type is not None and attributes:
        type_changed = request.POST.get("attributes_for") != str(product_type.pk)
    if not type_changed and form.is_valid() and formset.is_valid():
        try:
            saved = _save(membership, product, form, formset)
        except _FormsInvalid:
            pass
        else:
            messages.success(request, f"{saved.name} was saved.")
            return redirect("portal:product_edit", product_id=saved.pk)
    return _render_edit(
        request,
        membership,
        product,
        form=form,
        formset=formset,
        product_type=product_type,
        type_changed=type_changed,
        status=400,
    )


def _render_edit(
    request: HttpRequest,
    membership: SellerMember,
    product: Product | None,
    *,
    form: ProductForm | None = None,
    formset: Any = None,
    product_type: ProductType | None = None,
    type_changed: bool = False,
    image_form: ImageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The edit page. Called with bound forms to show their errors beside their fields."""
    if form is None:
        # another form on the page (an image upload) failed: redraw the product as saved
        product_type = product.product_type if product else None
        form = ProductForm(initial={} if product is None else _product_initial(product))
        attributes = _type_attributes(product_type)
        formset = VariantFormSet(
            initial=_variants_initial(product, attributes) if product else [],
            prefix="variants",
            form_kwargs={"attributes": attributes},
        )
    extra: dict[str, Any] = {}
    if product is not None:
        variants = _variants_of(product)
        now = timezone.now()
        extra = {
            "images": [
                (
                    image,
                    ImageEditForm(
                        prefix=f"image-{image.pk}",
                        variants=variants,
                        initial={"alt_text": image.alt_text, "variant": image.variant_id},
                    ),
                )
                for image in product.images.order_by("position", "id")
            ],
            "image_form": image_form or ImageForm(variants=variants),
            "sales": [
                (sale, sale_price_state(sale=sale, at=now))
                for sale in sale_prices_for_product(product=product)
            ],
        }
    return render(
        request,
        "portal/products/edit.html",
        _ctx(
            request,
            membership,
            form=form,
            formset=formset,
            product=product,
            product_type=product_type,
            type_changed=type_changed,
            **extra,
        ),
        status=status,
    )


def _variants_of(product: Product) -> list[ProductVariant]:
    return list(product.variants.order_by("position", "id"))


def _product_initial(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "category": product.category_id,
        "product_type": product.product_type_id,
        "brand": product.brand,
        "description": product.description,
    }


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


@portal_view("products")
def product_preview(
    request: HttpRequest, membership: SellerMember, product_id: int
) -> HttpResponse:
    """The storefront product page for one of the shop's own products in any status, under a
    "not visible to shoppers" banner. The public URL keeps answering 404 until it is live."""
    product = product_get_for_preview(seller=membership.seller, product_id=product_id)
    if not product.active_variants:  # type: ignore[attr-defined]
        messages.error(request, "Add an active variant to preview how shoppers will see this.")
        return redirect("portal:product_edit", product_id=product.pk)
    return render(request, "portal/products/preview.html", product_page_context(request, product))


def _image_get(product: Product, image_id: int) -> ProductImage:
    image = ProductImage.objects.filter(product=product, pk=image_id).first()
    if image is None:
        raise NotFound("No such image.")
    return image


@require_POST
@portal_view("products")
def product_image_upload(
    request: HttpRequest, membership: SellerMember, product_id: int
) -> HttpResponse:
    product = product_get_owned(membership=membership, product_id=product_id)
    form = ImageForm(request.POST, request.FILES, variants=_variants_of(product))
    if form.is_valid():
        try:
            product_image_add(
                product=product,
                upload=form.cleaned_data["image"],
                alt_text=form.cleaned_data["alt_text"],
                variant=form.cleaned_data["variant"],
            )
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Image added.")
            return redirect("portal:product_edit", product_id=product.pk)
    return _render_edit(request, membership, product, image_form=form, status=400)


@require_POST
@portal_view("products")
def product_image_edit(
    request: HttpRequest, membership: SellerMember, product_id: int, image_id: int
) -> HttpResponse:
    product = product_get_owned(membership=membership, product_id=product_id)
    image = _image_get(product, image_id)
    form = ImageEditForm(request.POST, prefix=f"image-{image.pk}", variants=_variants_of(product))
    if form.is_valid():
        try:
            product_image_update(image=image, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Image details saved.")
    else:
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, f"The image was not changed: {' '.join(errors)}")
    return redirect("portal:product_edit", product_id=product.pk)


@require_POST
@portal_view("products")
def product_image_move(
    request: HttpRequest, membership: SellerMember, product_id: int, image_id: int
) -> HttpResponse:
    """Swap an image with its neighbour ("up" shows it earlier, "down" later)."""
    product = product_get_owned(membership=membership, product_id=product_id)
    image = _image_get(product, image_id)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    order = list(product.images.order_by("position", "id").values_list("pk", flat=True))
    at = order.index(image.pk)
    to = at + step if step is not None else -1  # a malformed direction changes nothing
    if 0 <= to < len(order):
        order[at], order[to] = order[to], order[at]
        try:
            product_images_reorder(product=product, image_ids=order)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Image order saved.")
    return redirect("portal:product_edit", product_id=product.pk)


@require_POST
@portal_view("products")
def product_image_remove(
    request: HttpRequest, membership: SellerMember, product_id: int, image_id: int
) -> HttpResponse:
    product = product_get_owned(membership=membership, product_id=product_id)
    product_image_delete(image=_image_get(product, image_id))
    messages.success(request, "Image removed.")
    return redirect("portal:product_edit", product_id=product.pk)
