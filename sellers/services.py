"""Seller lifecycle: apply, approve, suspend, reinstate; members."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from catalog.services import image_validate
from search.services import search_documents_mark_dirty
from sellers.models import MemberRole, Seller, SellerInvitation, SellerMember, SellerStatus
from sellers.selectors import member_require
from shop.core.errors import Conflict, NotFound, ValidationError
from shop.core.outbox import outbox_enqueue


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
    # PostgreSQL search checks the status live; OpenSearch documents carry `visible`
    search_documents_mark_dirty(condition=Q(seller_id=locked.pk))
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


# --- Members ------------------------------------------------------------------------------


def _role_check(role: str) -> None:
    if role not in MemberRole.values:
        raise ValidationError("Choose a role.", fields={"role": ["Unknown role."]})


def _lock_members(seller: Seller) -> list[SellerMember]:
    # Locks every membership row of the seller so two concurrent removals or demotions cannot
    # both see "another owner remains" and leave the shop without one.
    return list(SellerMember.objects.select_for_update().filter(seller=seller).order_by("pk"))


def _owner_remains(members: list[SellerMember], *, without: SellerMember) -> bool:
    return any(m.role == MemberRole.OWNER and m.pk != without.pk for m in members)


@transaction.atomic
def member_invite(*, actor: SellerMember, email: str, role: str) -> SellerMember | SellerInvitation:
    """Adds an existing user at once; anyone else gets an invitation email (sent after commit)
    that turns into a membership when they sign up with that address and open the link."""
    member_require(membership=actor, action="members")
    _role_check(role)
    email = User.objects.normalize_email(email.strip()).lower()
    if not email:
        raise ValidationError("Enter an email address.", fields={"email": ["Required."]})
    seller = actor.seller
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        if SellerMember.objects.filter(seller=seller, user=user).exists():
            raise Conflict(
                "This person is already a member.", fields={"email": ["Already a member."]}
            )
        return SellerMember.objects.create(seller=seller, user=user, role=role)
    if SellerInvitation.objects.filter(
        seller=seller, email=email, accepted_at__isnull=True
    ).exists():
        raise Conflict(
            "An invitation to this address is already waiting.",
            fields={"email": ["Already invited."]},
        )
    invitation = SellerInvitation.objects.create(
        seller=seller,
        email=email,
        role=role,
        token=secrets.token_urlsafe(32),
        invited_by=actor.user,
    )
    outbox_enqueue(
        task="sellers.tasks.invitation_email_send_task", kwargs={"invitation_id": invitation.pk}
    )
    return invitation


def invitation_email_send(*, invitation_id: int) -> bool:
    """Send the invitation email (the outbox task of `member_invite`); nothing for an
    invitation accepted or withdrawn meanwhile."""
    invitation = (
        SellerInvitation.objects.select_related("seller", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True)
        .first()
    )
    if invitation is None:
        return False
    seller = invitation.seller
    inviter = invitation.invited_by.email if invitation.invited_by else "A member"
    path = reverse("portal:invitation_accept", kwargs={"token": invitation.token})
    send_mail(
        subject=f"You are invited to help run {seller.name}",
        message=(
            f"{inviter} invited you to {seller.name} as "
            f"{invitation.get_role_display()}.\n\nCreate an account with this address, "
            f"then open {settings.SITE_URL.rstrip('/')}{path}"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return True


@transaction.atomic
def invitation_accept(*, user: User, token: str) -> SellerMember:
    invitation = (
        SellerInvitation.objects.select_for_update()
        .select_related("seller")
        .filter(token=token, accepted_at__isnull=True)
        .first()
    )
    # A wrong address gets the same answer as a wrong token: the link reveals nothing.
    if invitation is None or invitation.email.lower() != user.email.lower():
        raise NotFound("This invitation does not exist or was already used.")
    member, _ = SellerMember.objects.get_or_create(
        seller=invitation.seller, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    return member


@transaction.atomic
def member_role_change(*, actor: SellerMember, member: SellerMember, role: str) -> SellerMember:
    member_require(membership=actor, action="members")
    _role_check(role)
    if member.seller_id != actor.seller_id:
        raise NotFound("No such member.")
    members = _lock_members(actor.seller)
    if role != MemberRole.OWNER and not _owner_remains(members, without=member):
        raise Conflict(
            "A shop needs at least one owner: make someone else owner first.",
            fields={"role": ["This is the last owner."]},
        )
    member.role = role
    member.save(update_fields=["role", "updated_at"])
    return member


@transaction.atomic
def member_remove(*, actor: SellerMember, member: SellerMember) -> None:
    member_require(membership=actor, action="members")
    if member.seller_id != actor.seller_id:
        raise NotFound("No such member.")
    members = _lock_members(actor.seller)
    if not _owner_remains(members, without=member):
        raise Conflict("A shop needs at least one owner: make someone else owner first.")
    member.delete()


# --- Shop settings -----------------------------------------------------------------------------

SETTINGS_LIMITS = {"return_window_days": 365, "handling_time_days": 60}


@transaction.atomic
def seller_settings_update(
    *,
    actor: SellerMember,
    description: str,
    support_email: str,
    return_window_days: int,
    handling_time_days: int,
    low_stock_threshold: int,
    logo: UploadedFile | None = None,
) -> Seller:
    """The shop's own settings. The name (and so the public URL) changes only through staff."""
    member_require(membership=actor, action="settings")
    errors: dict[str, list[str]] = {}
    values = {"return_window_days": return_window_days, "handling_time_days": handling_time_days}
    for field, limit in SETTINGS_LIMITS.items():
        if not 0 <= values[field] <= limit:
            errors[field] = [f"Enter a number of days from 0 to {limit}."]
    if low_stock_threshold < 0:
        errors["low_stock_threshold"] = ["Enter zero or more."]
    if logo is not None:
        try:
            image_validate(upload=logo)
        except ValidationError as exc:
            errors["logo"] = exc.fields.get("image", [exc.message])
    if errors:
        raise ValidationError("Some settings are invalid.", fields=errors)
    seller = Seller.objects.select_for_update().get(pk=actor.seller_id)
    seller.description = description
    seller.support_email = support_email
    seller.return_window_days = return_window_days
    seller.handling_time_days = handling_time_days
    seller.low_stock_threshold = low_stock_threshold
    fields = [
        "description",
        "support_email",
        "return_window_days",
        "handling_time_days",
        "low_stock_threshold",
        "updated_at",
    ]
    if logo is not None:
        seller.logo.save(logo.name or "logo", logo, save=False)
        fields.append("logo")
    seller.save(update_fields=fields)
    return seller
