"""The client's address, for per-client limits. Behind reverse proxies REMOTE_ADDR is the last
proxy, so every client would share one address; `SHOP_TRUSTED_PROXY_COUNT` says how many
proxies in front of the app append to X-Forwarded-For."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(*, request: HttpRequest) -> str:
    """REMOTE_ADDR with no trusted proxy. With N, the Nth address from the right of
    X-Forwarded-For: the one the outermost trusted proxy saw connecting. Anything to its left
    was sent by the client and is never used. A header shorter than the proxy chain, or an
    entry that is not an IP address, falls back to REMOTE_ADDR (the app must be reachable only
    through its proxies)."""
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.SHOP_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote_addr
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies:
        return remote_addr
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return remote_addr
