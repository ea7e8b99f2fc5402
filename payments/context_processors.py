"""Every page says when the shop takes no money (the built-in test gateway is live)."""

from __future__ import annotations

from django.http import HttpRequest

from payments.gateways import gateway_live


def payment_mode(request: HttpRequest) -> dict[str, bool]:
    return {"test_payments": gateway_live() == "test"}
