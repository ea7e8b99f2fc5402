"""The client address per-client limits key on: REMOTE_ADDR unless trusted proxies say
otherwise, and never an address the client wrote itself."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from shop.core.clientip import client_ip

PROXY = "10.0.0.1"


def _ip(forwarded_for: str | None = None, remote_addr: str = PROXY) -> str:
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client_ip(request=RequestFactory().get("/", **extra))


def test_without_trusted_proxies_a_client_sent_forwarded_for_is_ignored(settings):
    settings.SHOP_TRUSTED_PROXY_COUNT = 0
    assert _ip(remote_addr="203.0.113.7") == "203.0.113.7"
    assert _ip("198.51.100.1", remote_addr="203.0.113.7") == "203.0.113.7"


def test_one_trusted_proxy_gives_the_address_it_saw_not_a_prepended_fake(settings):
    settings.SHOP_TRUSTED_PROXY_COUNT = 1
    assert _ip("203.0.113.7") == "203.0.113.7"
    assert _ip("198.51.100.1, 203.0.113.7") == "203.0.113.7"  # client sent the first one
    assert _ip("1.1.1.1,2.2.2.2 ,  203.0.113.7") == "203.0.113.7"


def test_two_trusted_proxies_skip_the_inner_one(settings):
    settings.SHOP_TRUSTED_PROXY_COUNT = 2
    # client -> CDN (appends the client) -> load balancer (appends the CDN) -> app
    assert _ip("198.51.100.1, 203.0.113.7, 192.0.2.10") == "203.0.113.7"
    assert _ip("2001:db8::1, 192.0.2.10") == "2001:db8::1"


@pytest.mark.parametrize("forwarded_for", [None, "", "203.0.113.7", "not-an-ip, 192.0.2.10"])
def test_a_header_that_does_not_match_the_proxy_chain_falls_back_to_remote_addr(
    settings, forwarded_for
):
    settings.SHOP_TRUSTED_PROXY_COUNT = 2
    assert _ip(forwarded_for) == PROXY


def test_a_port_the_balancer_appends_is_dropped(settings):
    settings.SHOP_TRUSTED_PROXY_COUNT = 1
    assert _ip("198.51.100.1, 203.0.113.7:51234") == "203.0.113.7"
    assert _ip("[2001:db8::1]:443") == "2001:db8::1"
    assert _ip("2001:db8::1") == "2001:db8::1"


def test_an_entry_that_is_no_address_falls_back_with_a_warning(settings, caplog):
    settings.SHOP_TRUSTED_PROXY_COUNT = 1
    assert _ip("not-an-address") == PROXY
    assert "not an address" in caplog.text
