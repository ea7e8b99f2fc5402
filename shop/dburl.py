"""DATABASE_URL to a Django DATABASES entry, including libpq's multi-host form.

`postgres://u@db1:5432,db2:5432/shop?target_session_attrs=read-write` names every server of a
primary/standby pair; libpq tries them in order and keeps the first that accepts writes, so
after a failover the app reconnects to the promoted server by itself (docs/operations.md,
"Failover"). dj_database_url refuses such a URL (a netloc with commas is no URL to urllib), so
the hosts are taken out, the rest parsed by dj_database_url as usual, and HOST and PORT set to
the comma-separated lists libpq expects (Django passes them through to psycopg unchanged).

No Django import here: settings.py calls it.
"""

from __future__ import annotations

import dj_database_url
from dj_database_url import DBConfig

DEFAULT_PORT = "5432"


def _host_port(item: str) -> tuple[str, str]:
    if item.startswith("["):  # [ipv6]:port
        host, _, rest = item[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = item.partition(":")
    return host, port


def database_url_parse(url: str, *, conn_max_age: int | None) -> DBConfig:
    """dj_database_url.parse(url), with several `host:port` in the URL's authority allowed."""
    scheme, sep, rest = url.partition("://")
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    userinfo, at, hosts = rest[:authority_end].rpartition("@")
    if not sep or "," not in hosts:
        return dj_database_url.parse(url, conn_max_age=conn_max_age)
    pairs = [_host_port(item) for item in hosts.split(",")]
    if any(not host for host, _ in pairs):
        raise ValueError(f"An empty host in the DATABASE_URL's host list {hosts!r}.")
    first = hosts.split(",")[0]
    config = dj_database_url.parse(
        f"{scheme}://{userinfo}{at}{first}{rest[authority_end:]}", conn_max_age=conn_max_age
    )
    config["HOST"] = ",".join(host for host, _ in pairs)
    config["PORT"] = ",".join(port or DEFAULT_PORT for _, port in pairs)
    return config
