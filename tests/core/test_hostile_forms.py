"""Hostile values in every storefront and seller portal form. The forms are found the way a
person finds them: a crawl from the home page, the cart, an open checkout and the portal, as a
shopper, a shop owner and a visitor, reading each page's POST forms. Each field then gets a NUL
character, `sNaN`, `1e-999999`, `10**20` and a 100,000-character string, one field at a time,
the other fields keeping what the page filled in. No answer may be a 5xx."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

from orders.services import order_place
from sellers.models import MemberRole
from tests.factories import SellerMemberFactory, UserFactory
from tests.factories.inventory import WarehouseFactory
from tests.orders.conftest import Market

pytestmark = pytest.mark.django_db

HOSTILE = {
    "nul": "a\x00b",
    "snan": "sNaN",
    "tiny": "1e-999999",
    "huge": str(10**20),
    "long": "x" * 100_000,
}
MAX_PAGES = 120
# forms that end the session or the account being crawled
SKIP_ACTIONS = ("/accounts/logout/", "/accounts/delete/")
CRAWLED_PREFIXES = ("/", "/c/", "/p/", "/s/", "/cart/", "/checkout/", "/orders/", "/seller/")
NOT_CRAWLED = ("/api/", "/admin/", "/static/", "/media/", "/accounts/logout/")


class _Forms(HTMLParser):
    """Links and POST forms (action, fields with their page values) of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, dict[str, str], set[str]]] = []
        self._form: tuple[str, dict[str, str], set[str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form" and a.get("method", "get").lower() == "post":
            self._form = (a.get("action", ""), {}, set())
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind == "file":
                self._form[2].add(a["name"])
            elif kind not in ("checkbox", "radio", "submit", "button") or "checked" in a:
                self._form[1].setdefault(a["name"], a.get("value", ""))
            else:
                self._form[2].add(a["name"])
        elif tag == "select":
            self._select = a["name"]
            self._form[1].setdefault(a["name"], "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form[1].setdefault(a["name"], "")

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form[1][self._textarea] += data

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class _OptionAware(_Forms):
    def handle_starttag(self, tag, attrs):
        if tag == "option" and self._form is not None and self._select:
            a = {k: v or "" for k, v in attrs}
            fields = self._form[1]
            if not fields.get(self._select) or "selected" in a:
                fields[self._select] = a.get("value", "")
            return
        super().handle_starttag(tag, attrs)


def crawl(
    client: Client, seeds: list[str]
) -> dict[tuple[str, frozenset], tuple[str, dict[str, str]]]:
    """Every distinct POST form reachable from the seeds: (action pattern, field names) ->
    (action, values)."""
    seen: set[str] = set()
    queue = list(seeds)
    forms: dict[tuple[str, frozenset], tuple[str, dict[str, str]]] = {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code < 500, url
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        page = _OptionAware()
        page.feed(response.content.decode())
        for action, fields, extra in page.forms:
            target = urlsplit(urljoin(url, action or url)).path
            # one form per kind: the same form for another object adds nothing
            key = (re.sub(r"/[0-9]+/", "/N/", target), frozenset(fields) | frozenset(extra))
            forms.setdefault(key, (target, fields))
        for href in page.links:
            parts = urlsplit(urljoin(url, href))
            path = parts.path
            if parts.netloc not in ("", "testserver") or parts.query or path in seen:
                continue
            if path.startswith(NOT_CRAWLED) or not path.startswith(CRAWLED_PREFIXES):
                continue
            queue.append(path)
    return forms


def attack(client: Client, forms: dict[tuple[str, frozenset], tuple[str, dict[str, str]]]) -> int:
    sent = 0
    for _, (action, fields) in sorted(forms.items(), key=lambda item: item[0][0]):
        if action.startswith(SKIP_ACTIONS):
            continue
        for name in fields:
            if name == "csrfmiddlewaretoken":
                continue
            for kind, value in HOSTILE.items():
                response = client.post(action, {**fields, name: value})
                sent += 1
                assert response.status_code < 500, f"{kind} in {name} of {action}"
    return sent


@pytest.fixture
def market(db):
    return Market(stock=50)


def test_hostile_values_in_every_shopper_form_are_never_a_5xx(market):
    user = UserFactory()
    order_place(
        checkout=market.ready_checkout(user=user, lines=[(market.a1, 1)]), payment_token="tok_visa"
    )
    checkout = market.ready_checkout(user=user, lines=[(market.a1, 1), (market.b1, 1)])
    client = Client()
    client.force_login(user)
    token = checkout.token
    seeds = [
        "/",
        f"/p/{market.a1.product.slug}/",
        f"/s/{market.alpha.slug}/",
        "/cart/",
        "/cart/wishlist/",
        "/orders/",
        f"/checkout/{token}/address/",
        f"/checkout/{token}/shipping/",
        f"/checkout/{token}/review/",
        "/accounts/settings/",
    ]

    forms = crawl(client, seeds)

    actions = {action for action, _ in forms.values()}
    assert {"/cart/add/", "/cart/voucher/", f"/checkout/{token}/address/"} <= actions
    assert {"/accounts/settings/password/", "/accounts/settings/email/"} <= actions
    assert attack(client, forms) > 50


def test_hostile_values_in_every_seller_portal_form_are_never_a_5xx(market):
    owner = SellerMemberFactory(seller=market.alpha, role=MemberRole.OWNER).user
    WarehouseFactory(seller=market.alpha)
    client = Client()
    client.force_login(owner)

    forms = crawl(
        client,
        ["/seller/", "/seller/products/", "/seller/inventory/", "/accounts/settings/two-factor/"],
    )

    actions = {action for action, _ in forms.values()}
    assert "/seller/settings/" in actions and "/seller/inventory/receive/" in actions
    assert "/accounts/settings/two-factor/" in actions
    assert attack(client, forms) > 100


def test_hostile_values_in_every_visitor_form_are_never_a_5xx(market):
    client = Client()

    forms = crawl(
        client,
        [
            "/",
            "/accounts/login/",
            "/accounts/signup/",
            "/accounts/password-reset/",
            "/orders/find/",
            "/sellers/apply/",
        ],
    )

    actions = {action for action, _ in forms.values()}
    assert {"/accounts/login/", "/accounts/signup/", "/orders/find/"} <= actions
    assert "/accounts/password-reset/" in actions
    assert attack(client, forms) > 20
