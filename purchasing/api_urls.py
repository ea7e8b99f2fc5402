from django.urls import path

from purchasing import api

urlpatterns = [
    path("seller/suppliers/", api.SupplierListCreateView.as_view(), name="seller-suppliers"),
    path(
        "seller/suppliers/<id:pk>/", api.SupplierDetailView.as_view(), name="seller-supplier-detail"
    ),
    path(
        "seller/suppliers/<id:pk>/items/",
        api.SupplierItemListCreateView.as_view(),
        name="seller-supplier-items",
    ),
    path(
        "seller/purchase-orders/",
        api.PurchaseOrderListCreateView.as_view(),
        name="seller-purchase-orders",
    ),
    path(
        "seller/purchase-orders/<id:pk>/",
        api.PurchaseOrderDetailView.as_view(),
        name="seller-purchase-order-detail",
    ),
    path(
        "seller/purchase-orders/<id:pk>/lines/",
        api.PurchaseOrderLineView.as_view(),
        name="seller-purchase-order-lines",
    ),
    path(
        "seller/purchase-orders/<id:pk>/send/",
        api.PurchaseOrderSendView.as_view(),
        name="seller-purchase-order-send",
    ),
    path(
        "seller/purchase-orders/<id:pk>/receive/",
        api.PurchaseOrderReceiveView.as_view(),
        name="seller-purchase-order-receive",
    ),
    path(
        "seller/purchase-orders/<id:pk>/cancel/",
        api.PurchaseOrderCancelView.as_view(),
        name="seller-purchase-order-cancel",
    ),
    path("seller/forecasts/", api.ForecastListView.as_view(), name="seller-forecasts"),
    path(
        "seller/forecasts/<id:pk>/", api.ForecastDetailView.as_view(), name="seller-forecast-detail"
    ),
    path(
        "seller/forecasts/<id:pk>/order/",
        api.ForecastOrderView.as_view(),
        name="seller-forecast-order",
    ),
    path("seller/forecast-runs/", api.ForecastRunStartView.as_view(), name="seller-forecast-runs"),
    path(
        "seller/forecast-runs/<id:pk>/",
        api.ForecastRunDetailView.as_view(),
        name="seller-forecast-run-detail",
    ),
    path(
        "seller/pricing-rules/",
        api.PricingRuleListCreateView.as_view(),
        name="seller-pricing-rules",
    ),
    path(
        "seller/pricing-rules/<id:pk>/",
        api.PricingRuleDetailView.as_view(),
        name="seller-pricing-rule-detail",
    ),
    path(
        "seller/pricing/preview/", api.PricingPreviewView.as_view(), name="seller-pricing-preview"
    ),
    path("seller/pricing/apply/", api.PricingApplyView.as_view(), name="seller-pricing-apply"),
    path("seller/price-history/", api.PriceHistoryView.as_view(), name="seller-price-history"),
]
