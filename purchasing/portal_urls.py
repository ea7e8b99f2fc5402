"""Included by sellers/portal/urls.py under /seller/purchasing/ (names in the `portal`
namespace)."""

from django.urls import path

from purchasing import portal

urlpatterns = [
    path("", portal.reorder_list, name="reorder"),
    path("runs/", portal.forecast_run_new, name="forecast_run_new"),
    path("runs/<id:run_id>/progress/", portal.forecast_run_progress, name="forecast_run_progress"),
    path("forecasts/<id:forecast_id>/", portal.forecast_detail, name="forecast"),
    path("forecasts/<id:forecast_id>/order/", portal.forecast_order, name="forecast_order"),
    path("suppliers/", portal.supplier_list, name="suppliers"),
    path("suppliers/<id:supplier_id>/", portal.supplier_detail, name="supplier"),
    path(
        "suppliers/<id:supplier_id>/items/<id:item_id>/remove/",
        portal.supplier_item_remove,
        name="supplier_item_remove",
    ),
    path("orders/", portal.purchase_order_list, name="purchase_orders"),
    path("orders/new/", portal.purchase_order_new, name="purchase_order_new"),
    path("orders/<id:order_id>/", portal.purchase_order_detail, name="purchase_order"),
    path("orders/<id:order_id>/send/", portal.purchase_order_send, name="purchase_order_send"),
    path(
        "orders/<id:order_id>/cancel/", portal.purchase_order_cancel, name="purchase_order_cancel"
    ),
    path(
        "orders/<id:order_id>/pdf/",
        portal.purchase_order_document,
        {"kind": "pdf"},
        name="purchase_order_pdf",
    ),
    path(
        "orders/<id:order_id>/csv/",
        portal.purchase_order_document,
        {"kind": "csv"},
        name="purchase_order_csv",
    ),
    path("pricing/", portal.pricing, name="pricing"),
    path("pricing/apply/", portal.pricing_apply, name="pricing_apply"),
    path(
        "pricing/rules/<id:rule_id>/remove/", portal.pricing_rule_remove, name="pricing_rule_remove"
    ),
]
