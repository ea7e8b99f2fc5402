from django.urls import path

from cart import api

urlpatterns = [
    path("carts/", api.GuestCartCreateView.as_view(), name="api-guest-cart"),
    path("cart/", api.CartView.as_view(), name="api-cart"),
    path("cart/merge/", api.CartMergeView.as_view(), name="api-cart-merge"),
    path("cart/lines/", api.CartLinesView.as_view(), name="api-cart-lines"),
    path("cart/lines/<id:line_id>/", api.CartLineView.as_view(), name="api-cart-line"),
    path("cart/voucher/", api.CartVoucherView.as_view(), name="api-cart-voucher"),
    path("wishlist/", api.WishlistView.as_view(), name="api-wishlist"),
    path("wishlist/<id:item_id>/", api.WishlistItemView.as_view(), name="api-wishlist-item"),
    path(
        "wishlist/<id:item_id>/move-to-cart/",
        api.WishlistMoveView.as_view(),
        name="api-wishlist-move",
    ),
]
