"""The two places the PostgreSQL engine reaches past the ORM, each kept to one function and
tested on its own (tests/search/test_sqlcompile.py):

- `tablesample`: a compiled product statement read from a page sample instead of the table
  (the facet counts of a broad query). The ORM cannot write TABLESAMPLE; the clause goes
  after the statement's own top-level `FROM "catalog_product"`, never into a subquery.
- `match_scan`: statements that fetch matches through the text index's bitmap, with the
  planner's other scans off for their transaction (why: `match_scan`'s docstring).

(The compiled-once statements with a stand-in value per try live in `shop.core.db`
(`placeholder`, `placeholder_slot`), shared with the catalog's category listings.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from shop.core.replicas import ReadConnection

_PRODUCT_FROM = 'FROM "catalog_product"'
# a large bitmap at the default 4 MB turns lossy (whole pages) and the heap scan rechecks every
# row of its pages (docs/search.md)
BITMAP_WORK_MEM = "16MB"
MATCH_SCAN_SETTINGS = {
    "work_mem": BITMAP_WORK_MEM,
    "enable_seqscan": "off",
    "enable_indexscan": "off",
    # a parallel bitmap heap scan returns its rows in no fixed order
    "max_parallel_workers_per_gather": "0",
}


def tablesample(sql: str, *, percent: float, seed: int = 7) -> str:
    """`sql` (a compiled SELECT over catalog_product) reading a SYSTEM sample of `percent` of
    the table's pages, with a fixed seed so a reload shows the same numbers. `percent` is
    computed by the caller from planner statistics, never taken from a request."""
    if not 0 < percent <= 100:
        raise ValueError(f"A sample is more than 0 and at most 100 percent, not {percent}.")
    at = _top_level(sql, _PRODUCT_FROM)
    end = at + len(_PRODUCT_FROM)
    return f"{sql[:end]} TABLESAMPLE SYSTEM ({percent:.6f}) REPEATABLE ({int(seed)}){sql[end:]}"


def _top_level(sql: str, needle: str) -> int:
    """Where `needle` first occurs outside parentheses and quoted strings or names."""
    depth = 0
    quote: str | None = None
    i = 0
    while i < len(sql):
        char = sql[i]
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and sql.startswith(needle, i):
            return i
        i += 1
    raise ValueError(f"No top-level {needle} in the statement.")


@contextmanager
def match_scan(connection: BaseDatabaseWrapper | ReadConnection) -> Iterator[None]:
    """A transaction (or savepoint) for statements that fetch matches: through the text
    index's bitmap, which may take BITMAP_WORK_MEM. For a broad word the planner chose a
    sequential scan, which PostgreSQL starts wherever another session's scan of the table is
    (synchronized scans: a different page on every reload), or an index walk that ranked one
    seller's products. Inside a caller's transaction the settings would outlive this block,
    so they are read first and put back at its end. `connection` is the one the statements
    run on (a replica's, for a shopper who has not written lately)."""
    outer = connection.in_atomic_block or not connection.get_autocommit()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        previous = {}
        if outer:
            cursor.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                [list(MATCH_SCAN_SETTINGS)],
            )
            previous = dict(cursor.fetchall())
        _settings_apply(cursor, MATCH_SCAN_SETTINGS)
        yield
        if previous:  # (after an error, rolling the savepoint back undoes them)
            _settings_apply(cursor, previous)


def _settings_apply(cursor, settings: dict[str, str]) -> None:
    names = list(settings)
    cursor.execute(
        "SELECT set_config(name, value, true) "
        "FROM unnest(%s::text[], %s::text[]) AS s(name, value)",
        [names, [settings[name] for name in names]],
    )
