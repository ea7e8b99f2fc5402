"""The client's address, for per-client limits. Behind reverse proxies REMOTE_ADDR is the last
proxy, so every client would share one address; `SHOP_TRUSTED_PROXY_COUNT` says how many
proxies in front of the app append to X-Forwarded-For."""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest

logger = logging.getLogger(__name__)


def client_ip(*, request: HttpRequest) -> str:
    """REMOTE_ADDR with no trusted proxy. With N, the Nth address from the right of
    X-Forwarded-For: the one the outermost trusted proxy saw connecting. Anything to its left
    was sent by the client and is never used. A port some balancers append (`1.2.3.4:5678`,
    `[2001:db8::1]:443`) is dropped. A header shorter than the proxy chain, or an entry that is
    not an IP address, falls back to REMOTE_ADDR with a warning (the app must be reachable only
    through its proxies)."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.SHOP_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies:
        return remote_addr
    entry = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(_without_port(entry)))
    except ValueError:
        logger.warning(
            "X-Forwarded-For entry %r (SHOP_TRUSTED_PROXY_COUNT=%s) is not an address; "
            "using REMOTE_ADDR, which every client behind the proxy shares.",
            entry,
            proxies,
        )
        return remote_addr


def _without_port(entry: str) -> str:
    if entry.startswith("["):  # [IPv6]:port
        return entry[1:].split("]", 1)[0]
    if entry.count(":") == 1:  # IPv4:port (a bare IPv6 address has several colons)
        return entry.split(":", 1)[0]
    return entry
