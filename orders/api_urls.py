from django.urls import path

from orders import api

urlpatterns = [
    path("checkouts/", api.CheckoutListView.as_view(), name="api-checkout-start"),
    path("checkouts/<str:token>/", api.CheckoutDetailView.as_view(), name="api-checkout"),
    path(
        "checkouts/<str:token>/place/", api.CheckoutPlaceView.as_view(), name="api-checkout-place"
    ),
    path(
        "checkouts/<str:token>/payment/",
        api.CheckoutPaymentView.as_view(),
        name="api-checkout-payment",
    ),
    path(
        "checkouts/<str:token>/payments/<id:payment_id>/",
        api.PaymentDetailView.as_view(),
        name="api-checkout-payment-detail",
    ),
    path("orders/", api.OrderListView.as_view(), name="api-orders"),
    # guest paths before `orders/<number>/`, which would otherwise match them
    path("orders/lookup/", api.GuestOrderLookupView.as_view(), name="api-order-lookup"),
    path("orders/guest/<str:token>/", api.GuestOrderDetailView.as_view(), name="api-guest-order"),
    path(
        "orders/guest/<str:token>/cancel/",
        api.GuestOrderCancelView.as_view(),
        name="api-guest-order-cancel",
    ),
    path("orders/<str:number>/", api.OrderDetailView.as_view(), name="api-order"),
    path("orders/<str:number>/cancel/", api.OrderCancelView.as_view(), name="api-order-cancel"),
]
