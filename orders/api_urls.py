from django.urls import path

from orders import api

urlpatterns = [
    path("checkouts/", api.CheckoutListView.as_view(), name="api-checkout-start"),
    path("checkouts/<str:token>/", api.CheckoutDetailView.as_view(), name="api-checkout"),
    path(
        "checkouts/<str:token>/place/", api.CheckoutPlaceView.as_view(), name="api-checkout-place"
    ),
    path("orders/", api.OrderListView.as_view(), name="api-orders"),
    path("orders/<str:number>/", api.OrderDetailView.as_view(), name="api-order"),
    path("orders/<str:number>/cancel/", api.OrderCancelView.as_view(), name="api-order-cancel"),
]
