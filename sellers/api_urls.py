from django.urls import path

from sellers import finance_api

urlpatterns = [
    path("seller/balance/", finance_api.BalanceView.as_view(), name="seller-balance"),
    path("seller/ledger/", finance_api.LedgerListView.as_view(), name="seller-ledger"),
    path(
        "seller/ledger/export/",
        finance_api.LedgerExportView.as_view(),
        name="seller-ledger-export",
    ),
    path("seller/payouts/", finance_api.PayoutListView.as_view(), name="seller-payouts"),
]
