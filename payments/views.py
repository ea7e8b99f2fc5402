"""Payments' own web endpoints: the Stripe webhook, and the built-in test gateway's
authentication page (what a bank's 3-D Secure page is to Stripe)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.gateways import GatewayRefused, gateway_live
from payments.services import WebhookRejected, webhook_receive


@csrf_exempt  # signed by Stripe instead (verified on the raw body)
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        webhook_receive(
            gateway="stripe",
            payload=request.body,
            signature=request.headers.get("Stripe-Signature", ""),
        )
    except WebhookRejected as exc:
        return HttpResponseBadRequest(exc.message)
    return HttpResponse(status=200)


def test_authenticate(request: HttpRequest, reference: str) -> HttpResponse:
    """The test gateway's stand-in for a bank's 3-D Secure page: approve or fail, then back to
    where the shop asked to return."""
    if gateway_live() != "test":
        raise Http404("The test gateway is not in use.")
    from payments.gateways.test import TestGateway
    from payments.models import TestIntent

    intent = TestIntent.objects.filter(reference=reference[:40]).first()
    if intent is None:
        raise Http404("No such test payment.")
    if request.method == "POST":
        try:
            TestGateway().authenticate(
                reference=intent.reference, succeed=request.POST.get("decision") == "approve"
            )
        except GatewayRefused as exc:
            raise Http404(str(exc)) from exc
        target = intent.return_url
        if not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            target = "/"
        return redirect(target)
    return render(request, "payments/test_authenticate.html", {"intent": intent})
