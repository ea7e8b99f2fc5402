"""The prepared-statement cursor inventory's checkout statements run on (`shop.core.db`, shared
with order placement)."""

from shop.core.db import PREPARE_THRESHOLD, hot_cursor

__all__ = ["PREPARE_THRESHOLD", "hot_cursor"]
