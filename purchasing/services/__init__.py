"""Purchasing writes. suppliers.py: suppliers, their items, the seller's targets; orders.py:
purchase orders; forecasting.py: forecast runs and reorder advice; pricing.py: dynamic prices."""

from purchasing.services.forecasting import (
    forecast_run_execute,
    forecast_run_start,
    forecast_runs_resume,
)
from purchasing.services.orders import (
    OrderLineInput,
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_from_suggestion,
    purchase_order_line_set,
    purchase_order_receive,
    purchase_order_send,
    purchase_orders_draft_from_suggestions,
)
from purchasing.services.pricing import (
    PriceProposal,
    pricing_apply,
    pricing_apply_all,
    pricing_preview,
    pricing_rule_delete,
    pricing_rule_save,
    rule_floor,
)
from purchasing.services.suppliers import (
    purchasing_settings_save,
    supplier_item_delete,
    supplier_item_set,
    supplier_save,
)

__all__ = [
    "OrderLineInput",
    "PriceProposal",
    "forecast_run_execute",
    "forecast_run_start",
    "forecast_runs_resume",
    "pricing_apply",
    "pricing_apply_all",
    "pricing_preview",
    "pricing_rule_delete",
    "pricing_rule_save",
    "purchase_order_cancel",
    "purchase_order_create",
    "purchase_order_from_suggestion",
    "purchase_order_line_set",
    "purchase_order_receive",
    "purchase_order_send",
    "purchase_orders_draft_from_suggestions",
    "purchasing_settings_save",
    "rule_floor",
    "supplier_item_delete",
    "supplier_item_set",
    "supplier_save",
]
