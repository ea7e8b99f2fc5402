from django.urls import path

from cart import views

app_name = "cart"

urlpatterns = [
    path("", views.cart_detail, name="detail"),
    path("add/", views.cart_add, name="add"),
    path("lines/<id:line_id>/", views.cart_line_change, name="line"),
    path("voucher/", views.cart_voucher, name="voucher"),
    path("shared/<str:token>/", views.cart_shared, name="shared"),
    path("wishlist/", views.wishlist, name="wishlist"),
    path("wishlist/add/", views.wishlist_add_view, name="wishlist_add"),
]
