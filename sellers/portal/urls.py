from django.urls import include, path

from sellers.portal import bulk, dashboard, inventory, products, sale_prices, shipping, views

app_name = "portal"

urlpatterns = [
    path("", dashboard.home, name="home"),
    path("performance/", dashboard.scorecard, name="scorecard"),
    path("shipping/", shipping.method_list, name="shipping"),
    path("shipping/new/", shipping.method_new, name="shipping_new"),
    path("shipping/<id:method_id>/", shipping.method_edit, name="shipping_edit"),
    path("shipping/<id:method_id>/active/", shipping.method_active, name="shipping_active"),
    path("shipping/<id:method_id>/move/", shipping.method_move, name="shipping_move"),
    path("switch/", views.switch, name="switch"),
    path("settings/", views.shop_settings, name="settings"),
    path("members/", views.members, name="members"),
    path("members/<id:member_id>/role/", views.member_role, name="member_role"),
    path("members/<id:member_id>/remove/", views.member_delete, name="member_remove"),
    path("products/", products.product_list, name="products"),
    path("products/new/", products.product_new, name="product_new"),
    path("products/csv/", bulk.catalog_csv, name="catalog_csv"),
    path("products/csv/export/", bulk.catalog_export, name="catalog_export"),
    path("products/csv/imports/<id:job_id>/", bulk.import_job, name="import_job"),
    path("products/csv/imports/<id:job_id>/start/", bulk.import_job_start, name="import_start"),
    path(
        "products/csv/imports/<id:job_id>/progress/",
        bulk.import_job_progress,
        name="import_progress",
    ),
    path("products/<id:product_id>/", products.product_edit, name="product_edit"),
    path("products/<id:product_id>/status/", products.product_status, name="product_status"),
    path("products/<id:product_id>/images/", products.product_image_upload, name="product_image"),
    path(
        "products/<id:product_id>/images/<id:image_id>/delete/",
        products.product_image_remove,
        name="product_image_delete",
    ),
    path(
        "products/<id:product_id>/images/<id:image_id>/",
        products.product_image_edit,
        name="product_image_edit",
    ),
    path(
        "products/<id:product_id>/images/<id:image_id>/move/",
        products.product_image_move,
        name="product_image_move",
    ),
    path("products/<id:product_id>/preview/", products.product_preview, name="product_preview"),
    path("products/<id:product_id>/sales/new/", sale_prices.sale_price_new, name="sale_price_new"),
    path(
        "products/<id:product_id>/sales/<id:sale_id>/",
        sale_prices.sale_price_edit,
        name="sale_price_edit",
    ),
    path(
        "products/<id:product_id>/sales/<id:sale_id>/delete/",
        sale_prices.sale_price_remove,
        name="sale_price_delete",
    ),
    path("invitations/<str:token>/", views.invitation, name="invitation_accept"),
    path("purchasing/", include("purchasing.portal_urls")),
    path("inventory/", inventory.stock_list, name="stock"),
    path("inventory/receive/", inventory.stock_receive, name="stock_receive"),
    path("inventory/stock/<id:stock_id>/", inventory.stock_detail, name="stock_detail"),
    path("inventory/stock/<id:stock_id>/adjust/", inventory.stock_adjust, name="stock_adjust"),
    path(
        "inventory/stock/<id:stock_id>/write-off/",
        inventory.stock_write_off,
        name="stock_write_off",
    ),
    path(
        "inventory/stock/<id:stock_id>/transfer/", inventory.stock_transfer, name="stock_transfer"
    ),
    path(
        "inventory/stock/<id:stock_id>/threshold/",
        inventory.stock_threshold,
        name="stock_threshold",
    ),
    path("inventory/warehouses/", inventory.warehouse_list, name="warehouses"),
    path("inventory/warehouses/new/", inventory.warehouse_new, name="warehouse_new"),
    path(
        "inventory/warehouses/<id:warehouse_id>/", inventory.warehouse_edit, name="warehouse_edit"
    ),
    path("inventory/movements/", inventory.movement_list, name="movements"),
    path("inventory/inbound/", inventory.inbound_list, name="inbound"),
    path("inventory/inbound/new/", inventory.inbound_new, name="inbound_new"),
    path("inventory/inbound/<id:shipment_id>/", inventory.inbound_detail, name="inbound_detail"),
    path(
        "inventory/inbound/<id:shipment_id>/receive/",
        inventory.inbound_receive,
        name="inbound_receive",
    ),
    path(
        "inventory/inbound/<id:shipment_id>/cancel/",
        inventory.inbound_cancel,
        name="inbound_cancel",
    ),
]
