"""What the storefront's payment pages need from payments: Stripe.js must come from Stripe
(PCI: card fields are Stripe's iframes), so only those pages widen the Content Security Policy,
and only for Stripe's origins."""

from __future__ import annotations

from django.http import HttpResponse

STRIPE_JS = "https://js.stripe.com"
STRIPE_CSP = {
    "script-src": [STRIPE_JS],
    "frame-src": [STRIPE_JS, "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def stripe_js_allowed(response: HttpResponse) -> HttpResponse:
    """Let this page load Stripe.js and its frames (what django-csp's `csp_update` decorator
    sets: the page decides at run time whether Stripe is the live gateway)."""
    from payments.gateways import gateway_live

    if gateway_live() == "stripe":
        response._csp_update = STRIPE_CSP  # type: ignore[attr-defined]
    return response
