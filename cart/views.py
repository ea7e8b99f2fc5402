"""Storefront cart pages. Thin: they call cart.services and show service errors as messages.
Every form works without JavaScript; with it, static/js/cart.js posts the same forms with
`X-Requested-With: fetch` and swaps in the re-rendered cart body."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cart.owner import request_cart
from cart.selectors import cart_get_by_share_token, cart_view, wishlist_items
from cart.services import (
    cart_copy_shared,
    cart_line_add,
    cart_line_move_to_wishlist,
    cart_line_remove,
    cart_line_save_for_later,
    cart_line_update,
    cart_voucher_apply,
    wishlist_add,
    wishlist_move_to_cart,
    wishlist_remove,
)
from shop.core.errors import NotFound, ServiceError


def _is_fetch(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _respond(request: HttpRequest, error: ServiceError | None = None) -> HttpResponse:
    """Redirect back to the cart, or for a fetch() the re-rendered cart body."""
    if _is_fetch(request):
        body = render_to_string(
            "storefront/cart/_cart_body.html",
            {"view": cart_view(cart=request_cart(request)), "error": error and error.message},
            request=request,
        )
        return HttpResponse(body, status=error.http_status if error else 200)
    if error is not None:
        messages.error(request, error.message)
    return redirect("cart:detail")


@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    return render(
        request, "storefront/cart/cart.html", {"view": cart_view(cart=request_cart(request))}
    )


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    cart = request_cart(request, create=True)
    assert cart is not None
    try:
        line = cart_line_add(
            cart=cart,
            variant_id=request.POST.get("variant"),
            quantity=request.POST.get("quantity", "1"),
        )
    except ServiceError as exc:
        return _respond(request, exc)
    messages.success(request, f"Added “{line.variant.product.name}” to your cart.")
    return _respond(request)


@require_POST
def cart_line_change(request: HttpRequest, line_id: int) -> HttpResponse:
    cart = request_cart(request)
    if cart is None:
        raise Http404("No cart.")
    action = request.POST.get("action", "update")
    try:
        if action == "remove":
            cart_line_remove(cart=cart, line_id=line_id)
        elif action in {"save", "unsave"}:
            cart_line_save_for_later(cart=cart, line_id=line_id, saved=action == "save")
        elif action == "wishlist":
            if not request.user.is_authenticated:
                return redirect(f"/accounts/login/?next={request.path}")
            cart_line_move_to_wishlist(user=request.user, cart=cart, line_id=line_id)
        else:
            cart_line_update(cart=cart, line_id=line_id, quantity=request.POST.get("quantity"))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        return _respond(request, exc)
    return _respond(request)


@require_POST
def cart_voucher(request: HttpRequest) -> HttpResponse:
    cart = request_cart(request, create=True)
    assert cart is not None
    try:
        cart_voucher_apply(cart=cart, code=request.POST.get("code", ""))
    except ServiceError as exc:
        return _respond(request, exc)
    return _respond(request)


def cart_shared(request: HttpRequest, token: str) -> HttpResponse:
    """A read-only snapshot of someone's cart; POST copies it into the visitor's own cart."""
    try:
        shared = cart_get_by_share_token(token=token)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if request.method == "POST":
        cart = request_cart(request, create=True)
        assert cart is not None
        for note in cart_copy_shared(token=token, target=cart):
            messages.warning(request, note)
        messages.success(request, "The shared items are in your cart.")
        return redirect("cart:detail")
    return render(request, "storefront/cart/shared.html", {"view": cart_view(cart=shared)})


@login_required
def wishlist(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        item_id = request.POST.get("item")
        try:
            if request.POST.get("action") == "cart":
                cart = request_cart(request, create=True)
                assert cart is not None
                wishlist_move_to_cart(user=request.user, item_id=item_id, cart=cart)
                messages.success(request, "Moved to your cart.")
            else:
                wishlist_remove(user=request.user, item_id=item_id)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except ServiceError as exc:
            messages.error(request, exc.message)
        return redirect("cart:wishlist")
    return render(
        request,
        "storefront/cart/wishlist.html",
        {"items": wishlist_items(user=request.user), "section": "wishlist"},
    )


@login_required
@require_POST
def wishlist_add_view(request: HttpRequest) -> HttpResponse:
    """The product page's "Add to wishlist": the selected variant, then back to the product."""
    try:
        item = wishlist_add(user=request.user, variant_id=request.POST.get("variant"))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    product = item.variant.product
    messages.success(request, f"Saved “{product.name}” to your wishlist.")
    return redirect(f"{reverse('catalog:product', args=[product.slug])}?variant={item.variant_id}")
