"""Webhook deliveries as Stripe signs them (docs.stripe.com/webhooks#verify-manually): the
`Stripe-Signature` header is `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with
the endpoint secret>`. Computed here independently of stripe-python, so its
`Webhook.construct_event` is checked against the scheme rather than against itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(event: dict[str, Any]) -> bytes:
    """The body Stripe posts: the event as JSON, indented by two spaces."""
    return json.dumps(event, indent=2).encode()


@dataclass(frozen=True)
class SignedWebhook:
    """One delivery: post `payload` with `headers` (Django test client:
    `client.post(url, data=hook.payload, content_type="application/json",
    headers=hook.headers)`), or `hook.post(live_server_url)`."""

    event_id: str
    event_type: str
    payload: bytes
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Stripe-Signature": self.signature}

    def post(self, url: str, *, timeout: float = 10.0) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310 - a test URL the caller gives
            url,
            data=self.payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                **self.headers,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
