"""Portal pages for a product's scheduled sale prices: add, edit (until it has ended), remove.
The rules (above 0, below the price, end after start, no overlapping windows) live in
`catalog.services.sale_price_schedule / sale_price_update`; the storefront picks the live sale
through `catalog.selectors.variant_price_expression`, and the sale price services tell search."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from catalog.models import Product, VariantSalePrice
from catalog.selectors import SalePriceState, sale_price_get_for_product, sale_price_state
from catalog.services import sale_price_delete, sale_price_schedule, sale_price_update
from sellers.models import SellerMember
from sellers.portal.forms import SalePriceForm
from sellers.portal.products import _variants_of, product_get_owned
from sellers.portal.views import _ctx, _form_error, portal_view
from shop.core.errors import ServiceError


def _render(
    request: HttpRequest,
    membership: SellerMember,
    product: Product,
    form: SalePriceForm,
    sale: VariantSalePrice | None = None,
) -> HttpResponse:
    return render(
        request,
        "portal/products/sale_price.html",
        _ctx(request, membership, product=product, form=form, sale=sale),
        status=400 if request.method == "POST" else 200,
    )


@portal_view("products")
def sale_price_new(request: HttpRequest, membership: SellerMember, product_id: int) -> HttpResponse:
    product = product_get_owned(membership=membership, product_id=product_id)
    initial: dict[str, object] = {
        "starts_at": timezone.localtime().replace(second=0, microsecond=0)
    }
    chosen = request.GET.get("variant", "")
    if chosen.isdigit():
        initial["variant"] = int(chosen)
    form = SalePriceForm(request.POST or None, variants=_variants_of(product), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sale_price_schedule(**form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Sale price scheduled.")
            return redirect("portal:product_edit", product_id=product.pk)
    return _render(request, membership, product, form)


@portal_view("products")
def sale_price_edit(
    request: HttpRequest, membership: SellerMember, product_id: int, sale_id: int
) -> HttpResponse:
    product = product_get_owned(membership=membership, product_id=product_id)
    sale = sale_price_get_for_product(product=product, sale_id=sale_id)
    if sale_price_state(sale=sale) == SalePriceState.ENDED:
        messages.error(request, "This sale has ended and can no longer be changed.")
        return redirect("portal:product_edit", product_id=product.pk)
    initial = {
        "variant": sale.variant_id,
        "sale_price": sale.sale_price,
        "starts_at": timezone.localtime(sale.starts_at),
        "ends_at": timezone.localtime(sale.ends_at) if sale.ends_at else None,
    }
    form = SalePriceForm(
        request.POST or None, variants=_variants_of(product), variant_fixed=True, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("variant")
        try:
            sale_price_update(sale=sale, **data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Sale price saved.")
            return redirect("portal:product_edit", product_id=product.pk)
    return _render(request, membership, product, form, sale)


@require_POST
@portal_view("products")
def sale_price_remove(
    request: HttpRequest, membership: SellerMember, product_id: int, sale_id: int
) -> HttpResponse:
    product = product_get_owned(membership=membership, product_id=product_id)
    sale_price_delete(sale=sale_price_get_for_product(product=product, sale_id=sale_id))
    messages.success(request, "Sale price removed.")
    return redirect("portal:product_edit", product_id=product.pk)
