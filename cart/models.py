"""Carts, their lines, and wishlists.

A cart belongs to a signed-in user or to an anonymous session (`session_key`); the two merge at
sign-in (`cart.services.cart_merge_on_login`). Lines keep `price_at_add` only to tell the shopper
that a price changed since they added it: what they pay is always computed by `pricing.totals`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from shop.core.models import BaseModel


def _share_token() -> str:
    return secrets.token_urlsafe(16)


class CartStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ABANDONED = "abandoned", "Abandoned"
    CONVERTED = "converted", "Converted to an order"


class Cart(BaseModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="carts",
    )
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        max_length=12, choices=CartStatus.choices, default=CartStatus.ACTIVE, db_index=True
    )
    share_token = models.CharField(max_length=32, unique=True, default=_share_token)
    voucher_code = models.CharField(max_length=40, blank=True)
    last_activity_at = models.DateTimeField(auto_now_add=True, db_index=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a cart marked abandoned later converts."
    )
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_activity_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="active", user__isnull=False),
                name="cart_one_active_per_user",
            ),
            models.UniqueConstraint(
                fields=["session_key"],
                condition=Q(status="active", user__isnull=True) & ~Q(session_key=""),
                name="cart_one_active_per_session",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(session_key=""), name="cart_has_owner"
            ),
        ]

    def __str__(self) -> str:
        owner = f"user {self.user_id}" if self.user_id else f"session {self.session_key[:8]}"
        return f"Cart {self.pk} ({owner}, {self.status})"


class CartLine(BaseModel):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, related_name="cart_lines"
    )
    quantity = models.PositiveIntegerField()
    price_at_add = models.DecimalField(max_digits=20, decimal_places=2)
    saved_for_later = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_line_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x variant {self.variant_id}"


class WishlistItem(BaseModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wishlist_items"
    )
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, related_name="wishlist_items"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "variant"], name="cart_wishlist_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} wishes {self.variant_id}"
