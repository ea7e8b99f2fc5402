"""Sign up, sign in and out, and the account pages (overview, address book) on the storefront.
Thin callers of accounts.services; orders and the wishlist have their own apps' pages."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.forms import AddressForm, SignInForm, SignUpForm
from accounts.models import Address, User
from accounts.selectors import address_get_for_user, address_list_for_user
from accounts.services import (
    ADDRESS_FIELDS,
    address_create,
    address_delete,
    address_set_default,
    address_update,
    user_signup,
)
from orders.selectors import order_list_for_customer
from shop.core.errors import NotFound, ServiceError


class SignInView(auth_views.LoginView):
    template_name = "storefront/accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    """POST only (Django refuses GET), so a link on another site cannot sign a shopper out."""


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"],
            )
        except ServiceError as exc:
            for name, errors in exc.fields.items():
                form.add_error("password1" if name == "password" else name, errors)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome! Your account is ready.")
            return redirect(_safe_next(request))
    return render(
        request, "storefront/accounts/signup.html", {"form": form, "next": _safe_next(request)}
    )


def _account(request: HttpRequest, template: str, section: str, **context) -> HttpResponse:
    status = context.pop("status", 200)
    return render(request, template, {"section": section, **context}, status=status)


@login_required
def account_home(request: HttpRequest) -> HttpResponse:
    return _account(
        request,
        "storefront/accounts/home.html",
        "home",
        recent_orders=order_list_for_customer(user=request.user)[:3],
        default_address=address_list_for_user(user=request.user).first(),
    )


@login_required
def address_list(request: HttpRequest) -> HttpResponse:
    return _account(
        request,
        "storefront/accounts/addresses.html",
        "addresses",
        addresses=address_list_for_user(user=request.user),
    )


def _address_or_404(request: HttpRequest, pk: int) -> Address:
    try:
        return address_get_for_user(user=request.user, pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _address_form(request: HttpRequest, address: Address | None) -> HttpResponse:
    initial = {name: getattr(address, name) for name in ADDRESS_FIELDS} if address else {}
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if address is None:
                address_create(
                    user=cast(User, request.user),
                    is_default=bool(request.POST.get("is_default")),
                    **form.cleaned_data,
                )
                messages.success(request, "Address added.")
            else:
                address_update(address=address, **form.cleaned_data)
                messages.success(request, "Address saved.")
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            return redirect("accounts:addresses")
    return _account(
        request,
        "storefront/accounts/address_form.html",
        "addresses",
        form=form,
        address=address,
        status=400 if request.method == "POST" else 200,
    )


@login_required
def address_new(request: HttpRequest) -> HttpResponse:
    return _address_form(request, None)


@login_required
def address_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _address_form(request, _address_or_404(request, pk))


@login_required
def address_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST removes."""
    address = _address_or_404(request, pk)
    if request.method == "POST":
        address_delete(address=address)
        messages.success(request, "Address removed.")
        return redirect("accounts:addresses")
    return _account(
        request, "storefront/accounts/address_delete.html", "addresses", address=address
    )


@login_required
@require_POST
def address_default(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        address_set_default(address=_address_or_404(request, pk))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Default address changed.")
    return redirect("accounts:addresses")
