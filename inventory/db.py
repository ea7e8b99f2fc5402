"""The cursor inventory's hot statements run on (the lock, the take, the guarded counter UPDATE
and the reservation INSERT of every checkout).

Django's default psycopg cursor binds parameters on the client, so PostgreSQL parses and plans
every statement afresh; for the reservation lock (a UNION subquery and three joins) planning
cost more than running it. This cursor binds on the server, and psycopg prepares a statement once
it has run PREPARE_THRESHOLD times on a connection, after which PostgreSQL reuses the plan.
It is Django's own cursor wrapper around a psycopg server-binding cursor on the same connection,
so it shares the transaction, query logging and error wrapping.

Only these statements are prepared: the connection's other cursors stay client-side (they never
prepare). Behind PgBouncer in transaction mode older than 1.21, set
INVENTORY_PREPARED_STATEMENTS=false."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper

PREPARE_THRESHOLD = 5


def hot_cursor() -> CursorWrapper:
    connection.ensure_connection()
    raw = connection.connection
    if settings.INVENTORY_PREPARED_STATEMENTS and raw.prepare_threshold is None:
        raw.prepare_threshold = PREPARE_THRESHOLD
    # django-stubs describe neither psycopg's cursor constructor nor the private wrapper hook.
    cursor = ServerBindingCursor(raw)  # type: ignore[call-arg]
    return connection._prepare_cursor(cursor)  # type: ignore[attr-defined]
