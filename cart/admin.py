from django.contrib import admin

from cart.models import Cart, CartLine, WishlistItem
from cart.selectors import cart_abandonment_stats


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    raw_id_fields = ["variant"]
    readonly_fields = ["price_at_add", "created_at"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "status",
        "last_activity_at",
        "abandoned_at",
        "reminder_sent_at",
        "recovered_at",
    ]
    list_filter = ["status", ("abandoned_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "session_key"]
    raw_id_fields = ["user"]
    readonly_fields = ["share_token", "last_activity_at", "converted_at", "recovered_at"]
    inlines = [CartLineInline]

    def changelist_view(self, request, extra_context=None):
        stats = cart_abandonment_stats()
        extra_context = {
            **(extra_context or {}),
            "title": (
                f"Carts — abandonment {stats.abandonment_rate:.1%} "
                f"({stats.abandoned} of {stats.carts}), recovery {stats.recovery_rate:.1%} "
                f"({stats.recovered} of {stats.abandoned})"
            ),
        }
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(WishlistItem)
class WishlistItemAdmin(admin.ModelAdmin):
    list_display = ["user", "variant", "created_at"]
    raw_id_fields = ["user", "variant"]
