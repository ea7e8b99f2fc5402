from django.urls import path

from fulfilment import api

urlpatterns = [
    path(
        "orders/<str:number>/fulfilment/",
        api.OrderFulfilmentView.as_view(),
        name="api-order-fulfilment",
    ),
    path("orders/<str:number>/returns/", api.OrderReturnsView.as_view(), name="api-order-returns"),
    path("seller/orders/", api.SellerOrderListView.as_view(), name="api-seller-orders"),
    path("seller/orders/<id:pk>/", api.SellerOrderDetailView.as_view(), name="api-seller-order"),
    path(
        "seller/orders/<id:pk>/pack/",
        api.SellerOrderPackView.as_view(),
        name="api-seller-order-pack",
    ),
    path(
        "seller/orders/<id:pk>/rates/",
        api.SellerLabelRatesView.as_view(),
        name="api-seller-order-rates",
    ),
    path(
        "seller/orders/<id:pk>/shipments/",
        api.SellerShipmentCreateView.as_view(),
        name="api-seller-order-ship",
    ),
    path(
        "seller/orders/<id:pk>/lines/<id:line_id>/cancel/",
        api.SellerLineCancelView.as_view(),
        name="api-seller-order-line-cancel",
    ),
    path(
        "seller/orders/<id:pk>/lines/<id:line_id>/reroute/",
        api.SellerLineRerouteView.as_view(),
        name="api-seller-order-line-reroute",
    ),
    path(
        "seller/returns/<id:pk>/approve/",
        api.SellerReturnApproveView.as_view(),
        name="api-seller-return-approve",
    ),
    path(
        "seller/returns/<id:pk>/reject/",
        api.SellerReturnRejectView.as_view(),
        name="api-seller-return-reject",
    ),
    path(
        "seller/returns/<id:pk>/receive/",
        api.SellerReturnReceiveView.as_view(),
        name="api-seller-return-receive",
    ),
    path(
        "fulfilment/tracking/webhook/",
        api.TrackingWebhookView.as_view(),
        name="api-tracking-webhook",
    ),
]
