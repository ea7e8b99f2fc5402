"""A fake of Stripe's API for tests: see docs/testing-stripe.md."""

from .cards import TEST_PAYMENT_METHODS
from .server import FakeStripeServer, FaultKind, RecordedRequest
from .webhooks import SignedWebhook, signature_header

__all__ = [
    "TEST_PAYMENT_METHODS",
    "FakeStripeServer",
    "FaultKind",
    "RecordedRequest",
    "SignedWebhook",
    "signature_header",
]
