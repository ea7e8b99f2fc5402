"""Paging over lists that can hold a million rows: COUNT(*) over every match costs more than
the page itself, so the count stops at `COUNT_LIMIT` (pages past it are not offered; a shopper
narrows the list with filters instead, and the page says "More than 1,000 products"). 1,000
(42 pages of 24) rather than 10,000: the count and the deepest page's walk stay a few
milliseconds even where the index-only scans they use meet pages not yet vacuumed."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_LIMIT = 1_000


class BoundedCountPaginator(Paginator):
    """A Paginator whose count stops at COUNT_LIMIT; `count_capped` says when more match."""

    @cached_property
    def _bounded_count(self) -> int:
        object_list = self.object_list
        if hasattr(object_list, "count_up_to"):  # a list that knows how to count itself
            return object_list.count_up_to(COUNT_LIMIT + 1)
        if hasattr(object_list, "order_by"):
            return object_list.order_by().values("pk")[: COUNT_LIMIT + 1].count()
        return len(object_list)

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, COUNT_LIMIT)

    @cached_property
    def count_capped(self) -> bool:
        return self._bounded_count > COUNT_LIMIT
