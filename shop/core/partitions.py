"""Monthly range partitions for the tables that only grow (docs/scaling.md, "Partitioning").

Each table in PARTITIONED_TABLES is a native PostgreSQL partitioned table (PARTITION BY RANGE on
`created_at`) with one partition per calendar month in UTC, named `<table>_pYYYY_MM`, and a
DEFAULT partition `<table>_default` that takes any row no month partition covers, so an insert
never fails for want of a partition. Nothing here needs an extension: the embedded PostgreSQL
has none, and the same code runs there and in production.

`partitions_maintain` (the `partitions_maintain` command, and beat daily) keeps each table in
shape, every step idempotent and safe to re-run after a crash:
- creates the partitions of the current month and the next PARTITION_PREMAKE_MONTHS, and of any
  month within the retention whose rows sit in the DEFAULT partition, moving them out;
- detaches the partitions whose month ended more than `keep_months` ago, archives each to a
  gzipped CSV under PARTITION_ARCHIVE_DIR and drops it. A table's `keep_while` condition (the
  outbox: a task that has not run) makes it refuse to detach a partition holding such rows,
  and its `before_detach` hook (stock movements: carry the archived sum forward) runs in the
  detaching transaction;
- reports rows left in the DEFAULT partition (dates far in the past or future).

The primary key of a partitioned table must contain the partition key, so in the database it
is (id, created_at). Django's model still names `id` its primary key: the admin refuses models
with a composite key and an AutoField must be the primary key, and `id` stays unique because
every partition draws it from the table's one identity sequence. A lookup by id alone is
correct but probes each partition's index; callers that know a row's age add a created_at
bound so PostgreSQL skips the other partitions.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

KEY = "created_at"
# a table converted by the migration gets a partition for each month its rows fall in, back to
# this many months; older rows go to the DEFAULT partition
CONVERT_MAX_MONTHS_BACK = 120
CONVERT_MONTHS_AHEAD = 3
LOCK_TIMEOUT = "10s"
_MONTH_SUFFIX = re.compile(r"_p(\d{4})_(\d{2})$")


# --- months and names --------------------------------------------------------------------------


def month_start(moment: datetime | date) -> date:
    """The first day of the month (UTC) holding `moment`."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).date()
    return moment.replace(day=1)


def month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_bound(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month.year:04d}_{month.month:02d}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _literal(moment: datetime) -> str:
    return "'" + moment.isoformat() + "'"


# --- what the database holds -------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    name: str
    month: date | None  # None: the DEFAULT partition (or one not named by this module)

    @property
    def upper(self) -> datetime | None:
        return month_bound(month_add(self.month, 1)) if self.month else None


def _month_of(name: str) -> date | None:
    found = _MONTH_SUFFIX.search(name)
    return date(int(found[1]), int(found[2]), 1) if found else None


def partitions_list(cursor: CursorWrapper, table: str) -> list[Partition]:
    """The partitions attached to `table`, oldest month first, the DEFAULT one last."""
    cursor.execute(
        """
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass(%s)
        """,
        [table],
    )
    found = [Partition(name, _month_of(name)) for (name,) in cursor.fetchall()]
    return sorted(found, key=lambda p: (p.month is None, p.month or date.min))


def table_is_partitioned(cursor: CursorWrapper, table: str) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cursor.fetchone()
    return row is not None and row[0] == "p"


def _columns(cursor: CursorWrapper, table: str) -> list[str]:
    cursor.execute(
        """
        SELECT attname FROM pg_attribute
        WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum
        """,
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def _detached_leftovers(cursor: CursorWrapper, table: str) -> list[Partition]:
    """Month tables of `table` attached to nothing: detached by a run that died before it had
    archived and dropped them."""
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c
        JOIN pg_class parent ON parent.oid = to_regclass(%s)
        WHERE c.relkind = 'r' AND c.relnamespace = parent.relnamespace
          AND c.relname LIKE %s
          AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)
        """,
        [table, table.replace("_", "\\_") + "\\_p%"],
    )
    found = [Partition(name, _month_of(name)) for (name,) in cursor.fetchall()]
    return sorted((p for p in found if p.month), key=lambda p: p.month or date.min)


# --- converting a plain table (migrations) -----------------------------------------------------


def table_partition_convert(
    cursor: CursorWrapper, table: str, *, now: datetime | None = None
) -> None:
    """Turn the plain table `table` into one partitioned by month on created_at, keeping every
    row, its id and the id sequence's position, its indexes, CHECK and foreign-key constraints.
    The primary key becomes (id, created_at). Runs under an ACCESS EXCLUSIVE lock on the table,
    so writers wait while its rows are copied (docs/scaling.md: plan a window for a big table).
    Does nothing if the table is partitioned already."""
    if table_is_partitioned(cursor, table):
        return
    now = now or timezone.now()
    current = month_start(now)
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', {KEY} AT TIME ZONE 'UTC')::date "  # noqa: S608
        f"FROM {_q(table)}"
    )
    oldest = month_add(current, -CONVERT_MAX_MONTHS_BACK)
    held = {month for (month,) in cursor.fetchall() if oldest <= month < current}
    months = sorted(held | set(_months(current, month_add(current, CONVERT_MONTHS_AHEAD))))
    _table_rebuild(cursor, table, months=months)


def table_partition_revert(cursor: CursorWrapper, table: str) -> None:
    """The reverse of `table_partition_convert`: a plain table again, primary key (id)."""
    if table_is_partitioned(cursor, table):
        _table_rebuild(cursor, table, months=None)


def _months(first: date, last: date) -> Iterator[date]:
    month = first
    while month <= last:
        yield month
        month = month_add(month, 1)


def _table_rebuild(cursor: CursorWrapper, table: str, *, months: list[date] | None) -> None:
    """Copy `table` into a new table of the same name: partitioned by month (`months` to
    create) or, with months=None, plain."""
    old = f"{table}_unpartitioned" if months is not None else f"{table}_partitioned"
    cursor.execute(f"LOCK TABLE {_q(table)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(
        """
        SELECT pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i
        WHERE i.indrelid = to_regclass(%s) AND NOT i.indisprimary
        """,
        [table],
    )
    indexes = cursor.fetchall()
    if months is not None and any(unique for _, unique in indexes):
        raise ValueError(
            f"{table} has a unique index; on a partitioned table it would have to include "
            f"{KEY}, which changes what it means. Not converted."
        )
    cursor.execute(
        """
        SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint
        WHERE conrelid = to_regclass(%s) AND contype IN ('f', 'p')
        """,
        [table],
    )
    constraints = cursor.fetchall()
    primary_key = next(name for name, _, kind in constraints if kind == "p")
    foreign_keys = [(name, definition) for name, definition, kind in constraints if kind == "f"]
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    (sequence,) = cursor.fetchone()
    cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 - catalog name
    position = cursor.fetchone()
    # the old table's indexes give up their names, so the new ones can take them
    cursor.execute(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
    cursor.execute(
        """
        SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = to_regclass(%s)
        """,
        [old],
    )
    for (index,) in cursor.fetchall():
        cursor.execute(f"ALTER INDEX {_q(index)} RENAME TO {_q(f'{index}_old')}")
    partitioned = f" PARTITION BY RANGE ({KEY})" if months is not None else ""
    cursor.execute(
        f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS)"
        f"{partitioned}"
    )
    if months is not None:
        for month in months:
            _partition_create(cursor, table, month)
        cursor.execute(
            f"CREATE TABLE {_q(default_partition_name(table))} PARTITION OF {_q(table)} DEFAULT"
        )
    columns = ", ".join(_q(c) for c in _columns(cursor, table))
    cursor.execute(
        f"INSERT INTO {_q(table)} ({columns}) OVERRIDING SYSTEM VALUE "  # noqa: S608 - catalog
        f"SELECT {columns} FROM {_q(old)}"
    )
    cursor.execute(f"DROP TABLE {_q(old)}")
    # the new identity sequence takes the old one's name and position
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    (new_sequence,) = cursor.fetchone()
    if new_sequence != sequence:
        cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {_q(sequence.split('.')[-1])}")
    cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)", [table, *position])
    key = f"(id, {KEY})" if months is not None else "(id)"
    cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(primary_key)} PRIMARY KEY {key}")
    for definition, _ in indexes:
        cursor.execute(definition)
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    cursor.execute(f"ANALYZE {_q(table)}")


def _partition_create(cursor: CursorWrapper, table: str, month: date) -> None:
    lower, upper = month_bound(month), month_bound(month_add(month, 1))
    cursor.execute(
        f"CREATE TABLE {_q(partition_name(table, month))} PARTITION OF {_q(table)} "
        f"FOR VALUES FROM ({_literal(lower)}) TO ({_literal(upper)})"
    )


# --- maintenance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionedTable:
    """One entry of PARTITIONED_TABLES."""

    table: str
    keep_months: int
    # rows matching this SQL condition keep their partition attached (the outbox: tasks that
    # have not run, which the relay must still find)
    keep_while: str = ""
    # called as hook(cursor=, table=, archived=<detached partition>, at=<its upper bound>)
    # in the detaching transaction, before the rows leave (stock movements carry their sum)
    before_detach: str = ""


def partitioned_tables() -> list[PartitionedTable]:
    return [
        PartitionedTable(table, **options) for table, options in settings.PARTITIONED_TABLES.items()
    ]


@dataclass
class TableReport:
    table: str
    created: list[str] = field(default_factory=list)
    moved_from_default: int = 0
    archived: dict[str, Path] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)  # partition -> rows that keep it
    in_default: int = 0
    default_span: tuple[datetime, datetime] | None = None


class _Refused(Exception):
    def __init__(self, rows: int) -> None:
        self.rows = rows


def partitions_maintain(
    *,
    now: datetime | None = None,
    premake_months: int | None = None,
    archive_dir: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> list[TableReport]:
    """Create, move, detach, archive and drop as the module docstring says, table by table;
    `progress` is told each step as it is done. Each step is its own short transaction with a
    lock timeout, so a busy table makes a step fail (and the next run retry it) rather than
    queue writers behind it."""
    now = now or timezone.now()
    premake = settings.PARTITION_PREMAKE_MONTHS if premake_months is None else premake_months
    archive_dir = Path(archive_dir or settings.PARTITION_ARCHIVE_DIR)
    reports = []
    for spec in partitioned_tables():
        report = TableReport(spec.table)
        reports.append(report)
        with connection.cursor() as cursor:
            if not table_is_partitioned(cursor, spec.table):
                progress(f"{spec.table}: not partitioned (migrations not applied?); skipped")
                continue
            current = month_start(now)
            keep_from = month_add(current, -spec.keep_months)
            _months_create(
                cursor,
                spec,
                report,
                now=now,
                keep_from=keep_from,
                last=month_add(current, premake),
                progress=progress,
            )
            for leftover in _detached_leftovers(cursor, spec.table):
                progress(f"{spec.table}: {leftover.name} was detached by an earlier run")
                _archive_and_drop(
                    cursor, leftover, archive_dir=archive_dir, report=report, progress=progress
                )
            for partition in partitions_list(cursor, spec.table):
                if partition.month is not None and partition.month < keep_from:
                    _detach(
                        cursor,
                        spec,
                        partition,
                        archive_dir=archive_dir,
                        report=report,
                        progress=progress,
                    )
            _default_report(cursor, spec, report, progress)
    return reports


def _months_create(
    cursor: CursorWrapper,
    spec: PartitionedTable,
    report: TableReport,
    *,
    now: datetime,
    keep_from: date,
    last: date,
    progress: Callable[[str], None],
) -> None:
    """The partitions of this month to `last`, and of every month since `keep_from` whose rows
    sit in the DEFAULT partition (written before their partition existed), moving them in."""
    default = default_partition_name(spec.table)
    attached = partitions_list(cursor, spec.table)
    if default not in {p.name for p in attached}:
        cursor.execute(f"CREATE TABLE {_q(default)} PARTITION OF {_q(spec.table)} DEFAULT")
        report.created.append(default)
        progress(f"{spec.table}: created {default}")
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', {KEY} AT TIME ZONE 'UTC')::date "  # noqa: S608
        f"FROM {_q(default)}"
    )
    stranded = {month for (month,) in cursor.fetchall() if keep_from <= month <= last}
    wanted = set(_months(month_start(now), last)) | stranded
    for month in sorted(wanted - {p.month for p in attached}):
        name = partition_name(spec.table, month)
        moved = 0
        with transaction.atomic():
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            if month in stranded:
                moved = _partition_create_moving(cursor, spec.table, month)
            else:
                _partition_create(cursor, spec.table, month)
        report.created.append(name)
        report.moved_from_default += moved
        progress(
            f"{spec.table}: created {name}"
            + (f", moved {moved} row(s) into it from {default}" if moved else "")
        )


def _partition_create_moving(cursor: CursorWrapper, table: str, month: date) -> int:
    """Create the month's partition when the DEFAULT partition holds rows of that month
    (PostgreSQL refuses to create it over them): the rows are set aside, the partition created
    and the rows put back through the parent, all in the caller's transaction."""
    default = default_partition_name(table)
    lower, upper = month_bound(month), month_bound(month_add(month, 1))
    columns = ", ".join(_q(c) for c in _columns(cursor, table))
    aside = f"{table}_moving"
    cursor.execute(f"CREATE TEMPORARY TABLE {_q(aside)} (LIKE {_q(table)})")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {_q(default)} WHERE {KEY} >= %s AND {KEY} < %s "  # noqa: S608
        f"RETURNING {columns}) INSERT INTO {_q(aside)} ({columns}) SELECT {columns} FROM moved",
        [lower, upper],
    )
    moved = cursor.rowcount
    _partition_create(cursor, table, month)
    cursor.execute(
        f"INSERT INTO {_q(table)} ({columns}) SELECT {columns} FROM {_q(aside)}"  # noqa: S608
    )
    cursor.execute(f"DROP TABLE {_q(aside)}")
    return moved


def _keeping_rows(cursor: CursorWrapper, spec: PartitionedTable, name: str) -> int:
    if not spec.keep_while:
        return 0
    cursor.execute(f"SELECT count(*) FROM {_q(name)} WHERE {spec.keep_while}")  # noqa: S608
    (rows,) = cursor.fetchone()
    return int(rows)


def _detach(
    cursor: CursorWrapper,
    spec: PartitionedTable,
    partition: Partition,
    *,
    archive_dir: Path,
    report: TableReport,
    progress: Callable[[str], None],
) -> None:
    name = partition.name
    try:
        # counted before (no lock held for the usual refusal) and after the detach (under its
        # lock, so no row can change between the check and the detach)
        if rows := _keeping_rows(cursor, spec, name):
            raise _Refused(rows)
        with transaction.atomic():
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(f"ALTER TABLE {_q(spec.table)} DETACH PARTITION {_q(name)}")
            if rows := _keeping_rows(cursor, spec, name):
                raise _Refused(rows)
            if spec.before_detach:
                import_string(spec.before_detach)(
                    cursor=cursor, table=spec.table, archived=name, at=partition.upper
                )
    except _Refused as refused:
        report.refused[name] = refused.rows
        message = (
            f"{spec.table}: kept {name} past its retention: {refused.rows} row(s) with "
            f"{spec.keep_while}"
        )
        logger.warning("Partitions: %s.", message)
        progress(message)
        return
    progress(f"{spec.table}: detached {name}")
    _archive_and_drop(cursor, partition, archive_dir=archive_dir, report=report, progress=progress)


def _archive_and_drop(
    cursor: CursorWrapper,
    partition: Partition,
    *,
    archive_dir: Path,
    report: TableReport,
    progress: Callable[[str], None],
) -> None:
    """Write the detached partition to `<archive_dir>/<name>.csv.gz` (CSV with a header row,
    ordered by id), made durable before the table is dropped."""
    name = partition.name
    archive_dir.mkdir(parents=True, exist_ok=True)
    path = archive_dir / f"{name}.csv.gz"
    partial = path.with_name(path.name + ".partial")
    cursor.execute(f"SELECT count(*) FROM {_q(name)}")  # noqa: S608 - catalog name
    (rows,) = cursor.fetchone()
    with open(partial, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb") as out:
            sql = (
                f"COPY (SELECT * FROM {_q(name)} ORDER BY id) "  # noqa: S608 - catalog name
                "TO STDOUT WITH (FORMAT csv, HEADER)"
            )
            with cursor.cursor.copy(sql) as copy:
                for data in copy:
                    out.write(data)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, path)
    with transaction.atomic():
        # rows the caller's own open transaction wrote into it have deferred foreign-key checks
        # pending, and PostgreSQL drops no table with pending trigger events: check them now
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP TABLE {_q(name)}")
    report.archived[name] = path
    progress(f"archived {rows} row(s) of {name} to {path}; dropped {name}")


def _default_report(
    cursor: CursorWrapper,
    spec: PartitionedTable,
    report: TableReport,
    progress: Callable[[str], None],
) -> None:
    default = default_partition_name(spec.table)
    cursor.execute(f"SELECT count(*), min({KEY}), max({KEY}) FROM {_q(default)}")  # noqa: S608
    rows, oldest, newest = cursor.fetchone()
    report.in_default = rows
    if rows:
        report.default_span = (oldest, newest)
        message = (
            f"{spec.table}: {rows} row(s) in {default}, dated {oldest:%Y-%m-%d} to "
            f"{newest:%Y-%m-%d}: outside the months kept, left there"
        )
        logger.warning("Partitions: %s.", message)
        progress(message)


# --- migrations ----------------------------------------------------------------------------------


def partition_table_operation(table: str) -> Any:
    """The migration operation converting `table` (and, reversed, converting it back)."""
    from django.db import migrations

    def forward(apps: Any, schema_editor: Any) -> None:
        with schema_editor.connection.cursor() as cursor:
            table_partition_convert(cursor, table)

    def backward(apps: Any, schema_editor: Any) -> None:
        with schema_editor.connection.cursor() as cursor:
            table_partition_revert(cursor, table)

    return migrations.RunPython(forward, backward)
