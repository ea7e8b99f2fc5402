"""Who may act for which seller. Every portal page and seller API lookup goes through
`seller_membership_get`, so a member never reaches another seller's data."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from sellers.models import MemberRole, SellerMember
from shop.core.errors import NotFound, PermissionDenied

# What each role may do. Portal views and API permissions ask `member_can`. Inventory:
# "inventory" manages everything (warehouses, adjust, write-off, transfer, thresholds, inbound
# shipments); fulfilment staff only see stock ("inventory_view") and book goods in
# ("inventory_receive": receive, receive an inbound shipment).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    MemberRole.OWNER: frozenset(
        {
            "view",
            "products",
            "inventory",
            "orders",
            "fulfil",
            "shipping",
            "settings",
            "members",
            "finance",
        }
    ),
    MemberRole.MANAGER: frozenset(
        {"view", "products", "inventory", "orders", "fulfil", "shipping"}
    ),
    MemberRole.FULFILMENT: frozenset(
        {"view", "orders", "fulfil", "inventory_view", "inventory_receive"}
    ),
}


def seller_memberships_for_user(*, user: User) -> QuerySet[SellerMember]:
    """The user's memberships, sellers loaded, any status but rejected."""
    if not user.is_authenticated:
        return SellerMember.objects.none()
    return (
        SellerMember.objects.filter(user=user)
        .exclude(seller__status="rejected")
        .select_related("seller")
        .order_by("seller__name")
    )


def seller_membership_get(*, user: User, seller_id: int | None = None) -> SellerMember:
    """The user's membership of `seller_id` (or their only/first seller when None).
    Raises NotFound when the user is not a member: the seller's existence is not revealed."""
    memberships = seller_memberships_for_user(user=user)
    if seller_id is not None:
        memberships = memberships.filter(seller_id=seller_id)
    membership = memberships.first()
    if membership is None:
        raise NotFound("No seller account found.")
    return membership


def member_can(*, membership: SellerMember, action: str) -> bool:
    allowed = ROLE_PERMISSIONS.get(membership.role, frozenset())
    if action in ("inventory_view", "inventory_receive"):
        return "inventory" in allowed or action in allowed
    return action in allowed


def member_require(*, membership: SellerMember, action: str) -> None:
    if not member_can(membership=membership, action=action):
        raise PermissionDenied(
            f"Your role ({membership.get_role_display()}) does not allow this action."
        )
