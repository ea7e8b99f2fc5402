"""Storefront checkout steps (address -> shipping per seller -> review and payment ->
confirmation) and the customer's order pages. Thin callers of orders.services."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.forms import AddressForm
from accounts.selectors import address_list_for_user
from accounts.services import ADDRESS_FIELDS
from cart.owner import cart_session_key, request_cart
from inventory.services import InsufficientStock
from orders.links import order_follow_path
from orders.models import Checkout, CheckoutStatus, Order
from orders.selectors import (
    order_get_for_checkout,
    order_get_for_customer,
    order_get_for_guest,
    order_get_for_guest_token,
    order_guest_token,
    order_list_for_customer,
    order_number_normalise,
    order_refunds,
    shipping_options,
)
from orders.services import (
    PaymentActionRequired,
    checkout_refresh_hold,
    checkout_set_address,
    checkout_set_shipping,
    checkout_start,
    order_cancel,
    order_place,
)
from orders.services.checkout import checkout_get_for_owner
from orders.services.placement import checkout_price
from orders.services.transitions import CANCELLABLE
from payments.gateways import gateway_live, payment_method_label
from payments.gateways.base import to_minor
from payments.models import Payment
from payments.web import stripe_js_allowed
from shop.core.clientip import client_ip
from shop.core.errors import (
    NotFound,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
    ValidationError,
)
from shop.core.numbers import NumberError, decimal_parse
from shop.core.ratelimit import rate_limit_hit


def _checkout(request: HttpRequest, token) -> Checkout:
    user = request.user if request.user.is_authenticated else None
    try:
        return checkout_get_for_owner(
            token=token, user=user, session_key="" if user else cart_session_key(request)
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _open_or_confirmation(checkout: Checkout) -> HttpResponse | None:
    if checkout.status == CheckoutStatus.PLACED:
        return redirect("orders:confirmation", token=checkout.token)
    return None


@require_POST
def checkout_begin(request: HttpRequest) -> HttpResponse:
    cart = request_cart(request)
    if cart is None:
        messages.error(request, "Your cart is empty.")
        return redirect("cart:detail")
    user = request.user if request.user.is_authenticated else None
    try:
        checkout = checkout_start(cart=cart, user=user, session_key=cart_session_key(request))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("cart:detail")
    return redirect("orders:checkout_address", token=checkout.token)


def checkout_address(request: HttpRequest, token) -> HttpResponse:
    checkout = _checkout(request, token)
    if (done := _open_or_confirmation(checkout)) is not None:
        return done
    saved = list(address_list_for_user(user=request.user)) if request.user.is_authenticated else []
    current = checkout.shipping_address
    initial = {k: getattr(current, k, "") for k in ADDRESS_FIELDS} if current else {}
    chosen = str(current.pk) if current is not None and current.user_id else ""
    if not chosen and not current and saved:
        chosen = str(saved[0].pk)  # the default address first
    form = AddressForm(initial=initial)
    email_error = ""
    if request.method == "POST":
        chosen = request.POST.get("address_id", "")
        form = AddressForm(request.POST if not chosen else None, initial=initial)
        try:
            if chosen:
                checkout_set_address(
                    checkout=checkout, email=request.POST.get("email", ""), address_id=chosen
                )
                return redirect("orders:checkout_shipping", token=checkout.token)
            if form.is_valid():
                checkout_set_address(
                    checkout=checkout, email=request.POST.get("email", ""), **form.cleaned_data
                )
                return redirect("orders:checkout_shipping", token=checkout.token)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except InsufficientStock as exc:
            messages.error(request, exc.message + " Please update your cart.")
            return redirect("cart:detail")
        except ServiceError as exc:
            email_error = " ".join(exc.fields.pop("email", []))
            if exc.fields or not email_error:
                form.add_service_error(exc)
    return render(
        request,
        "storefront/checkout/address.html",
        {
            "checkout": checkout,
            "saved": saved,
            "chosen": chosen,
            "form": form,
            "email_error": email_error,
            "step": 1,
            "email": request.POST.get("email")
            or checkout.email
            or getattr(request.user, "email", ""),
        },
        status=400 if request.method == "POST" else 200,
    )


def checkout_shipping(request: HttpRequest, token) -> HttpResponse:
    checkout = _checkout(request, token)
    if (done := _open_or_confirmation(checkout)) is not None:
        return done
    if checkout.shipping_address_id is None:
        return redirect("orders:checkout_address", token=checkout.token)
    totals = checkout_price(checkout=checkout)
    options = shipping_options(
        seller_ids=[s.seller_id for s in totals.sellers],
        country=checkout.shipping_address.country if checkout.shipping_address else "",
    )
    if request.method == "POST":
        choices = {s.seller_id: request.POST.get(f"seller_{s.seller_id}") for s in totals.sellers}
        try:
            checkout_set_shipping(checkout=checkout, choices=choices)
            return redirect("orders:checkout_review", token=checkout.token)
        except ServiceError as exc:
            messages.error(request, exc.message)
    chosen = {int(k): v for k, v in checkout.shipping_choices.items()}
    sellers = [
        (s, options[s.seller_id], chosen.get(s.seller_id) or next(iter(options[s.seller_id]), None))
        for s in totals.sellers
    ]
    return render(
        request,
        "storefront/checkout/shipping.html",
        {"checkout": checkout, "sellers": sellers, "step": 2},
    )


def checkout_review(request: HttpRequest, token) -> HttpResponse:
    checkout = _checkout(request, token)
    if (done := _open_or_confirmation(checkout)) is not None:
        return done
    # The hold follows the cart: lines changed since checkout started, or a lapsed hold, are
    # re-taken here (all or nothing) with a fresh TTL before the shopper reviews.
    lapsed = checkout.reserved_until is None or checkout.reserved_until <= timezone.now()
    try:
        checkout_refresh_hold(checkout=checkout)
    except InsufficientStock as exc:
        messages.error(request, exc.message + " Please update your cart.")
        return redirect("cart:detail")
    if lapsed:
        messages.info(request, "Your items were held again for you.")
    totals = checkout_price(checkout=checkout)
    if totals.missing_shipping:
        return redirect("orders:checkout_shipping", token=checkout.token)
    context = {"checkout": checkout, "totals": totals, "step": 3, "gateway": gateway_live()}
    if context["gateway"] == "stripe":
        context["stripe_publishable_key"] = settings.STRIPE_PUBLISHABLE_KEY
        context["amount_minor"] = to_minor(totals.total, totals.currency)
    return stripe_js_allowed(render(request, "storefront/checkout/review.html", context))


def _return_url(request: HttpRequest, checkout: Checkout) -> str:
    path = reverse("orders:checkout_payment_return", args=[checkout.token])
    return request.build_absolute_uri(path)


def _paid_or_back(request: HttpRequest, checkout: Checkout, pay) -> HttpResponse:
    """Run a payment step; on to the confirmation, to the bank's check, or back to review."""
    try:
        pay()
    except PaymentActionRequired as exc:
        details = exc.details or {}
        payment = Payment.objects.get(pk=details["payment_id"], checkout_id=checkout.pk)
        if payment.gateway == "test":
            # its own page, on this host (the absolute action_url is for API clients)
            return redirect("payments:test_authenticate", reference=payment.reference)
        # Stripe: the browser finishes the bank's check with Stripe.js, then comes back
        return stripe_js_allowed(
            render(
                request,
                "storefront/checkout/authenticate.html",
                {
                    "checkout": checkout,
                    "client_secret": details.get("client_secret", ""),
                    "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
                    "return_url": _return_url(request, checkout),
                    "step": 3,
                },
            )
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("orders:checkout_review", token=checkout.token)
    return redirect("orders:confirmation", token=checkout.token)


@require_POST
def checkout_place(request: HttpRequest, token) -> HttpResponse:
    checkout = _checkout(request, token)
    try:
        expected = decimal_parse(
            request.POST.get("expected_total", ""), max_digits=20, decimal_places=2
        )
    except NumberError:
        expected = None
    return _paid_or_back(
        request,
        checkout,
        lambda: order_place(
            checkout=checkout,
            payment_token=request.POST.get("payment_token", "")[:255],
            expected_total=expected,
            return_url=_return_url(request, checkout),
            client_ip=client_ip(request=request),
        ),
    )


def checkout_payment_return(request: HttpRequest, token) -> HttpResponse:
    """Back from the bank's check (3-D Secure) or a redirecting payment method: the gateway
    says where the payment stands, and the order is placed if it paid."""
    checkout = _checkout(request, token)
    if (done := _open_or_confirmation(checkout)) is not None:
        return done
    payment = Payment.objects.filter(checkout_id=checkout.pk).order_by("-attempt").first()
    if payment is None:
        return redirect("orders:checkout_review", token=checkout.token)
    return _paid_or_back(
        request,
        checkout,
        lambda: order_place(
            checkout=checkout, payment_id=payment.pk, client_ip=client_ip(request=request)
        ),
    )


def checkout_confirmation(request: HttpRequest, token) -> HttpResponse:
    checkout = _checkout(request, token)
    order = order_get_for_checkout(checkout=checkout)
    if order is None:
        return redirect("orders:checkout_review", token=checkout.token)
    order_url = order_follow_path(order=order)
    return render(
        request,
        "storefront/checkout/confirmation.html",
        {
            "order": order,
            "checkout": checkout,
            "step": 4,
            "order_url": order_url,
            "invoice_url": order_url.rstrip("/") + "/invoice/",
            "payment_method": payment_method_label(gateway=order.payment_gateway),
            "refunds": order_refunds(order=order),
        },
    )


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(order_list_for_customer(user=request.user), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "storefront/orders/list.html", {"page": page, "section": "orders"})


def _order_page(request: HttpRequest, order: Order, base: str, template: str) -> HttpResponse:
    return render(
        request,
        template,
        {
            "order": order,
            "section": "orders",
            "order_url": base,
            "invoice_url": base + "invoice/",
            "cancel_url": base + "cancel/",
            "cancellable": order.status in CANCELLABLE,
            "payment_method": payment_method_label(gateway=order.payment_gateway),
            "refunds": order_refunds(order=order),
        },
    )


def _customer_order(request: HttpRequest, number: str) -> Order:
    try:
        return order_get_for_customer(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _guest_order(token: str) -> Order:
    try:
        return order_get_for_guest_token(token=token)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _customer_order(request, number)
    base = reverse("orders:detail", args=[order.number])
    return _order_page(request, order, base, "storefront/orders/detail.html")


@login_required
def order_invoice(request: HttpRequest, number: str) -> HttpResponse:
    order = _customer_order(request, number)
    base = reverse("orders:detail", args=[order.number])
    return _order_page(request, order, base, "storefront/orders/invoice.html")


def _customer_cancel(request: HttpRequest, fetch: Callable[[], Order]) -> None:
    """Cancel the order `fetch` returns (a fetch-and-check: not found is a 404) and tell the
    shopper how it went."""
    try:
        order = fetch()
        order_cancel(
            order=order,
            by=request.user if request.user.is_authenticated else None,
            reason="Cancelled by the customer.",
        )
        messages.success(request, f"Order {order.number} is cancelled.")
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)


@login_required
def order_cancel_view(request: HttpRequest, number: str) -> HttpResponse:
    """GET asks "are you sure?"; POST cancels."""
    if request.method != "POST":
        order = _customer_order(request, number)
        base = reverse("orders:detail", args=[order.number])
        return _order_page(request, order, base, "storefront/orders/cancel.html")
    _customer_cancel(request, lambda: order_get_for_customer(user=request.user, number=number))
    return redirect("orders:detail", number=number)


def guest_order_lookup(request: HttpRequest) -> HttpResponse:
    """Order number + email -> the order, for shoppers without an account. Attempts are
    rate-limited per client address and per order number; every miss gets the same answer."""
    values = {"number": "", "email": ""}
    error, status = "", 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip()[:254] for k in values}
        try:
            if not values["number"] or not values["email"]:
                raise ValidationError("Enter your order number and the email you ordered with.")
            rate_limit_hit(
                scope="order-lookup",
                keys=[
                    f"ip:{client_ip(request=request)}",
                    f"number:{order_number_normalise(values['number'])}",
                ],
                limit=settings.ORDER_LOOKUP_ATTEMPTS,
                window_seconds=settings.ORDER_LOOKUP_WINDOW_SECONDS,
            )
            order = order_get_for_guest(number=values["number"], email=values["email"])
        except (ValidationError, RateLimited, ServiceUnavailable, NotFound) as exc:
            error, status = exc.message, exc.http_status
        else:
            return redirect("orders:guest_detail", token=order_guest_token(order=order))
    return render(
        request,
        "storefront/orders/lookup.html",
        {"values": values, "error": error},
        status=status,
    )


def guest_order_detail(request: HttpRequest, token: str) -> HttpResponse:
    base = reverse("orders:guest_detail", args=[token])
    return _order_page(request, _guest_order(token), base, "storefront/orders/detail.html")


def guest_order_invoice(request: HttpRequest, token: str) -> HttpResponse:
    base = reverse("orders:guest_detail", args=[token])
    return _order_page(request, _guest_order(token), base, "storefront/orders/invoice.html")


def guest_order_cancel(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "are you sure?"; POST cancels."""
    if request.method != "POST":
        base = reverse("orders:guest_detail", args=[token])
        return _order_page(request, _guest_order(token), base, "storefront/orders/cancel.html")
    _customer_cancel(request, lambda: order_get_for_guest_token(token=token))
    return redirect("orders:guest_detail", token=token)
