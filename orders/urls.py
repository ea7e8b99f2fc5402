from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("checkout/", views.checkout_begin, name="checkout_start"),
    path("checkout/<uuid:token>/address/", views.checkout_address, name="checkout_address"),
    path("checkout/<uuid:token>/shipping/", views.checkout_shipping, name="checkout_shipping"),
    path("checkout/<uuid:token>/review/", views.checkout_review, name="checkout_review"),
    path("checkout/<uuid:token>/place/", views.checkout_place, name="checkout_place"),
    path(
        "checkout/<uuid:token>/payment/return/",
        views.checkout_payment_return,
        name="checkout_payment_return",
    ),
    path("checkout/<uuid:token>/confirmation/", views.checkout_confirmation, name="confirmation"),
    path("orders/", views.order_list, name="list"),
    # guest paths before `orders/<number>/`, which would otherwise match them
    path("orders/find/", views.guest_order_lookup, name="guest_lookup"),
    path("orders/guest/<str:token>/", views.guest_order_detail, name="guest_detail"),
    path("orders/guest/<str:token>/cancel/", views.guest_order_cancel, name="guest_cancel"),
    path("orders/guest/<str:token>/invoice/", views.guest_order_invoice, name="guest_invoice"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/cancel/", views.order_cancel_view, name="cancel"),
    path("orders/<str:number>/invoice/", views.order_invoice, name="invoice"),
]
