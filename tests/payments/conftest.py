import pytest
import stripe

from tests.payments.stripe_fake import FakeStripeServer


@pytest.fixture
def stripe_server():
    """A fake Stripe API on 127.0.0.1 and a free port, with fresh state for each test; see
    docs/testing-stripe.md. The test fails if the fake itself crashed while answering."""
    with FakeStripeServer() as server:
        yield server
    assert not server.internal_errors, "the Stripe fake crashed:\n" + "\n".join(
        server.internal_errors
    )


@pytest.fixture
def stripe_client(stripe_server):
    """A real stripe.StripeClient talking to the fake (no retries, 10 s timeout)."""
    return stripe_server.client()


@pytest.fixture
def stripe_settings(stripe_server, settings, monkeypatch):
    """The STRIPE_* settings and stripe-python's module-level configuration pointed at the
    fake, for code that reads them rather than taking a client."""
    settings.STRIPE_SECRET_KEY = stripe_server.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = stripe_server.publishable_key
    settings.STRIPE_WEBHOOK_SECRET = stripe_server.webhook_secret
    settings.STRIPE_API_BASE = stripe_server.url
    monkeypatch.setattr(stripe, "api_key", stripe_server.secret_key)
    monkeypatch.setattr(stripe, "api_base", stripe_server.url)
    return stripe_server
