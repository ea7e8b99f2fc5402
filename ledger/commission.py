"""Which commission applies to a line, decided once at placement and frozen on the order line
(`OrderLine.commission_rate`, `commission_fixed`, `commission`): a rule changed later never
changes an order's history.

The commission on a line is `rate` x its amount before tax (after discounts) + `fixed` x its
units, rounded once (ROUND_HALF_UP), and never more than that amount before tax."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from catalog.models import PATH_STEP
from ledger.models import CommissionRule
from shop.core.money import ZERO, quantize

PATH_SEGMENT = PATH_STEP + 1  # "0000000007/": a category path is a run of these


@dataclass(frozen=True)
class CommissionTerms:
    rate: Decimal
    fixed: Decimal  # per unit


@dataclass(frozen=True)
class CommissionLine:
    """What the rules need to know of a line."""

    seller_id: int
    seller_rate: Decimal  # the seller's own commission_rate: used when no rule applies
    category_path: str  # the product's category's materialized path ("" for none)


def _ancestors(path: str) -> list[str]:
    return [path[:i] for i in range(PATH_SEGMENT, len(path) + 1, PATH_SEGMENT)]


def commission_terms_for(*, lines: Sequence[CommissionLine]) -> list[CommissionTerms]:
    """The terms of each line, in order: one query whatever the number of lines."""
    if not lines:
        return []
    sellers = {line.seller_id for line in lines}
    paths = {p for line in lines for p in _ancestors(line.category_path)}
    rules = list(
        CommissionRule.objects.filter(is_active=True)
        .filter(Q(seller__isnull=True) | Q(seller_id__in=sellers))
        .filter(Q(category__isnull=True) | Q(category__path__in=paths))
        .select_related("category")
    )
    return [_terms(line, rules) for line in lines]


def _terms(line: CommissionLine, rules: Sequence[CommissionRule]) -> CommissionTerms:
    best: tuple[tuple[int, int], CommissionRule] | None = None
    for rule in rules:
        if rule.seller_id is not None and rule.seller_id != line.seller_id:
            continue
        depth = 0
        if rule.category is not None:
            if not line.category_path.startswith(rule.category.path):
                continue
            depth = len(rule.category.path)
        # seller and category, then seller alone, then the deepest category, then the default
        rank = (2 if rule.seller_id is not None else 0) + (1 if rule.category else 0)
        specificity = (rank, depth)
        if best is None or specificity > best[0]:
            best = (specificity, rule)
    if best is None:
        return CommissionTerms(rate=line.seller_rate, fixed=ZERO)
    return CommissionTerms(rate=best[1].rate, fixed=best[1].fixed)


def commission_amount(*, terms: CommissionTerms, base: Decimal, quantity: int) -> Decimal:
    """The commission on a line whose amount before tax is `base`."""
    if base <= 0:
        return ZERO
    return min(quantize(base * terms.rate + terms.fixed * quantity), base)
