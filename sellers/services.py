"""Seller lifecycle: apply, approve, suspend, reinstate; members."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from sellers.models import MemberRole, Seller, SellerMember, SellerStatus
from shop.core.errors import Conflict, ValidationError


@transaction.atomic
def seller_apply(
    *, user: User, name: str, description: str = "", support_email: str = ""
) -> Seller:
    """A user asks to sell on the marketplace; the shop waits for staff approval."""
    name = name.strip()
    if not name:
        raise ValidationError("A shop name is required.", fields={"name": ["Enter a shop name."]})
    slug = slugify(name)[:200]
    if not slug:
        raise ValidationError(
            "Choose a name with letters or digits.", fields={"name": ["Invalid name."]}
        )
    if Seller.objects.filter(slug=slug).exists():
        raise Conflict(
            "A shop with this name already exists.", fields={"name": ["This name is taken."]}
        )
    if SellerMember.objects.filter(user=user, seller__status=SellerStatus.PENDING).exists():
        raise Conflict("You already have an application waiting for review.")
    seller = Seller.objects.create(
        name=name,
        slug=slug,
        description=description,
        support_email=support_email or user.email,
        status=SellerStatus.PENDING,
    )
    SellerMember.objects.create(seller=seller, user=user, role=MemberRole.OWNER)
    return seller


def _set_status(seller: Seller, status: SellerStatus, reason: str) -> Seller:
    locked = Seller.objects.select_for_update().get(pk=seller.pk)
    locked.status = status
    locked.status_reason = reason
    fields = ["status", "status_reason", "updated_at"]
    if status == SellerStatus.APPROVED and locked.approved_at is None:
        locked.approved_at = timezone.now()
        fields.append("approved_at")
    locked.save(update_fields=fields)
    return locked


@transaction.atomic
def seller_approve(*, seller: Seller, reason: str = "") -> Seller:
    return _set_status(seller, SellerStatus.APPROVED, reason)


@transaction.atomic
def seller_suspend(*, seller: Seller, reason: str) -> Seller:
    """Suspension hides every product of the seller at once (visibility is a join on status)."""
    if not reason.strip():
        raise ValidationError("Say why the seller is suspended.", fields={"reason": ["Required."]})
    return _set_status(seller, SellerStatus.SUSPENDED, reason)


@transaction.atomic
def seller_reject(*, seller: Seller, reason: str) -> Seller:
    return _set_status(seller, SellerStatus.REJECTED, reason)
