"""The seller portal. Views are thin: they resolve the current membership (the seller switcher's
session key, else the first membership), check the role and call the shared services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from sellers.models import SellerInvitation, SellerMember, SellerStatus
from sellers.portal.forms import InviteForm, RoleForm, SettingsForm
from sellers.selectors import (
    member_can,
    member_require,
    seller_membership_get,
    seller_memberships_for_user,
)
from sellers.services import (
    invitation_accept,
    member_invite,
    member_remove,
    member_role_change,
    seller_settings_update,
)
from shop.core.errors import NotFound, PermissionDenied, ServiceError

SESSION_KEY = "portal_seller_id"

View = Callable[..., HttpResponseBase]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def current_membership(request: HttpRequest) -> SellerMember:
    """The membership chosen in the switcher; a stale choice falls back to the first one."""
    user = _user(request)
    chosen = request.session.get(SESSION_KEY)
    if chosen is not None:
        try:
            return seller_membership_get(user=user, seller_id=int(chosen))
        except (NotFound, ValueError):
            request.session.pop(SESSION_KEY, None)
    return seller_membership_get(user=user)


def portal_view(action: str) -> Callable[[View], View]:
    """Signs in, resolves the membership (none -> the 'apply to sell' page), requires `action`.
    A refused role is sent back to the portal home with the reason; foreign ids are 404."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
            try:
                membership = current_membership(request)
            except NotFound:
                messages.info(request, "You are not a member of any shop yet. Apply to sell.")
                return redirect("sellers:apply")
            try:
                member_require(membership=membership, action=action)
                return view(request, membership, *args, **kwargs)
            except PermissionDenied as exc:
                messages.error(request, exc.message)
                response = render(
                    request, "portal/forbidden.html", _ctx(request, membership), status=403
                )
                return response
            except NotFound as exc:
                raise Http404(exc.message) from exc

        return wrapped

    return decorator


def _ctx(request: HttpRequest, membership: SellerMember, **extra: object) -> dict[str, object]:
    seller = membership.seller
    return {
        "membership": membership,
        "seller": seller,
        "memberships": seller_memberships_for_user(user=_user(request)),
        "can": {
            action: member_can(membership=membership, action=action)
            for action in (
                "products",
                "inventory",
                "inventory_view",
                "inventory_receive",
                "orders",
                "fulfil",
                "settings",
                "members",
                "shipping",
                "finance",
            )
        },
        "is_pending": seller.status == SellerStatus.PENDING,
        "is_suspended": seller.status == SellerStatus.SUSPENDED,
        **extra,
    }


def _form_error(
    form: forms.Form, exc: ServiceError, fallback: str | None = None, *, prefix: str = ""
) -> None:
    """Show a service's refusal on the form: its field errors beside their fields (`prefix` +
    the service's key, e.g. `attr_` for attribute inputs), else its message beside `fallback`
    (the field it is about) or at the top of the form."""
    placed = False
    for field, errors in exc.fields.items():
        name = prefix + field
        for error in errors:
            form.add_error(name if name in form.fields else None, error)
            placed = True
    if not placed:
        form.add_error(fallback, exc.message)


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    try:
        membership = seller_membership_get(
            user=_user(request), seller_id=int(request.POST.get("seller", ""))
        )
    except (NotFound, ValueError) as exc:
        raise Http404("No such shop.") from exc
    request.session[SESSION_KEY] = membership.seller_id
    messages.success(request, f"You are now working on {membership.seller.name}.")
    return redirect("portal:home")


def _member_get(membership: SellerMember, member_id: int) -> SellerMember:
    """A member of the current seller only: another shop's member id is a 404."""
    member = (
        SellerMember.objects.filter(seller_id=membership.seller_id, pk=member_id)
        .select_related("user")
        .first()
    )
    if member is None:
        raise NotFound("No such member.")
    return member


@portal_view("members")
def members(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = member_invite(actor=membership, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            if isinstance(result, SellerInvitation):
                messages.success(request, f"Invitation sent to {result.email}.")
            else:
                messages.success(request, f"{result.user.email} was added.")
            return redirect("portal:members")
    rows = SellerMember.objects.filter(seller=membership.seller).select_related("user")
    invitations = SellerInvitation.objects.filter(
        seller=membership.seller, accepted_at__isnull=True
    )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "portal/members.html",
        _ctx(
            request,
            membership,
            form=form,
            rows=[(row, RoleForm(initial={"role": row.role})) for row in rows],
            invitations=invitations,
        ),
        status=status,
    )


@require_POST
@portal_view("members")
def member_role(request: HttpRequest, membership: SellerMember, member_id: int) -> HttpResponse:
    member = _member_get(membership, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role.")
        return redirect("portal:members")
    try:
        member_role_change(actor=membership, member=member, role=form.cleaned_data["role"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{member.user.email} is now {member.get_role_display()}.")
    return redirect("portal:members")


@require_POST
@portal_view("members")
def member_delete(request: HttpRequest, membership: SellerMember, member_id: int) -> HttpResponse:
    member = _member_get(membership, member_id)
    try:
        member_remove(actor=membership, member=member)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{member.user.email} was removed.")
    if member.pk == membership.pk:
        return redirect("catalog:home")
    return redirect("portal:members")


@login_required
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            member = invitation_accept(user=_user(request), token=token)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        request.session[SESSION_KEY] = member.seller_id
        messages.success(request, f"Welcome to {member.seller.name}.")
        return redirect("portal:home")
    pending = SellerInvitation.objects.filter(
        token=token, accepted_at__isnull=True, email__iexact=_user(request).email
    ).select_related("seller")
    found = pending.first()
    if found is None:
        raise Http404("This invitation does not exist or was already used.")
    return render(request, "portal/invitation.html", {"invitation": found})


@portal_view("settings")
def shop_settings(request: HttpRequest, membership: SellerMember) -> HttpResponse:
    seller = membership.seller
    initial = {
        field: getattr(seller, field)
        for field in (
            "description",
            "support_email",
            "return_window_days",
            "handling_time_days",
            "low_stock_threshold",
        )
    }
    form = SettingsForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            seller_settings_update(actor=membership, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return redirect("portal:settings")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "portal/settings.html", _ctx(request, membership, form=form), status=status
    )
