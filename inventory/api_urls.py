from django.urls import path

from inventory import api

urlpatterns = [
    path("seller/warehouses/", api.WarehouseListCreateView.as_view(), name="seller-warehouses"),
    path(
        "seller/warehouses/<id:pk>/",
        api.WarehouseDetailView.as_view(),
        name="seller-warehouse-detail",
    ),
    path("seller/stock/", api.StockListView.as_view(), name="seller-stock"),
    path("seller/stock/receive/", api.StockReceiveView.as_view(), name="seller-stock-receive"),
    path("seller/stock/<id:pk>/", api.StockDetailView.as_view(), name="seller-stock-detail"),
    path("seller/stock/<id:pk>/adjust/", api.StockAdjustView.as_view(), name="seller-stock-adjust"),
    path(
        "seller/stock/<id:pk>/transfer/",
        api.StockTransferView.as_view(),
        name="seller-stock-transfer",
    ),
    path(
        "seller/stock/<id:pk>/write-off/",
        api.StockWriteOffView.as_view(),
        name="seller-stock-write-off",
    ),
    path(
        "seller/stock-movements/",
        api.StockMovementListView.as_view(),
        name="seller-stock-movements",
    ),
]
