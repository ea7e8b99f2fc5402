"""Prepared statements for the hottest requests: inventory's checkout statements (the lock, the
take, the guarded counter UPDATE and the reservation INSERT), order placement's own statements
and the API token lookup.

Django's default psycopg cursor binds parameters on the client, so PostgreSQL parses and plans
every statement afresh; for the reservation lock (a UNION subquery and three joins) planning
cost more than running it. This cursor binds on the server, and psycopg prepares a statement once
it has run PREPARE_THRESHOLD times on a connection, after which PostgreSQL reuses the plan.
It is Django's own cursor wrapper around a psycopg server-binding cursor on the same connection,
so it shares the transaction, query logging and error wrapping.

Only these statements are prepared: the connection's other cursors stay client-side (they never
prepare). Behind PgBouncer in transaction mode older than 1.21 (or newer with
max_prepared_statements = 0), set INVENTORY_PREPARED_STATEMENTS=false (the name predates
placement's use of it).

Statements name their columns (from the model), never `*`: a prepared `*` fails with "cached plan
must not change result type" on long-lived connections once a migration adds a column. The
helpers below build such statements for plain single-table reads and inserts and turn rows into
model instances, so callers skip the ORM's per-call query building and compiling, which for
these short statements costs more CPU than running them. Where such a statement states a rule
the ORM defines (a price, what is public), the rule's SQL is compiled by the ORM once per
process with stand-ins for its values (`compiled_part`, `named_parameters`), never retyped."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, overload

from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet

PREPARE_THRESHOLD = 5
MAX_PARAMETERS = 65_535


def hot_cursor() -> CursorWrapper:
    """As `connection.cursor()` does: the per-request health check first (a connection the
    server cut while idle is replaced, not used for one failed request), then errors wrapped
    as Django's."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if settings.INVENTORY_PREPARED_STATEMENTS and raw.prepare_threshold is None:
        raw.prepare_threshold = PREPARE_THRESHOLD
    with connection.wrap_database_errors:
        # django-stubs describe neither psycopg's cursor constructor nor the wrapper hook.
        cursor = ServerBindingCursor(raw)  # type: ignore[call-arg]
        return connection._prepare_cursor(cursor)  # type: ignore[attr-defined]


@cache
def columns(model: type[Model], alias: str = "") -> str:
    """The model's concrete columns, in attname order, for a SELECT list."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{f.column}" for f in model._meta.concrete_fields)


@cache
def _converters(model: type[Model]) -> list[tuple[int, list[Any]]]:
    """(position, converters) of the fields whose database values need converting (JSON)."""
    fields = model._meta.concrete_fields
    found = [(i, f.get_db_converters(connection)) for i, f in enumerate(fields)]
    return [(i, converters) for i, converters in found if converters]


def instances[M: Model](
    model: type[M], rows: Sequence[Sequence[Any]], *, start: int = 0
) -> list[M]:
    """Model instances from rows whose columns `start` onwards are `columns(model)`, with the
    field converters the ORM applies (a JSONField's text becomes its value)."""
    attnames = [f.attname for f in model._meta.concrete_fields]
    end = start + len(attnames)
    converters = _converters(model)
    made = []
    for row in rows:
        values = list(row[start:end])
        for i, field_converters in converters:
            for convert in field_converters:
                values[i] = convert(values[i], None, connection)
        made.append(model.from_db("default", attnames, values))
    return made


def hot_select[M: Model](
    model: type[M], where: str, params: Sequence[Any] | dict[str, Any]
) -> list[M]:
    """`SELECT <columns(model)> FROM <table> <where>`, prepared, as instances."""
    sql = f"SELECT {columns(model)} FROM {model._meta.db_table} {where}"  # noqa: S608 - model names
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return instances(model, rows)


def hot_execute(sql: str, params: Sequence[Any] | dict[str, Any]) -> int:
    """Run one prepared statement; returns the row count."""
    with hot_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def hot_insert(objs: Sequence[Model]) -> None:
    """INSERT objects of one model in one prepared statement and set their primary keys, as
    bulk_create does (field defaults and pre_save: auto_now_add, auto_now), without the ORM's
    query compiling. One statement text per number of rows. For models with an automatic
    primary key and no `db_default` fields (the ones placement writes); no signals are sent,
    as with bulk_create."""
    if not objs:
        return
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    # server-side binding allows 65,535 parameters per statement
    rows_per_statement = MAX_PARAMETERS // len(fields)
    for start in range(0, len(objs), rows_per_statement):
        _insert(objs[start : start + rows_per_statement], fields)


def _insert(objs: Sequence[Model], fields: list[Any]) -> None:
    meta = objs[0]._meta
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values: list[Any] = []
    for obj in objs:
        # as save() and bulk_create do: refuses unsaved related objects, refreshes their ids
        obj._prepare_related_fields_for_save(operation_name="hot_insert")  # type: ignore[attr-defined]
        values += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    sql = (
        f"INSERT INTO {meta.db_table} ({', '.join(str(f.column) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(objs))} RETURNING {meta.pk.column}"
    )
    with hot_cursor() as cursor:
        cursor.execute(sql, values)
        pks = [r[0] for r in cursor.fetchall()]
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = "default"


@overload
def placeholder() -> int: ...
@overload
def placeholder(kind: type[str]) -> str: ...
def placeholder(kind: type = int) -> int | str:
    """A value (a number, or a text) to stand for a parameter while a statement is compiled
    once and then filled in per use (`placeholder_slot`). Drawn at random per statement: a
    fixed value could also be one a request carries (a shopper's number filter), whose slot
    would then be filled."""
    if kind is str:
        return f"placeholder-{secrets.token_hex(16)}"
    return -(2**62) - secrets.randbits(60)


def placeholder_moment() -> datetime:
    """`placeholder` for a datetime parameter (the moment prices are taken at): a random
    microsecond in the first decades of year 1, which no request carries."""
    return datetime(1, 1, 1, tzinfo=UTC) + timedelta(microseconds=secrets.randbits(48))


def placeholder_slots(params: Sequence[Any], value: object) -> list[int]:
    """Where `value` (from `placeholder` or `placeholder_moment`) sits among a compiled
    statement's parameters."""
    return [i for i, param in enumerate(params) if type(param) is type(value) and param == value]


def placeholder_slot(params: Sequence[Any], value: object) -> int:
    """`placeholder_slots` for a stand-in that must occur once."""
    slots = placeholder_slots(params, value)
    if len(slots) != 1:
        raise ValueError(f"Expected the placeholder once among the parameters, found {len(slots)}.")
    return slots[0]


def compiled_part(queryset: QuerySet[Any], annotation: str | None = None) -> tuple[str, list[Any]]:
    """The WHERE of `queryset` (or its annotation `annotation`) compiled by the ORM, with `%s`
    parameters: SQL over the queryset's table named in full, for a hand-written statement
    that names the table so (no alias) and states a rule the ORM defines without retyping
    it. A queryset that joins another table is refused: its SQL would name a table the
    statement need not have."""
    query = queryset.query
    joined = [
        alias
        for alias, count in query.alias_refcount.items()
        if count and alias != query.base_table
    ]
    if joined:
        raise ValueError(f"A compiled part reads one table; this one joins {joined}.")
    node = query.where if annotation is None else query.annotations[annotation]
    sql, params = query.get_compiler(using=queryset.db).compile(node)
    return sql, list(params)


_PARAMETER = re.compile(r"%[%s]")


def named_parameters(
    sql: str, params: Sequence[Any], *, names: dict[str, object], prefix: str
) -> tuple[str, dict[str, Any]]:
    """A compiled part's `%s` parameters as named ones, for a statement with named parameters:
    each stand-in of `names` (name -> a `placeholder` value) becomes `%(name)s` wherever it
    occurs; each other parameter (a constant of the compiled rule) becomes `%(<prefix><i>)s`,
    returned with its value for the caller to pass. A stand-in found nowhere is refused (the
    rule no longer takes that value, and the caller's would be ignored)."""
    slot_names: dict[int, str] = {}
    for name, stand_in in names.items():
        slots = placeholder_slots(params, stand_in)
        if not slots:
            raise ValueError(f"The compiled part does not take the parameter {name!r}.")
        slot_names |= dict.fromkeys(slots, name)
    if _PARAMETER.findall(sql).count("%s") != len(params):
        raise ValueError("The compiled part's placeholders and parameters differ in number.")
    constants = {f"{prefix}{i}": p for i, p in enumerate(params) if i not in slot_names}
    named = iter(slot_names.get(i, f"{prefix}{i}") for i in range(len(params)))

    def name_one(match: re.Match[str]) -> str:
        return "%%" if match.group() == "%%" else f"%({next(named)})s"

    return _PARAMETER.sub(name_one, sql), constants


def union_all_per_value(
    sql: str, params: Sequence[Any], stand_in: object, values: Sequence[Any]
) -> tuple[str, list[Any]]:
    """A statement compiled once with `stand_in` (from `placeholder`) for one parameter,
    repeated per value and UNION ALL-ed: one walk per category, say, without compiling a
    queryset per category (which cost more than running the walks)."""
    slot = placeholder_slot(params, stand_in)
    repeated: list[Any] = []
    for value in values:
        repeated += [*params[:slot], value, *params[slot + 1 :]]
    return " UNION ALL ".join([f"({sql})"] * len(values)), repeated
