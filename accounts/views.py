"""The storefront's account pages: sign up, sign in (with a second step when two-factor is on),
sign out, password reset, email confirmation and change, the account overview, the address
book, account settings (password, API tokens, two-factor) and closing the account. Thin callers
of accounts.services; service errors become form errors. Orders and the wishlist have their own
apps' pages."""

from __future__ import annotations

import time
from base64 import b32encode
from typing import cast

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from accounts import services
from accounts.forms import (
    AddressForm,
    CodeForm,
    EmailChangeForm,
    EmailForm,
    NewPasswordForm,
    PasswordChangeForm,
    PasswordConfirmForm,
    SignInForm,
    SignUpForm,
)
from accounts.models import Address, User
from accounts.selectors import address_get_for_user, address_list_for_user, api_tokens_for_user
from accounts.services import ADDRESS_FIELDS
from orders.selectors import order_list_for_customer
from shop.core.clientip import client_ip
from shop.core.errors import NotFound, ServiceError

SENT = "If that address has an account, we have sent it an email with a link."
PENDING_KEY = "accounts_two_factor_pending"
PENDING_SECONDS = 300
# service field names that a storefront form calls differently
FIELD_NAMES = {"new_password": "new_password1", "password": "password1"}


def _me(request: HttpRequest) -> User:
    """The signed-in user of a `login_required` view."""
    assert isinstance(request.user, User)
    return request.user


def _errors_to_form(form: Form, exc: ServiceError) -> None:
    if not exc.fields:
        form.add_error(None, exc.message)
    for name, problems in exc.fields.items():
        field = name if name in form.fields else FIELD_NAMES.get(name)
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


class SignInView(auth_views.LoginView):
    """Email and password; an account with two-factor on continues at `login_code` (it is
    not signed in until the code is right)."""

    template_name = "storefront/accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if services.two_factor_device(user=user) is None:
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return redirect("accounts:login_code")


@sensitive_post_parameters("code")
def login_code(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(PENDING_KEY)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return redirect("accounts:login")
    user = User.objects.get(pk=pending["user"])
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.two_factor_code_check(user=user, code=form.cleaned_data["code"])
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            del request.session[PENDING_KEY]
            login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return redirect(pending["next"])
    return render(request, "storefront/accounts/login_code.html", {"form": form})


class SignOutView(auth_views.LogoutView):
    """POST only (Django refuses GET), so a link on another site cannot sign a shopper out."""


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_up(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                full_name=form.cleaned_data["full_name"],
            )
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, "Welcome! Your account is ready. Confirm your email with the link we sent."
            )
            return redirect(_safe_next(request))
    return render(
        request, "storefront/accounts/signup.html", {"form": form, "next": _safe_next(request)}
    )


def password_reset(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_request(
                email=form.cleaned_data["email"], client=client_ip(request=request)
            )
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, SENT)
            return redirect("accounts:login")
    return render(request, "storefront/accounts/password_reset.html", {"form": form})


@sensitive_post_parameters("new_password1", "new_password2")
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    try:
        services.password_reset_user(uid=uidb64, token=token)
    except ServiceError as exc:
        return render(
            request, "storefront/accounts/link_invalid.html", {"message": exc.message}, status=400
        )
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_confirm(
                uid=uidb64, token=token, new_password=form.cleaned_data["new_password1"]
            )
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "Your password was changed. Sign in with it.")
            return redirect("accounts:login")
    return render(request, "storefront/accounts/password_reset_confirm.html", {"form": form})


def email_verify(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); POST confirms."""
    if request.method == "POST":
        try:
            services.email_verify(token=token)
        except ServiceError as exc:
            return render(
                request,
                "storefront/accounts/link_invalid.html",
                {"message": exc.message},
                status=400,
            )
        messages.success(request, "Your email address is confirmed.")
        return redirect("accounts:settings" if request.user.is_authenticated else "catalog:home")
    return render(
        request,
        "storefront/accounts/confirm_link.html",
        {"title": "Confirm your email address", "button": "Confirm"},
    )


def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            services.email_change_confirm(token=token)
        except ServiceError as exc:
            return render(
                request,
                "storefront/accounts/link_invalid.html",
                {"message": exc.message},
                status=exc.http_status,
            )
        messages.success(request, "Your email address was changed.")
        return redirect("accounts:settings" if request.user.is_authenticated else "accounts:login")
    return render(
        request,
        "storefront/accounts/confirm_link.html",
        {"title": "Use your new email address", "button": "Confirm the new address"},
    )


def _settings_page(request: HttpRequest, status: int = 200, **forms: Form) -> HttpResponse:
    user = _me(request)
    context = {
        "section": "settings",
        "password_form": forms.get("password_form") or PasswordChangeForm(),
        "email_form": forms.get("email_form") or EmailChangeForm(),
        "tokens": api_tokens_for_user(user=user),
        "two_factor_allowed": services.two_factor_allowed(user=user),
        "two_factor_on": services.two_factor_device(user=user) is not None,
        "two_factor_required": user.is_staff and settings.STAFF_2FA_REQUIRED,
    }
    return render(request, "storefront/accounts/settings.html", context, status=status)


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    return _settings_page(request)


@login_required
@require_POST
@sensitive_post_parameters("current_password", "new_password1", "new_password2")
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST)
    if form.is_valid():
        try:
            user = services.password_change(
                user=_me(request),
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "Your password was changed. Your apps must sign in again.")
            return redirect("accounts:settings")
    return _settings_page(request, status=400, password_form=form)


@login_required
@require_POST
@sensitive_post_parameters("password")
def email_change(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(request.POST)
    if form.is_valid():
        try:
            services.email_change_request(
                user=_me(request),
                new_email=form.cleaned_data["new_email"],
                password=form.cleaned_data["password"],
                client=client_ip(request=request),
            )
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, "Follow the link we sent to the new address to use it.")
            return redirect("accounts:settings")
    return _settings_page(request, status=400, email_form=form)


@login_required
@require_POST
def email_verify_resend(request: HttpRequest) -> HttpResponse:
    try:
        services.email_verification_resend(user=_me(request), client=client_ip(request=request))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "We have sent you the confirmation link again.")
    return redirect("accounts:settings")


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    try:
        services.api_token_revoke(user=_me(request), token_id=token_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The app on that device is signed out.")
    return redirect("accounts:settings")


@login_required
@require_POST
def tokens_revoke_all(request: HttpRequest) -> HttpResponse:
    services.api_tokens_revoke_all(user=_me(request))
    messages.success(request, "Every app is signed out.")
    return redirect("accounts:settings")


@login_required
@sensitive_post_parameters("code")
def two_factor(request: HttpRequest) -> HttpResponse:
    """Turn two-factor on: scan the key, then enter a code to prove the app has it."""
    user = _me(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.two_factor_setup_confirm(user=user, code=form.cleaned_data["code"])
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on.")
            return redirect("accounts:settings")
    device = services.two_factor_pending_device(user=user)
    if device is None or request.method == "GET":
        try:
            device = services.two_factor_setup_start(user=user)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("accounts:settings")
    uri = device.config_url
    context = {
        "form": form,
        "qr_svg": segno.make(uri).svg_inline(scale=4, title="Two-factor key"),
        "secret": b32encode(device.bin_key).decode(),
    }
    return render(request, "storefront/accounts/two_factor.html", context)


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
                services.address_create(
                    user=cast(User, request.user),
                    is_default=bool(request.POST.get("is_default")),
                    **form.cleaned_data,
                )
                messages.success(request, "Address added.")
            else:
                services.address_update(address=address, **form.cleaned_data)
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
        services.address_delete(address=address)
        messages.success(request, "Address removed.")
        return redirect("accounts:addresses")
    return _account(
        request, "storefront/accounts/address_delete.html", "addresses", address=address
    )


@login_required
@require_POST
@sensitive_post_parameters("code")
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    try:
        if not form.is_valid():
            raise ServiceError("Enter the code from your app.")
        services.two_factor_disable(user=_me(request), code=form.cleaned_data["code"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Two-factor sign-in is off.")
    return redirect("accounts:settings")


@login_required
@sensitive_post_parameters("password")
def account_delete(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_delete(user=_me(request), password=form.cleaned_data["password"])
        except ServiceError as exc:
            _errors_to_form(form, exc)
        else:
            auth_logout(request)
            messages.success(request, "Your account is closed. Goodbye.")
            return redirect("catalog:home")
    return render(request, "storefront/accounts/delete.html", {"form": form})


def address_default(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.address_set_default(address=_address_or_404(request, pk))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Default address changed.")
    return redirect("accounts:addresses")
