"""Real servers for the scale-out tests (shop/localcluster.py): a primary holding a copy of the
test database, a streaming replica of it, PgBouncer. Each skips with the reason when its
binaries are not installed (.ci/run installs them)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import connections

from shop import localcluster


@dataclass
class Replicated:
    primary: localcluster.Cluster
    replica: localcluster.Cluster
    dbname: str

    def replay_pause(self) -> None:
        """The replica keeps receiving WAL but stops applying it: it falls behind. Caught up
        first: paused in the middle of a replayed transaction that took a lock (the previous
        test's TRUNCATE flush), replay would keep that lock and block the replica's reads."""
        localcluster.replica_wait_caught_up(self.primary, self.replica)
        self.replica.psql("SELECT pg_wal_replay_pause()")

    def replay_resume(self) -> None:
        self.replica.psql("SELECT pg_wal_replay_resume()")
        localcluster.replica_wait_caught_up(self.primary, self.replica)

    def received_all(self) -> None:
        """Until the replica has received (not necessarily applied) all the primary wrote."""
        import time

        target = self.primary.psql("SELECT pg_current_wal_lsn()")
        for _ in range(600):
            if self.replica.psql(f"SELECT pg_last_wal_receive_lsn() >= '{target}'") == "t":
                return
            time.sleep(0.05)
        raise TimeoutError("the replica did not receive the primary's WAL")


def _server_major() -> int:
    return connections["default"].pg_version // 10000


def _alias_add(alias: str, **where: object) -> None:
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict.update(where)
    # a statement stuck behind replay (a bug in a test) fails in 20 s instead of hanging
    settings_dict["OPTIONS"] = {
        **settings_dict.get("OPTIONS", {}),
        "connect_timeout": 2,
        "options": "-c statement_timeout=20000",
    }
    # a mirror: the test runner neither creates nor flushes it
    settings_dict["TEST"] = {**settings_dict["TEST"], "MIRROR": "default"}
    connections.settings[alias] = settings_dict


def _alias_remove(alias: str) -> None:
    if alias in connections.settings:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@contextmanager
def _replicated() -> Iterator[Replicated]:
    """A primary holding a copy of the test database and a streaming replica of it: "default"
    points at the primary, "replica" at the replica, and "replica_down" at a port nothing
    listens on. Put back as they were afterwards."""
    major = _server_major()
    try:
        localcluster.postgres_bindir(major)
    except localcluster.Missing as exc:
        pytest.skip(f"No streaming replica: {exc}")
    default = connections["default"].settings_dict
    saved = copy.deepcopy(default)
    primary = localcluster.primary_create(major=major)
    replica = None
    try:
        dbname = localcluster.database_copy(source=default, target=primary, major=major)
        replica = localcluster.replica_create(primary)
        localcluster.replica_wait_caught_up(primary, replica)
        connections["default"].close()
        default.update(primary.settings(dbname), PASSWORD="")
        _alias_add("replica", **replica.settings(dbname))
        _alias_add("replica_down", PORT=str(localcluster.free_port()))
        yield Replicated(primary=primary, replica=replica, dbname=dbname)
    finally:
        _alias_remove("replica")
        _alias_remove("replica_down")
        connections["default"].close()
        default.clear()
        default.update(saved)
        if replica is not None:
            replica.remove()
        primary.remove()


@pytest.fixture(scope="module")
def replicated(django_db_setup, django_db_blocker):
    """The module's tests run on their own primary with a streaming replica (`_replicated`)."""
    with django_db_blocker.unblock(), _replicated() as servers:
        yield servers


@pytest.fixture
def replicated_once(django_db_setup, django_db_blocker):
    """As `replicated`, for one test: a failover leaves no primary with a replica behind."""
    with django_db_blocker.unblock(), _replicated() as servers:
        yield servers


@pytest.fixture
def replicas_on(settings):
    """The router's settings for the module's replica; lag asked afresh on every read."""
    settings.DATABASE_REPLICAS = ["replica"]
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 3600
    return settings


@pytest.fixture(scope="module")
def pgbouncer(django_db_setup, django_db_blocker):
    """PgBouncer in transaction mode, two server connections, in front of the test database's
    server; "default" goes through it with the settings DATABASE_PGBOUNCER=1 makes (no
    server-side cursors). Put back as it was afterwards."""
    try:
        localcluster.pgbouncer_binary()
    except localcluster.Missing as exc:
        pytest.skip(f"No PgBouncer: {exc}")
    with django_db_blocker.unblock():
        default = connections["default"].settings_dict
        if not default.get("HOST") or str(default["HOST"]).startswith("/"):
            pytest.skip(
                "No PgBouncer: the test database is reached over a unix socket (the embedded "
                "PostgreSQL); set DATABASE_URL to a server on TCP."
            )
        saved = copy.deepcopy(default)
        bouncer = localcluster.bouncer_start(
            host=str(default["HOST"]), port=int(default.get("PORT") or 5432)
        )
        try:
            connections["default"].close()
            default.update(bouncer.settings(str(default["NAME"])))
            default["DISABLE_SERVER_SIDE_CURSORS"] = True
            yield bouncer
        finally:
            connections["default"].close()
            default.clear()
            default.update(saved)
            bouncer.stop()
